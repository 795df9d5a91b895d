//! Request → flow → reply: connections' requests come out of one [`Requests`] stream (for
//! example into a flow's source node), and each reply goes back to its own connection through
//! the request's [`ReplyTo`].
//!
//! Per connection, one task reads requests and one task writes replies (the stream's two
//! halves), so a slow client never holds up the others and replies can be produced in any
//! order: they are written in request order.
//!
//! # Connection life cycle
//! 1. **Reading**: the reader task parses requests and queues them; [`Requests::next`] hands
//!    them out.
//! 2. **Draining**: the client half-closed (or a read failed, or a line was too long): no more
//!    requests; the writer still sends every reply due.
//! 3. **Closed**: all requests read were answered (or a write failed): the writer half-closes
//!    and the socket closes. A failure is kept in [`Requests::connection_errors`].

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::buffered::{BufReader, BufWriter, DEFAULT_LINE_LIMIT, Line};
use super::io::{ByteSink, ByteSource};
use super::tcp::TcpListener;
use crate::sync::{AsyncIterator, AsyncQueue, Closed, Event};

/// How long the accept loop pauses after `accept` failed (for example: too many open files).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Requests read but not yet taken; when full, connections stop reading (backpressure).
const REQUEST_QUEUE: usize = 1024;

/// One request read from a connection, and the way to answer it.
#[derive(Debug, Clone)]
pub struct Request<T> {
    /// The request (for [`LineServer`]: the line without its `\n` or `\r\n`).
    pub body: T,
    /// Where its reply goes.
    pub reply: ReplyTo,
}

/// Answers one request on the connection it came from. Cheap to clone, so it can travel with
/// the request through a flow's nodes.
///
/// Every request must be answered exactly once: replies are written in request order, so a
/// request never answered holds back the later replies of its connection. An empty reply
/// answers without writing anything.
#[derive(Clone)]
pub struct ReplyTo {
    conn: Rc<Outbox>,
    seq: u64,
}

/// Why a reply could not be queued.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// This request was already answered.
    #[error("request #{seq} from {peer} was already answered (each request takes exactly one reply)")]
    AlreadyAnswered {
        /// The client.
        peer: SocketAddr,
        /// The request's position on its connection, from 0.
        seq: u64,
    },
    /// The connection failed or was closed; the reply cannot be delivered.
    #[error("the connection from {peer} is closed; the reply to request #{seq} was dropped")]
    ConnectionClosed {
        /// The client.
        peer: SocketAddr,
        /// The request's position on its connection, from 0.
        seq: u64,
    },
}

/// A connection that ended with an error (kept by [`Requests::connection_errors`]).
#[derive(Debug)]
pub struct ConnectionError {
    /// The client.
    pub peer: SocketAddr,
    /// What went wrong (reading, a too-long line, writing, or accepting: then `peer` is the
    /// listener's own address).
    pub error: io::Error,
}

/// The reply side of one connection: answered replies waiting for their turn.
struct Outbox {
    peer: SocketAddr,
    state: RefCell<OutboxState>,
    changed: Event,
}

#[derive(Default)]
struct OutboxState {
    /// Replies that arrived, by request number.
    ready: BTreeMap<u64, Vec<u8>>,
    /// Every request below this number was answered (and written or being written).
    next_to_write: u64,
    /// Requests handed out so far.
    issued: u64,
    /// No more requests will come (the reader finished).
    reading_done: bool,
    /// The writer stopped (write error or done): replies can no longer be delivered.
    closed: bool,
}

impl fmt::Debug for ReplyTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("peer", &self.conn.peer)
            .field("seq", &self.seq)
            .finish()
    }
}

impl ReplyTo {
    /// Queues `reply` for this request's connection; the connection's writer sends it once
    /// every earlier request of the connection was answered.
    ///
    /// # Errors
    /// [`ReplyError::AlreadyAnswered`] on a second reply; [`ReplyError::ConnectionClosed`] if
    /// the connection failed.
    pub fn send(&self, reply: impl Into<Vec<u8>>) -> Result<(), ReplyError> {
        let (peer, seq) = (self.conn.peer, self.seq);
        let mut st = self.conn.state.borrow_mut();
        if st.closed {
            return Err(ReplyError::ConnectionClosed { peer, seq });
        }
        if seq < st.next_to_write || st.ready.contains_key(&seq) {
            return Err(ReplyError::AlreadyAnswered { peer, seq });
        }
        st.ready.insert(seq, reply.into());
        drop(st);
        self.conn.changed.set();
        Ok(())
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.conn.peer
    }

    /// The request's position on its connection, from 0.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl Outbox {
    fn new(peer: SocketAddr) -> Rc<Outbox> {
        Rc::new(Outbox {
            peer,
            state: RefCell::default(),
            changed: Event::new(),
        })
    }

    fn issue(self: &Rc<Self>) -> ReplyTo {
        let mut st = self.state.borrow_mut();
        let seq = st.issued;
        st.issued += 1;
        ReplyTo {
            conn: self.clone(),
            seq,
        }
    }

    fn finish_reading(&self) {
        self.state.borrow_mut().reading_done = true;
        self.changed.set();
    }

    /// The replies that may be written now, in order; `None` once every request was answered
    /// and no more will come.
    fn take_due(&self) -> Option<Vec<Vec<u8>>> {
        let st = &mut *self.state.borrow_mut();
        let mut due = Vec::new();
        while let Some(reply) = st.ready.remove(&st.next_to_write) {
            st.next_to_write += 1;
            due.push(reply);
        }
        let finished = st.reading_done && st.next_to_write == st.issued;
        if due.is_empty() && finished {
            return None;
        }
        if due.is_empty() {
            self.changed.clear();
        }
        Some(due)
    }

    fn close(&self) {
        let mut st = self.state.borrow_mut();
        st.closed = true;
        st.ready.clear();
    }
}

/// Writes a connection's replies in request order until all are answered.
async fn write_replies<W: ByteSink>(out: &Outbox, sink: W) -> io::Result<()> {
    let mut sink = BufWriter::new(sink);
    while let Some(due) = out.take_due() {
        if due.is_empty() {
            out.changed.wait().await;
            continue;
        }
        for reply in &due {
            sink.write_all(reply).await?;
        }
        sink.flush().await?;
    }
    sink.shutdown_write().await
}

/// The requests of every connection a server reads, in arrival order. Clone it to hand it to a
/// flow node (clones share one stream). [`next`](Requests::next) returns `None` once the
/// server stopped accepting and every connection's requests were taken.
///
/// Backpressure: at most 1024 requests wait to be taken; while the stream is full, connections
/// are not read (clients see their send buffers fill up), so take requests for as long as the
/// server runs.
pub struct Requests<T> {
    queue: AsyncQueue<Request<T>>,
    errors: Rc<RefCell<Vec<ConnectionError>>>,
    /// Connections still reading, plus one until `stop_accepting`.
    open: Rc<Cell<usize>>,
    /// `stop_accepting` was not called yet.
    accepting: Rc<Cell<bool>>,
}

impl<T> Clone for Requests<T> {
    fn clone(&self) -> Self {
        Requests {
            queue: self.queue.clone(),
            errors: self.errors.clone(),
            open: self.open.clone(),
            accepting: self.accepting.clone(),
        }
    }
}

impl<T> fmt::Debug for Requests<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requests")
            .field("queued", &self.queue.len())
            .field("open", &self.open.get())
            .finish()
    }
}

impl<T: 'static> Default for Requests<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> Requests<T> {
    /// An empty stream to feed with connections yourself (for example from a TLS accept loop,
    /// through [`serve_lines`](Requests::serve_lines)). Call
    /// [`stop_accepting`](Requests::stop_accepting) once no connection will be added, so the
    /// stream can end.
    pub fn new() -> Requests<T> {
        Requests {
            queue: AsyncQueue::bounded(REQUEST_QUEUE),
            errors: Rc::default(),
            open: Rc::new(Cell::new(1)),
            accepting: Rc::new(Cell::new(true)),
        }
    }

    /// No more connections will be added: the stream ends once the connections being read
    /// have ended. Call it only after every connection still in its handshake was added with
    /// [`serve_lines`](Requests::serve_lines) (or failed), for example after joining the
    /// handshake tasks. Idempotent.
    pub fn stop_accepting(&self) {
        if self.accepting.replace(false) {
            self.release();
        }
    }

    /// The next request from any connection; `None` when there will be no more.
    pub async fn next(&self) -> Option<Request<T>> {
        self.queue.get().await.ok()
    }

    /// Connections that ended with an error so far (taken: each is returned once).
    pub fn connection_errors(&self) -> Vec<ConnectionError> {
        std::mem::take(&mut *self.errors.borrow_mut())
    }

    fn record(&self, peer: SocketAddr, error: io::Error) {
        self.errors.borrow_mut().push(ConnectionError { peer, error });
    }

    /// One source (connection or accept loop) ended; the stream ends with the last.
    fn release(&self) {
        let open = self.open.get() - 1;
        self.open.set(open);
        if open == 0 {
            self.queue.close();
        }
    }
}

impl Requests<String> {
    /// Serves one more connection, given as its two halves (for example a [`TlsStream`]'s
    /// after the handshake): its lines join this stream and their replies go back through
    /// `write`. Spawns the connection's reader and writer tasks.
    ///
    /// [`TlsStream`]: super::TlsStream
    pub async fn serve_lines<R, W>(&self, peer: SocketAddr, read: R, write: W, line_limit: usize)
    where
        R: ByteSource + 'static,
        W: ByteSink + 'static,
    {
        self.open.set(self.open.get() + 1);
        let out = Outbox::new(peer);
        let (writer_out, this) = (out.clone(), self.clone());
        crate::spawn(async move {
            if let Err(e) = write_replies(&writer_out, write).await {
                this.record(peer, e);
            }
            writer_out.close();
        })
        .await
        .detach();
        let this = self.clone();
        crate::spawn(async move {
            let mut reader = BufReader::new(read);
            reader.set_line_limit(line_limit);
            if let Err(e) = this.read_lines(&mut reader, &out).await {
                this.record(peer, e);
            }
            out.finish_reading();
            this.release();
        })
        .await
        .detach();
    }

    async fn read_lines<R: ByteSource>(&self, reader: &mut BufReader<R>, out: &Rc<Outbox>) -> io::Result<()> {
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == Line::Eof {
                return Ok(());
            }
            let body = line.strip_suffix('\n').unwrap_or(&line);
            let body = body.strip_suffix('\r').unwrap_or(body).to_owned();
            let request = Request {
                body,
                reply: out.issue(),
            };
            if let Err(Closed(request)) = self.queue.put(request).await {
                // Nobody takes requests any more: answer this one with nothing, so the writer
                // does not wait for it, and stop reading.
                let _ = request.reply.send(Vec::new());
                return Ok(());
            }
        }
    }
}

impl<T: 'static> AsyncIterator for Requests<T> {
    type Item = Request<T>;

    fn next(&mut self) -> impl Future<Output = Option<Request<T>>> {
        Requests::next(self)
    }
}

/// A TCP server of line requests: each line a client sends (up to `\n`) is one request, and
/// each request's reply is written back to that client in order.
///
/// # Examples
/// ```
/// use flowloop::net::{BufReader, LineServer, TcpListener, TcpStream};
/// # flowloop::run(async {
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let requests = LineServer::new(listener).max_connections(1).start().await;
/// // A client sends two lines, then half-closes.
/// let mut client = TcpStream::connect(addr).await?;
/// client.send_all(b"hello\nworld\n").await?;
/// client.shutdown(std::net::Shutdown::Write)?;
/// // The server side (this could be a flow: a source node takes the requests, a later node
/// // answers them).
/// while let Some(req) = requests.next().await {
///     req.reply.send(format!("{}\n", req.body.to_uppercase())).unwrap();
/// }
/// let mut replies = String::new();
/// let mut reader = BufReader::new(client);
/// while reader.read_line(&mut replies).await?.is_complete() {}
/// assert_eq!(replies, "HELLO\nWORLD\n");
/// # std::io::Result::Ok(())
/// # }).unwrap().unwrap();
/// ```
#[derive(Debug)]
pub struct LineServer {
    listener: TcpListener,
    max_connections: Option<usize>,
    line_limit: usize,
}

impl LineServer {
    /// A server on `listener`, accepting connections for ever, lines up to
    /// [`DEFAULT_LINE_LIMIT`].
    pub fn new(listener: TcpListener) -> LineServer {
        LineServer {
            listener,
            max_connections: None,
            line_limit: DEFAULT_LINE_LIMIT,
        }
    }

    /// Stops accepting after `n` connections (the request stream ends once they are read).
    pub fn max_connections(mut self, n: usize) -> LineServer {
        self.max_connections = Some(n);
        self
    }

    /// The longest line accepted (newline included); a longer one ends its connection with a
    /// [`LineTooLong`](super::LineTooLong) error after the earlier replies were written.
    pub fn line_limit(mut self, limit: usize) -> LineServer {
        self.line_limit = limit;
        self
    }

    /// Starts the accept loop in its own task and returns the stream of requests.
    pub async fn start(self) -> Requests<String> {
        let requests = Requests::new();
        let this = requests.clone();
        crate::spawn(async move { self.accept_loop(this).await }).await.detach();
        requests
    }

    async fn accept_loop(mut self, requests: Requests<String>) {
        let mut accepted = 0;
        while self.max_connections.is_none_or(|max| accepted < max) {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    let (read, write) = stream.into_split();
                    requests.serve_lines(peer, read, write, self.line_limit).await;
                    accepted += 1;
                }
                Err(error) => {
                    // Usually out of file descriptors: note it, give connections time to close.
                    let local = self.listener.local_addr().unwrap_or(([0, 0, 0, 0], 0).into());
                    requests.record(local, error);
                    crate::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
        requests.stop_accepting();
    }
}
