//! A socket-serving flow.
//!
//! ```text
//! accept (stream) ──requests──▶ normalize (stream) ──requests──▶ respond (stream) ──replies──▶ reply_sink
//! ```
//!
//! `accept` listens on 127.0.0.1, accepts a fixed number of connections, reads each one's request
//! lines until the client half-closes, and emits one chunk per line. `normalize` and `respond`
//! transform the stream chunk by chunk, and `reply_sink` writes every reply back to its
//! connection, closing it after the last one. The program's own clients run on the same loop,
//! send a few requests each, check the replies, and the program exits 0.
//!
//! Run with `cargo run --release --example serve_flow`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use flowloop::flow::{Emitter, FlowBuilder, RunOptions, Stream};
use flowloop::net::{TcpListener, TcpStream};
use flowloop::{EventLoop, spawn, timeout};

/// One request line from one connection.
#[derive(Debug, Clone)]
struct Request {
    conn: usize,
    line: String,
    /// The connection's last request: its reply closes the connection.
    last: bool,
}

/// One reply line for one connection.
#[derive(Debug, Clone)]
struct Reply {
    conn: usize,
    text: String,
    last: bool,
}

/// Streams whose requests were all read, waiting for their replies (shared by the source and
/// the sink: a `TcpStream` reads and writes through `&mut`, so it is parked here between uses).
type Connections = Rc<RefCell<HashMap<usize, TcpStream>>>;

/// A listener shared with the flow (node constants are cloned per run).
type Listener = Rc<RefCell<Option<TcpListener>>>;

/// Reads everything a client sends until it half-closes, split into lines.
async fn read_lines(stream: &mut TcpStream) -> io::Result<Vec<String>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.recv(&mut buf).await?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(data).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(text.lines().map(str::to_string).collect())
}

/// Source node: accepts `clients` connections and emits their request lines. Final value: how
/// many requests were emitted.
async fn accept(out: Emitter<Request>, listener: Listener, conns: Connections, clients: usize) -> io::Result<usize> {
    let mut listener = listener
        .borrow_mut()
        .take()
        .ok_or_else(|| io::Error::other("the listener was already used by an earlier run"))?;
    let mut emitted = 0;
    for conn in 0..clients {
        let (mut stream, peer) = listener.accept().await?;
        let lines = read_lines(&mut stream).await?;
        println!("server:  connection {conn} from {peer} sent {} request(s)", lines.len());
        conns.borrow_mut().insert(conn, stream);
        let count = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            let last = i + 1 == count;
            if out.emit(Request { conn, line, last }).await.is_err() {
                return Ok(emitted);
            }
            emitted += 1;
        }
    }
    Ok(emitted)
}

/// Processing node: trims and lower-cases each request.
async fn normalize(out: Emitter<Request>, mut requests: Stream<Request>) -> usize {
    let mut n = 0;
    while let Some(mut r) = requests.next().await {
        r.line = r.line.trim().to_lowercase();
        if out.emit(r).await.is_err() {
            break;
        }
        n += 1;
    }
    n
}

/// Processing node: answers each request.
async fn respond(out: Emitter<Reply>, mut requests: Stream<Request>) -> usize {
    let mut n = 0;
    while let Some(r) = requests.next().await {
        let words = r.line.split_whitespace().count();
        let text = format!("{} ({words} words)", r.line.to_uppercase());
        if out
            .emit(Reply {
                conn: r.conn,
                text,
                last: r.last,
            })
            .await
            .is_err()
        {
            break;
        }
        n += 1;
    }
    n
}

/// Sink node: writes each reply to its connection; closes a connection after its last reply.
/// Final value: how many replies were written.
async fn reply_sink(mut replies: Stream<Reply>, conns: Connections) -> io::Result<usize> {
    let mut written = 0;
    while let Some(r) = replies.next().await {
        let mut stream = conns
            .borrow_mut()
            .remove(&r.conn)
            .ok_or_else(|| io::Error::other(format!("no open connection {}", r.conn)))?;
        stream.send_all(format!("{}\n", r.text).as_bytes()).await?;
        written += 1;
        if r.last {
            stream.shutdown(Shutdown::Write)?;
        } else {
            conns.borrow_mut().insert(r.conn, stream);
        }
    }
    Ok(written)
}

/// A client: sends its requests, half-closes, reads the replies until the server closes.
async fn client(addr: SocketAddr, requests: Vec<String>) -> io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(addr).await?;
    let body: String = requests.iter().map(|r| format!("{r}\n")).collect();
    stream.send_all(body.as_bytes()).await?;
    stream.shutdown(Shutdown::Write)?;
    read_lines(&mut stream).await
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const CLIENTS: usize = 3;
    let conns: Connections = Rc::default();
    // Sockets live on the loop: the root task binds the listener and puts it here.
    let listener: Listener = Rc::default();

    let mut b = FlowBuilder::new();
    let source = b.try_stream(accept, (listener.clone(), conns.clone(), CLIENTS));
    let normalized = b.stream(normalize, (source.stream(),));
    let responded = b.stream(respond, (normalized.stream(),));
    let sink = b.try_node(reply_sink, (responded.stream(), conns));
    let mut flow = b.build()?;
    println!("flow:\n{}", flow.to_mermaid());

    let mut lp = EventLoop::new()?;
    let run = flow.run(RunOptions::new());
    let checked = lp.run_until_complete(async move {
        let bound = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = bound.local_addr().map_err(|e| e.to_string())?;
        println!("server:  listening on {addr}");
        *listener.borrow_mut() = Some(bound);
        let server = spawn(run).await;
        let mut clients = Vec::new();
        for i in 0..CLIENTS {
            let requests = vec![format!("  Hello from client {i} "), format!("How ARE you {i}")];
            clients.push((i, spawn(client(addr, requests)).await));
        }
        let mut checked = 0;
        for (i, c) in clients {
            let replies = c.join().await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            let expected = [
                format!("HELLO FROM CLIENT {i} (4 words)"),
                format!("HOW ARE YOU {i} (4 words)"),
            ];
            if replies != expected {
                return Err(format!("client {i}: expected {expected:?}, got {replies:?}"));
            }
            println!("client {i}: {replies:?}");
            checked += replies.len();
        }
        let outcome = timeout(Duration::from_secs(10), server.join())
            .await
            .map_err(|_| "the flow did not finish".to_string())?
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        println!("flow:    {outcome}");
        Ok::<_, String>(checked)
    })??;

    println!(
        "summary: {checked} replies checked; the source emitted {:?} requests, the sink wrote {:?} replies",
        flow.value(source),
        flow.value(sink)
    );
    if flow.value(sink) != Some(checked) {
        return Err("the sink's count does not match the replies the clients received".into());
    }
    Ok(())
}
