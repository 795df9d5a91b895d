//! A TCP proxy in front of a real redis-server that refuses `HELLO` the way a Redis before 6
//! does (an unknown-command error quoting its arguments) and forwards everything else.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use redis_protocol::resp2::types::OwnedFrame;

/// The proxy; its threads end when the test process does.
pub struct HelloRefusingProxy {
    pub port: u16,
    hellos: Arc<AtomicUsize>,
}

impl HelloRefusingProxy {
    /// Listens on 127.0.0.1:0 and forwards to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> HelloRefusingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("bound listener has an address").port();
        let hellos = Arc::new(AtomicUsize::new(0));
        let counter = hellos.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || serve(client, upstream, &counter));
            }
        });
        HelloRefusingProxy { port, hellos }
    }

    /// How many `HELLO` commands it refused.
    pub fn hellos(&self) -> usize {
        self.hellos.load(Ordering::SeqCst)
    }
}

/// Refuses leading `HELLO` commands, then pipes the connection to the server both ways.
fn serve(mut client: TcpStream, upstream: u16, hellos: &AtomicUsize) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let Some(rest) = refuse_hellos(&mut client, hellos) else {
        return;
    };
    if server.write_all(&rest).is_err() {
        return;
    }
    let (Ok(mut client_w), Ok(mut server_r)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut server_r, &mut client_w);
        let _ = client_w.shutdown(Shutdown::Both);
    });
    let _ = std::io::copy(&mut client, &mut server);
    let _ = server.shutdown(Shutdown::Both);
}

/// Answers `HELLO` frames until the client sends something else; returns the bytes read
/// past them (to forward), `None` when the client left.
fn refuse_hellos(client: &mut TcpStream, hellos: &AtomicUsize) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match redis_protocol::resp2::decode::decode(&buf) {
            Ok(Some((frame, used))) => match hello_args(&frame) {
                Some(args) => {
                    hellos.fetch_add(1, Ordering::SeqCst);
                    let quoted: String = args.iter().map(|a| format!("`{a}`, ")).collect();
                    let reply = format!("-ERR unknown command `HELLO`, with args beginning with: {quoted}\r\n");
                    client.write_all(reply.as_bytes()).ok()?;
                    buf.drain(..used);
                    continue;
                }
                None => return Some(buf),
            },
            Ok(None) => {}
            Err(_) => return Some(buf),
        }
        let n = client.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The arguments of a `HELLO` command frame.
fn hello_args(frame: &OwnedFrame) -> Option<Vec<String>> {
    let OwnedFrame::Array(parts) = frame else {
        return None;
    };
    let words: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            OwnedFrame::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect();
    let (name, args) = words.split_first()?;
    name.eq_ignore_ascii_case("HELLO").then(|| args.to_vec())
}
