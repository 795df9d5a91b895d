//! A TCP echo server and three clients on one loop, all on 127.0.0.1.
//!
//! Run with `cargo run --example echo`.

use std::io;

use flowloop::net::{BufReader, ByteSink, TcpListener, TcpStream};
use flowloop::spawn;

/// Echoes everything a client sends until it closes its side.
async fn serve(mut conn: TcpStream) -> io::Result<usize> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = conn.recv(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        conn.send_all(&buf[..n]).await?;
        total += n;
    }
}

async fn client(id: usize, addr: std::net::SocketAddr) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    // Reads go through a buffer; `send_all` passes straight through to the stream.
    let mut conn = BufReader::new(conn);
    for round in 0..3 {
        let msg = format!("client {id} round {round}");
        conn.send_all(msg.as_bytes()).await?;
        let mut back = vec![0u8; msg.len()];
        conn.read_exact(&mut back).await?;
        println!(
            "client {id}: sent {msg:?}, got back {:?}",
            String::from_utf8_lossy(&back)
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    flowloop::run(async {
        const CLIENTS: usize = 3;
        let mut listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("echo server listening on {addr}");
        let server = spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..CLIENTS {
                let (conn, peer) = listener.accept().await?;
                println!("server: accepted {peer}");
                handlers.push(spawn(serve(conn)).await);
            }
            let mut total = 0;
            for h in handlers {
                total += h.join().await.map_err(io::Error::other)??;
            }
            io::Result::Ok(total)
        })
        .await;
        let mut clients = Vec::new();
        for id in 0..CLIENTS {
            clients.push(spawn(client(id, addr)).await);
        }
        for c in clients {
            c.join().await.map_err(io::Error::other)??;
        }
        let total = server.join().await.map_err(io::Error::other)??;
        println!("server echoed {total} bytes to {CLIENTS} clients");
        io::Result::Ok(())
    })??;
    Ok(())
}
