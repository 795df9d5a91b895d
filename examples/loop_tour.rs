//! A tour of the flowloop event loop: tasks, a queue pipeline, timers, offload.
//!
//! Run with `cargo run --release --example loop_tour`.

use std::time::{Duration, Instant};

use flowloop::sync::{AsyncIterator, AsyncQueue};
use flowloop::{EventLoop, offload, sleep, spawn, timeout};

async fn tour() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Tasks: spawn children, join them; a spawned child runs before its parent resumes.
    let mut children = Vec::new();
    for i in 0..3u64 {
        children.push(spawn(async move { i * i }).await);
    }
    let mut squares = Vec::new();
    for c in children {
        squares.push(c.join().await?);
    }
    println!("tasks:    squares of 0..3 = {squares:?}");

    // 2. A queue pipeline: producer -> doubler -> collector, with bounded queues.
    let (raw, doubled) = (AsyncQueue::bounded(4), AsyncQueue::bounded(4));
    let producer = {
        let raw = raw.clone();
        spawn(async move {
            for i in 1..=10 {
                raw.put(i).await?;
            }
            raw.close();
            Ok::<_, flowloop::sync::Closed<i32>>(())
        })
        .await
    };
    let doubler = {
        let (mut raw, doubled) = (raw.clone(), doubled.clone());
        spawn(async move {
            while let Some(x) = raw.next().await {
                if doubled.put(x * 2).await.is_err() {
                    break;
                }
            }
            doubled.close();
        })
        .await
    };
    let total: i32 = doubled.clone().collect_vec().await.iter().sum();
    producer.join().await??;
    doubler.join().await?;
    println!("pipeline: sum of doubled 1..=10 = {total}");

    // 3. Timers: three sleepers finish in deadline order, concurrently.
    let start = Instant::now();
    let order = AsyncQueue::new();
    let mut sleepers = Vec::new();
    for ms in [30u64, 10, 20] {
        let order = order.clone();
        sleepers.push(
            spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                order.try_put(ms).ok();
            })
            .await,
        );
    }
    for s in sleepers {
        s.join().await?;
    }
    let woke: Vec<u64> = order.until_empty().collect_vec().await;
    println!(
        "timers:   woke in order {woke:?} after {:?} (concurrent, not 60 ms)",
        start.elapsed()
    );

    // 4. Timeouts and offloading blocking work to a thread.
    let late = timeout(Duration::from_millis(5), sleep(Duration::from_secs(10))).await;
    println!("timeout:  a 10 s sleep under a 5 ms timeout -> {late:?}");
    let digest = offload(|| (1..=20u64).product::<u64>()).await?;
    println!("offload:  20! computed on a worker thread = {digest}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp = EventLoop::new()?;
    lp.run_until_complete(async { tour().await.map_err(|e| e.to_string()) })??;
    let stats = lp.stats();
    println!(
        "stats:    {} polls, {} OS polls, {} timers fired, {} tasks spawned",
        stats.polls, stats.os_polls, stats.timers_fired, stats.tasks_spawned
    );
    Ok(())
}
