//! The five core scheduling workloads, each written once for flowloop and once for tokio's
//! current-thread runtime.
//!
//! Shared by the `sched_profile` example (`core_rows.rs`) and the criterion bench
//! `benches/scheduling.rs` (which includes this file by path), so both measure exactly the same
//! code. Every workload returns a checksum that depends on all of its work, so neither runtime
//! can skip any of it; [`Workload::expected`] gives the value each must return.

use std::time::Duration;

use flowloop::sync::AsyncQueue;
use flowloop::{EventLoop, sleep, spawn};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Capacity of the bounded queue workload.
pub const BOUNDED_CAPACITY: usize = 1024;

/// Seed of the timer durations (both runtimes sleep the same sequence).
const TIMER_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// One of the five workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Spawn `n` trivial tasks, then join them all.
    SpawnJoinBatch,
    /// Spawn a trivial task and join it, `n` times in a row.
    SpawnJoinSeq,
    /// `n` items from one producer task to one consumer task through a queue bounded at
    /// [`BOUNDED_CAPACITY`].
    QueueBounded,
    /// The same through an unbounded queue.
    QueueUnbounded,
    /// `n` tasks that each sleep a pseudo-random 0–1 ms, then are all joined.
    Timers,
}

impl Workload {
    /// Every workload, in the order the profile prints them.
    pub const ALL: [Workload; 5] = [
        Workload::SpawnJoinBatch,
        Workload::SpawnJoinSeq,
        Workload::QueueBounded,
        Workload::QueueUnbounded,
        Workload::Timers,
    ];

    /// The row name printed by the profile.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnJoinBatch => "spawn_join_batch",
            Workload::SpawnJoinSeq => "spawn_join_seq",
            Workload::QueueBounded => "queue_bounded",
            Workload::QueueUnbounded => "queue_unbounded",
            Workload::Timers => "timers",
        }
    }

    /// Runs the workload with `n` operations on a flowloop loop; returns its checksum.
    pub fn run_flowloop(self, lp: &mut EventLoop, n: u64) -> u64 {
        match self {
            Workload::SpawnJoinBatch => fl_spawn_join_batch(lp, n),
            Workload::SpawnJoinSeq => fl_spawn_join_seq(lp, n),
            Workload::QueueBounded => fl_queue(lp, n, Some(BOUNDED_CAPACITY)),
            Workload::QueueUnbounded => fl_queue(lp, n, None),
            Workload::Timers => fl_timers(lp, n),
        }
    }

    /// Runs the workload with `n` operations on a tokio current-thread runtime; returns its
    /// checksum.
    pub fn run_tokio(self, rt: &Runtime, n: u64) -> u64 {
        match self {
            Workload::SpawnJoinBatch => tk_spawn_join_batch(rt, n),
            Workload::SpawnJoinSeq => tk_spawn_join_seq(rt, n),
            Workload::QueueBounded => tk_queue_bounded(rt, n),
            Workload::QueueUnbounded => tk_queue_unbounded(rt, n),
            Workload::Timers => tk_timers(rt, n),
        }
    }

    /// The checksum both runtimes must return for `n` operations.
    pub fn expected(self, n: u64) -> u64 {
        match self {
            Workload::Timers => timer_durations(n).map(|d| d.as_nanos() as u64).sum(),
            _ => n * n.saturating_sub(1) / 2,
        }
    }
}

/// The tokio runtime the comparison uses: current-thread, with the I/O and time drivers on
/// (flowloop always has its OS poller, so tokio gets its own too).
pub fn tokio_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build the tokio runtime")
}

/// A flowloop loop with default settings.
pub fn flowloop_loop() -> EventLoop {
    EventLoop::new().expect("cannot create the flowloop event loop")
}

/// `n` deterministic pseudo-random durations in 0..1 ms (xorshift64*).
fn timer_durations(n: u64) -> impl Iterator<Item = Duration> {
    let mut state = TIMER_SEED;
    (0..n).map(move |_| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        Duration::from_nanos(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % 1_000_000)
    })
}

fn fl_spawn_join_batch(lp: &mut EventLoop, n: u64) -> u64 {
    let run = lp.run_until_complete(async move {
        let mut handles = Vec::with_capacity(n as usize);
        for i in 0..n {
            handles.push(spawn(async move { i }).await);
        }
        let mut sum = 0;
        for h in handles {
            sum += h.join().await.expect("flowloop task failed");
        }
        sum
    });
    run.expect("flowloop run failed")
}

fn tk_spawn_join_batch(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let mut handles = Vec::with_capacity(n as usize);
        for i in 0..n {
            handles.push(tokio::spawn(async move { i }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("tokio task failed");
        }
        sum
    })
}

fn fl_spawn_join_seq(lp: &mut EventLoop, n: u64) -> u64 {
    let run = lp.run_until_complete(async move {
        let mut sum = 0;
        for i in 0..n {
            sum += spawn(async move { i })
                .await
                .join()
                .await
                .expect("flowloop task failed");
        }
        sum
    });
    run.expect("flowloop run failed")
}

fn tk_spawn_join_seq(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let mut sum = 0;
        for i in 0..n {
            sum += tokio::spawn(async move { i }).await.expect("tokio task failed");
        }
        sum
    })
}

fn fl_queue(lp: &mut EventLoop, n: u64, capacity: Option<usize>) -> u64 {
    let run = lp.run_until_complete(async move {
        let q = match capacity {
            Some(c) => AsyncQueue::bounded(c),
            None => AsyncQueue::new(),
        };
        let tx = q.clone();
        let producer = spawn(async move {
            for i in 0..n {
                tx.put(i).await.expect("queue closed under the producer");
            }
            tx.close();
        })
        .await;
        let consumer = spawn(async move {
            let mut sum = 0;
            while let Ok(x) = q.get().await {
                sum += x;
            }
            sum
        })
        .await;
        producer.join().await.expect("flowloop producer failed");
        consumer.join().await.expect("flowloop consumer failed")
    });
    run.expect("flowloop run failed")
}

fn tk_queue_bounded(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel(BOUNDED_CAPACITY);
        let producer = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).await.expect("channel closed under the producer");
            }
        });
        let consumer = tokio::spawn(async move {
            let mut sum = 0;
            while let Some(x) = rx.recv().await {
                sum += x;
            }
            sum
        });
        producer.await.expect("tokio producer failed");
        consumer.await.expect("tokio consumer failed")
    })
}

fn tk_queue_unbounded(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = tokio::spawn(async move {
            for i in 0..n {
                tx.send(i).expect("channel closed under the producer");
            }
        });
        let consumer = tokio::spawn(async move {
            let mut sum = 0;
            while let Some(x) = rx.recv().await {
                sum += x;
            }
            sum
        });
        producer.await.expect("tokio producer failed");
        consumer.await.expect("tokio consumer failed")
    })
}

fn fl_timers(lp: &mut EventLoop, n: u64) -> u64 {
    let run = lp.run_until_complete(async move {
        let mut handles = Vec::with_capacity(n as usize);
        for d in timer_durations(n) {
            handles.push(
                spawn(async move {
                    sleep(d).await;
                    d.as_nanos() as u64
                })
                .await,
            );
        }
        let mut sum = 0;
        for h in handles {
            sum += h.join().await.expect("flowloop timer task failed");
        }
        sum
    });
    run.expect("flowloop run failed")
}

fn tk_timers(rt: &Runtime, n: u64) -> u64 {
    rt.block_on(async move {
        let mut handles = Vec::with_capacity(n as usize);
        for d in timer_durations(n) {
            handles.push(tokio::spawn(async move {
                tokio::time::sleep(d).await;
                d.as_nanos() as u64
            }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("tokio timer task failed");
        }
        sum
    })
}
