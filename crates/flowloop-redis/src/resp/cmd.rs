//! [`Cmd`]: one command as a list of binary-safe arguments.

use bytes::BytesMut;
use redis_protocol::resp2::encode::extend_encode_borrowed;
use redis_protocol::resp2::types::BorrowedFrame;

/// One command: a name and binary-safe arguments, sent as a RESP array of bulk strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    /// A command with just its name, e.g. `Cmd::new("PING")`.
    pub fn new(name: &str) -> Cmd {
        Cmd {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Cmd {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends an integer argument in decimal.
    pub fn int(self, n: i64) -> Cmd {
        self.arg(n.to_string())
    }

    /// Appends several arguments.
    pub fn args<I, A>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_vec()));
        self
    }

    /// The command name, for error messages.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.args[0]).into_owned()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        let frames: Vec<BorrowedFrame<'_>> = self.args.iter().map(|a| BorrowedFrame::BulkString(a)).collect();
        extend_encode_borrowed(out, &BorrowedFrame::Array(&frames), false)
            .expect("encoding an array of bulk strings into a growable buffer cannot fail");
    }
}
