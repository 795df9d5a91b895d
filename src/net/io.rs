//! [`ByteSource`] and [`ByteSink`]: the read and write operations every flowloop stream shares,
//! so that [`BufReader`](super::BufReader), [`BufWriter`](super::BufWriter) and user code can be
//! generic over plain and TLS streams and their halves.

use std::io;

/// Something bytes can be received from: a [`TcpStream`](super::TcpStream), a
/// [`TlsStream`](super::TlsStream), their read halves, a [`BufReader`](super::BufReader), or a
/// type of your own (for example an in-memory stream in a test).
///
/// The futures are `!Send` like every flowloop future: they run on the loop's thread.
///
/// # Examples
/// ```
/// use flowloop::net::ByteSource;
///
/// /// Reads until end of stream from any flowloop stream or read half.
/// async fn read_to_end<S: ByteSource>(src: &mut S) -> std::io::Result<Vec<u8>> {
///     let mut out = Vec::new();
///     let mut buf = [0u8; 4096];
///     loop {
///         match src.recv(&mut buf).await? {
///             0 => return Ok(out),
///             n => out.extend_from_slice(&buf[..n]),
///         }
///     }
/// }
/// # let _ = read_to_end::<flowloop::net::TcpStream>;
/// ```
// flowloop futures never cross threads, so the missing `Send` bound the lint warns about is the
// point, not an oversight.
#[allow(async_fn_in_trait)]
pub trait ByteSource {
    /// Reads into `buf`; returns how many bytes were read, `0` at end of stream (or when `buf`
    /// is empty).
    ///
    /// # Errors
    /// The stream's errors (connection reset, TLS errors, ...).
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
}

/// Something bytes can be sent to: a [`TcpStream`](super::TcpStream), a
/// [`TlsStream`](super::TlsStream), their write halves, a [`BufWriter`](super::BufWriter), or a
/// type of your own.
#[allow(async_fn_in_trait)]
pub trait ByteSink {
    /// Writes some of `buf`; returns how many bytes were taken (at least one unless `buf` is
    /// empty).
    ///
    /// # Errors
    /// The stream's errors (broken pipe, connection reset, ...).
    async fn send(&mut self, buf: &[u8]) -> io::Result<usize>;

    /// Writes all of `buf`, waiting while the stream cannot take more.
    ///
    /// # Errors
    /// As [`ByteSink::send`]; a prefix of `buf` may have been sent.
    async fn send_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.send(buf).await?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "the stream took no bytes"));
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Ends the sending direction: the peer reads end of stream after everything sent so far
    /// (a TCP half-close; TLS sends `close_notify` first; a [`BufWriter`](super::BufWriter)
    /// flushes first). Reading goes on.
    ///
    /// # Errors
    /// The stream's errors while flushing or shutting down.
    async fn shutdown_write(&mut self) -> io::Result<()>;
}

impl<T: ByteSource + ?Sized> ByteSource for &mut T {
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).recv(buf).await
    }
}

impl<T: ByteSink + ?Sized> ByteSink for &mut T {
    async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        (**self).send(buf).await
    }

    async fn send_all(&mut self, buf: &[u8]) -> io::Result<()> {
        (**self).send_all(buf).await
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        (**self).shutdown_write().await
    }
}
