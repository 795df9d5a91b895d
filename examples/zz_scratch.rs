use flowloop::sync::AsyncQueue;
use flowloop::{EventLoop, spawn};
use std::time::{Duration, Instant};
fn main() {
    let mut lp = EventLoop::new().unwrap();
    let n: u64 = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let w = std::env::args().nth(1).unwrap_or_default();
    for _ in 0..std::env::var("R").ok().and_then(|v| v.parse().ok()).unwrap_or(10) {
        if w == "seq" {
            let t = Instant::now();
            lp.run_until_complete(async move {
                let mut s = 0;
                for i in 0..n {
                    s += spawn(async move { i }).await.join().await.unwrap();
                }
                s
            })
            .unwrap();
            println!("seq   {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
        }
        if w == "batch" {
            let t = Instant::now();
            lp.run_until_complete(async move {
                let mut hs = Vec::with_capacity(n as usize);
                for i in 0..n {
                    hs.push(spawn(async move { i }).await);
                }
                let mut s = 0;
                for h in hs {
                    s += h.join().await.unwrap();
                }
                s
            })
            .unwrap();
            println!("batch {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
        }
        if w == "tokio" {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let t = Instant::now();
            rt.block_on(async move {
                let mut s = 0;
                for i in 0..n {
                    s += tokio::spawn(async move { i }).await.unwrap();
                }
                s
            });
            println!("tokio seq   {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
            let t = Instant::now();
            rt.block_on(async move {
                let mut hs = Vec::with_capacity(n as usize);
                for i in 0..n {
                    hs.push(tokio::spawn(async move { i }));
                }
                let mut s = 0;
                for h in hs {
                    s += h.await.unwrap();
                }
                s
            });
            println!("tokio batch {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
        }
        if w == "tokio_local" {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let local = tokio::task::LocalSet::new();
            let t = Instant::now();
            local.block_on(&rt, async move {
                let mut s = 0;
                for i in 0..n {
                    s += tokio::task::spawn_local(async move { i }).await.unwrap();
                }
                s
            });
            println!(
                "tokio local seq   {:.1} ns/op",
                t.elapsed().as_nanos() as f64 / n as f64
            );
            let t = Instant::now();
            local.block_on(&rt, async move {
                let mut hs = Vec::with_capacity(n as usize);
                for i in 0..n {
                    hs.push(tokio::task::spawn_local(async move { i }));
                }
                let mut s = 0;
                for h in hs {
                    s += h.await.unwrap();
                }
                s
            });
            println!(
                "tokio local batch {:.1} ns/op",
                t.elapsed().as_nanos() as f64 / n as f64
            );
        }
        if w == "queue" {
            let m = 1_000_000u64;
            let t = Instant::now();
            lp.run_until_complete(async move {
                let q = AsyncQueue::bounded(1024);
                let q2 = q.clone();
                let p = spawn(async move {
                    for i in 0..m {
                        q2.put(i).await.unwrap();
                    }
                    q2.close();
                })
                .await;
                let mut s = 0;
                while let Ok(x) = q.get().await {
                    s += x;
                }
                p.join().await.unwrap();
                s
            })
            .unwrap();
            println!("queue {:.1} ns/op", t.elapsed().as_nanos() as f64 / m as f64);
        }
        if w == "timers" {
            let t = Instant::now();
            lp.run_until_complete(async move {
                let mut hs = Vec::with_capacity(n as usize);
                let mut x: u64 = 88172645463325252;
                for _ in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let d = Duration::from_nanos(x % 1_000_000);
                    hs.push(spawn(async move { flowloop::sleep(d).await }).await);
                }
                for h in hs {
                    h.join().await.unwrap();
                }
            })
            .unwrap();
            println!("timers {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let t = Instant::now();
            rt.block_on(async move {
                let mut hs = Vec::with_capacity(n as usize);
                let mut x: u64 = 88172645463325252;
                for _ in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let d = Duration::from_nanos(x % 1_000_000);
                    hs.push(tokio::spawn(async move { tokio::time::sleep(d).await }));
                }
                for h in hs {
                    h.await.unwrap();
                }
            });
            println!("tokio timers {:.1} ns/op", t.elapsed().as_nanos() as f64 / n as f64);
        }
    }
}
