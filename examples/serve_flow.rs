//! A socket-serving flow: request → flow → reply.
//!
//! ```text
//! LineServer ──▶ requests (stream) ──▶ normalize (stream) ──▶ respond ──▶ each reply to its connection
//! ```
//!
//! A [`LineServer`] accepts connections and reads each one's lines in its own task; the flow's
//! source node takes the requests of all connections as they come. Every request carries a
//! [`ReplyTo`](flowloop::net::ReplyTo) handle, so the node that answers it needs no table of
//! connections: `reply.send(..)` queues the answer, and the connection's writer task sends the
//! answers in request order and half-closes once the client is done and every request was
//! answered. The program's own clients run on the same loop and check the replies.
//!
//! Run with `cargo run --release --example serve_flow`.

use std::io;
use std::net::{Shutdown, SocketAddr};

use flowloop::flow::{Emitter, FlowBuilder, RunOptions, Stream};
use flowloop::net::{BufReader, LineServer, ReplyError, Request, Requests, TcpListener, TcpStream};
use flowloop::{EventLoop, spawn};

type Req = Request<String>;

/// Source node: every request of every connection, until the server stops accepting.
async fn requests(out: Emitter<Req>, requests: Requests<String>) -> usize {
    let mut n = 0;
    while let Some(r) = requests.next().await {
        if out.emit(r).await.is_err() {
            break;
        }
        n += 1;
    }
    n
}

/// Processing node: trims and lower-cases each request.
async fn normalize(out: Emitter<Req>, mut requests: Stream<Req>) -> usize {
    let mut n = 0;
    while let Some(mut r) = requests.next().await {
        r.body = r.body.trim().to_lowercase();
        if out.emit(r).await.is_err() {
            break;
        }
        n += 1;
    }
    n
}

/// Sink node: answers each request on its own connection. Final value: replies sent.
async fn respond(mut requests: Stream<Req>) -> Result<usize, ReplyError> {
    let mut n = 0;
    while let Some(r) = requests.next().await {
        let words = r.body.split_whitespace().count();
        r.reply.send(format!("{} ({words} words)\n", r.body.to_uppercase()))?;
        n += 1;
    }
    Ok(n)
}

/// A client: sends its requests, half-closes, reads the replies until the server closes.
async fn client(addr: SocketAddr, requests: Vec<String>) -> io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(addr).await?;
    let body: String = requests.iter().map(|r| format!("{r}\n")).collect();
    stream.send_all(body.as_bytes()).await?;
    stream.shutdown(Shutdown::Write)?;
    let (mut reader, mut line, mut replies) = (BufReader::new(stream), String::new(), Vec::new());
    while reader.read_line(&mut line).await?.is_complete() {
        replies.push(line.trim_end().to_string());
        line.clear();
    }
    Ok(replies)
}

async fn serve_and_check(clients: usize) -> Result<usize, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server:  listening on {addr}");
    let incoming = LineServer::new(listener).max_connections(clients).start().await;

    let mut b = FlowBuilder::new();
    let source = b.stream(requests, (incoming.clone(),));
    let normalized = b.stream(normalize, (source.stream(),));
    let sink = b.try_node(respond, (normalized.stream(),));
    let mut flow = b.build()?;
    println!("flow:\n{}", flow.to_mermaid());
    let server = spawn(flow.run(RunOptions::new())).await;

    let mut tasks = Vec::new();
    for i in 0..clients {
        let requests = vec![format!("  Hello from client {i} "), format!("How ARE you {i}")];
        tasks.push((i, spawn(client(addr, requests)).await));
    }
    let mut checked = 0;
    for (i, task) in tasks {
        let replies = task.join().await??;
        let expected = [
            format!("HELLO FROM CLIENT {i} (4 words)"),
            format!("HOW ARE YOU {i} (4 words)"),
        ];
        if replies != expected {
            return Err(format!("client {i}: expected {expected:?}, got {replies:?}").into());
        }
        println!("client {i}: {replies:?}");
        checked += replies.len();
    }
    println!("flow:    {}", server.join().await??);
    if flow.value(sink) != Some(checked) || !incoming.connection_errors().is_empty() {
        return Err("the replies sent do not match the replies the clients received".into());
    }
    println!(
        "summary: {checked} replies checked; the source took {:?} requests",
        flow.value(source)
    );
    Ok(checked)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    EventLoop::new()?.run_until_complete(serve_and_check(3))??;
    Ok(())
}
