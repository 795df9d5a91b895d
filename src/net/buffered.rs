//! [`BufReader`] (lines, delimited records, exact reads) and [`BufWriter`] (coalesced writes
//! with an explicit [`flush`](BufWriter::flush)) over any [`ByteSource`] / [`ByteSink`].

use std::io;

use super::io::{ByteSink, ByteSource};

/// Default buffer size of [`BufReader::new`] and [`BufWriter::new`].
pub const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// Default longest record [`BufReader::read_line`] and [`BufReader::read_until`] accept.
pub const DEFAULT_LINE_LIMIT: usize = 64 * 1024;

/// How a [`BufReader::read_line`] or [`BufReader::read_until`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Line {
    /// A whole record of this many bytes, delimiter included, was appended.
    Complete(usize),
    /// The stream ended after this many bytes (at least one) without a delimiter; they were
    /// appended. The peer closed mid-record: decide whether a partial record is acceptable.
    Unterminated(usize),
    /// The stream ended before any byte of a new record: nothing was appended.
    Eof,
}

impl Line {
    /// How many bytes were appended (`0` for [`Line::Eof`]).
    pub fn bytes(self) -> usize {
        match self {
            Line::Complete(n) | Line::Unterminated(n) => n,
            Line::Eof => 0,
        }
    }

    /// Whether a whole, delimited record was read.
    pub fn is_complete(self) -> bool {
        matches!(self, Line::Complete(_))
    }
}

/// A record longer than the reader's limit (the inner error of the [`io::Error`], kind
/// `InvalidData`, that [`BufReader::read_line`] and [`BufReader::read_until`] return).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "a line (record ending in byte {delimiter:#04x}) is longer than the limit of {limit} bytes; \
     raise it with BufReader::set_line_limit or close the connection"
)]
#[non_exhaustive]
pub struct LineTooLong {
    /// The limit in force, in bytes (delimiter included).
    pub limit: usize,
    /// The delimiter that was looked for.
    pub delimiter: u8,
}

/// Adds a buffer to a [`ByteSource`], with line, record and exact reads.
///
/// Records ([`read_until`](BufReader::read_until), [`read_line`](BufReader::read_line)) stay in
/// the buffer until their delimiter arrives, so both are cancel-safe: a dropped call consumes
/// nothing and the next call starts the same record again. The buffer grows to hold a record up
/// to the [line limit](BufReader::set_line_limit) ([`DEFAULT_LINE_LIMIT`] unless set); a longer
/// record is an error, so a peer cannot make the reader buffer without bound.
///
/// # Examples
/// ```
/// use flowloop::net::{BufReader, Line, TcpListener, TcpStream};
/// # flowloop::run(async {
/// let mut listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let mut client = TcpStream::connect(addr).await?;
/// client.send_all(b"first line\nsecond").await?;
/// client.shutdown(std::net::Shutdown::Write)?;
/// let (conn, _) = listener.accept().await?;
/// let mut reader = BufReader::new(conn);
/// let mut line = String::new();
/// assert_eq!(reader.read_line(&mut line).await?, Line::Complete(11));
/// assert_eq!(line, "first line\n");
/// line.clear();
/// assert_eq!(reader.read_line(&mut line).await?, Line::Unterminated(6));
/// assert_eq!(reader.read_line(&mut line).await?, Line::Eof);
/// # std::io::Result::Ok(())
/// # }).unwrap().unwrap();
/// ```
#[derive(Debug)]
pub struct BufReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
    /// End of the unread bytes in `buf`.
    filled: usize,
    /// Capacity the buffer returns to once a long record was consumed.
    capacity: usize,
    line_limit: usize,
}

impl<R: ByteSource> BufReader<R> {
    /// A reader with a [`DEFAULT_BUF_SIZE`] buffer.
    pub fn new(inner: R) -> BufReader<R> {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A reader with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        let capacity = capacity.max(1);
        BufReader {
            inner,
            buf: vec![0; capacity],
            pos: 0,
            filled: 0,
            capacity,
            line_limit: DEFAULT_LINE_LIMIT,
        }
    }

    /// Sets the longest record (delimiter included) that `read_line` / `read_until` accept.
    pub fn set_line_limit(&mut self, limit: usize) {
        self.line_limit = limit.max(1);
    }

    /// The longest record `read_line` / `read_until` accept.
    pub fn line_limit(&self) -> usize {
        self.line_limit
    }

    /// The bytes received but not yet consumed.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// Marks the first `n` buffered bytes as read (at most [`buffer`](BufReader::buffer)'s
    /// length).
    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
        if self.pos == self.filled {
            self.reset();
        }
    }

    /// Returns the buffered bytes, receiving more first if none are buffered. An empty slice
    /// means end of stream.
    ///
    /// # Errors
    /// The inner stream's errors.
    pub async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.reset();
            self.receive().await?;
        }
        Ok(self.buffer())
    }

    /// Appends bytes up to and including `delimiter` to `out`.
    ///
    /// Cancel-safe: nothing is consumed until the record is complete (or the stream ends).
    ///
    /// # Errors
    /// Kind `InvalidData` with a [`LineTooLong`] inside if no delimiter came within the
    /// [line limit](BufReader::set_line_limit) (nothing is appended; the long record stays
    /// unread, so the usual answer is to close the connection); the inner stream's errors
    /// (for example, connection reset).
    pub async fn read_until(&mut self, delimiter: u8, out: &mut Vec<u8>) -> io::Result<Line> {
        let (len, line) = self.find_record(delimiter).await?;
        out.extend_from_slice(&self.buf[self.pos..self.pos + len]);
        self.consume(len);
        Ok(line)
    }

    /// Appends one line, `\n` included, to `out` (a `\r` before it is kept too).
    ///
    /// Cancel-safe like [`read_until`](BufReader::read_until).
    ///
    /// # Errors
    /// As [`read_until`](BufReader::read_until); kind `InvalidData` if the line is not UTF-8
    /// (the line is consumed, nothing is appended).
    pub async fn read_line(&mut self, out: &mut String) -> io::Result<Line> {
        let (len, line) = self.find_record(b'\n').await?;
        let text = std::str::from_utf8(&self.buf[self.pos..self.pos + len]).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a received line is not valid UTF-8 ({e}); use read_until for bytes"),
            )
        });
        let appended = text.map(|t| out.push_str(t));
        self.consume(len);
        appended.map(|()| line)
    }

    /// Fills `buf` completely.
    ///
    /// Not cancel-safe: bytes copied into `buf` before the future was dropped are consumed.
    ///
    /// # Errors
    /// Kind `UnexpectedEof` if the stream ended first (the message says how many bytes came);
    /// the inner stream's errors.
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let mut got = 0;
        while got < buf.len() {
            match self.recv_buffered(&mut buf[got..]).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("the stream ended after {got} of the {} bytes expected", buf.len()),
                    ));
                }
                n => got += n,
            }
        }
        Ok(())
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner stream. Reading from it directly skips the buffered bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner stream and the bytes that were buffered but not read.
    pub fn into_parts(self) -> (R, Vec<u8>) {
        let rest = self.buf[self.pos..self.filled].to_vec();
        (self.inner, rest)
    }

    /// The inner stream; bytes still buffered are lost (see
    /// [`into_parts`](BufReader::into_parts)).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Like [`ByteSource::recv`] but served from the buffer first; reads larger than the buffer
    /// bypass it when it is empty.
    async fn recv_buffered(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled && out.len() >= self.capacity {
            return self.inner.recv(out).await;
        }
        let have = self.fill_buf().await?;
        let n = have.len().min(out.len());
        out[..n].copy_from_slice(&have[..n]);
        self.consume(n);
        Ok(n)
    }

    /// Finds the next record ending in `delimiter`, receiving as needed. Returns its length
    /// (from `pos`) and how it ended; consumes nothing.
    async fn find_record(&mut self, delimiter: u8) -> io::Result<(usize, Line)> {
        let mut scanned = 0;
        loop {
            let unread = &self.buf[self.pos..self.filled];
            if let Some(i) = unread[scanned..].iter().position(|&b| b == delimiter) {
                let len = scanned + i + 1;
                return match len > self.line_limit {
                    true => Err(self.too_long(delimiter)),
                    false => Ok((len, Line::Complete(len))),
                };
            }
            scanned = unread.len();
            if scanned >= self.line_limit {
                return Err(self.too_long(delimiter));
            }
            self.make_room();
            if self.receive().await? == 0 {
                return Ok(match scanned {
                    0 => (0, Line::Eof),
                    n => (n, Line::Unterminated(n)),
                });
            }
        }
    }

    fn too_long(&self, delimiter: u8) -> io::Error {
        let limit = self.line_limit;
        io::Error::new(io::ErrorKind::InvalidData, LineTooLong { limit, delimiter })
    }

    /// Ensures free space after `filled`: moves the unread bytes to the front, and grows the
    /// buffer (up to one byte past the line limit) if they fill it.
    fn make_room(&mut self) {
        if self.filled < self.buf.len() {
            return;
        }
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.pos = 0;
        if self.filled == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.line_limit + 1).max(self.filled + 1);
            self.buf.resize(grown, 0);
        }
    }

    /// Receives once into the free space after `filled`.
    async fn receive(&mut self) -> io::Result<usize> {
        let n = self.inner.recv(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        Ok(n)
    }

    /// Empties the buffer, shrinking it back if a long record grew it.
    fn reset(&mut self) {
        self.pos = 0;
        self.filled = 0;
        if self.buf.len() > self.capacity {
            self.buf.truncate(self.capacity);
            self.buf.shrink_to_fit();
        }
    }
}

impl<R: ByteSource> ByteSource for BufReader<R> {
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.recv_buffered(buf).await
    }
}

/// Adds a buffer to a [`ByteSink`]: small writes are collected and sent together.
///
/// Bytes reach the stream when the buffer is full, on [`flush`](BufWriter::flush), or at once
/// for a write larger than the buffer. Nothing is sent when the writer is dropped: flush first
/// (or take the unsent bytes back with [`into_parts`](BufWriter::into_parts)).
///
/// # Examples
/// ```
/// use flowloop::net::{BufWriter, TcpListener, TcpStream};
/// # flowloop::run(async {
/// let mut listener = TcpListener::bind("127.0.0.1:0")?;
/// let client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut conn, _) = listener.accept().await?;
/// let mut out = BufWriter::new(client);
/// out.write_all(b"HTTP/1.1 200 OK\r\n").await?;
/// out.write_all(b"content-length: 0\r\n\r\n").await?;
/// out.flush().await?; // one send for both writes
/// let mut buf = [0u8; 64];
/// let mut got = 0;
/// while got < 38 {
///     got += conn.recv(&mut buf[got..]).await?;
/// }
/// assert!(buf.starts_with(b"HTTP/1.1 200 OK"));
/// # std::io::Result::Ok(())
/// # }).unwrap().unwrap();
/// ```
#[derive(Debug)]
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    /// Bytes of `buf` already sent (a flush that was cancelled part-way).
    sent: usize,
    capacity: usize,
}

impl<W: ByteSink> BufWriter<W> {
    /// A writer with a [`DEFAULT_BUF_SIZE`] buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A writer with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            sent: 0,
            capacity,
        }
    }

    /// Buffers all of `data`, sending the buffer first when `data` does not fit; data at least
    /// as large as the buffer is sent directly.
    ///
    /// # Errors
    /// The inner stream's errors (the unsent bytes stay buffered).
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buf.len() + data.len() > self.capacity {
            self.flush_buf().await?;
        }
        if data.len() >= self.capacity {
            return self.inner.send_all(data).await;
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Sends every buffered byte.
    ///
    /// Cancel-safe: bytes sent before the future was dropped are not sent again.
    ///
    /// # Errors
    /// The inner stream's errors (the unsent bytes stay buffered).
    pub async fn flush(&mut self) -> io::Result<()> {
        self.flush_buf().await
    }

    /// The bytes waiting to be sent.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.sent..]
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner stream. Writing to it directly overtakes the buffered bytes.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner stream and the bytes that were buffered but not sent.
    pub fn into_parts(mut self) -> (W, Vec<u8>) {
        let rest = self.buf.split_off(self.sent);
        (self.inner, rest)
    }

    async fn flush_buf(&mut self) -> io::Result<()> {
        while self.sent < self.buf.len() {
            match self.inner.send(&self.buf[self.sent..]).await? {
                0 => return Err(io::Error::new(io::ErrorKind::WriteZero, "the stream took no bytes")),
                n => self.sent += n,
            }
        }
        self.buf.clear();
        self.sent = 0;
        Ok(())
    }
}

impl<W: ByteSink> ByteSink for BufWriter<W> {
    /// Buffers `buf` (see [`BufWriter::write_all`]); returns its length.
    async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).await.map(|()| buf.len())
    }

    /// Flushes, then ends the inner stream's sending direction.
    async fn shutdown_write(&mut self) -> io::Result<()> {
        self.flush_buf().await?;
        self.inner.shutdown_write().await
    }
}

impl<R: ByteSink> ByteSink for BufReader<R> {
    /// Sends straight to the inner stream (a buffered reader over a whole stream can still
    /// write).
    async fn send(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    async fn shutdown_write(&mut self) -> io::Result<()> {
        self.inner.shutdown_write().await
    }
}

impl<W: ByteSource> ByteSource for BufWriter<W> {
    /// Receives straight from the inner stream (a buffered writer over a whole stream can
    /// still read).
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }
}
