//! On-CPU timing of the calling thread, shared by the row providers (each binary that includes
//! a provider by `#[path]` gets its own copy of this module).
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Wall time and on-CPU time of the calling thread for one measured phase.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Elapsed wall-clock time.
    pub wall: Duration,
    /// Time the thread spent on a CPU (from `/proc/thread-self/schedstat`; equals `wall` where
    /// that file is missing). Both event loops run client and server on this one thread and
    /// never wait on anything but already-ready sockets, so this is the work done, without the
    /// time spent waiting for a CPU on a shared machine.
    pub cpu: Duration,
}

/// Starts measuring a phase.
pub struct Stopwatch {
    wall: Instant,
    cpu: Option<u64>,
}

/// On-CPU nanoseconds of this thread. The kernel refreshes the counter for a running thread
/// only at scheduler events; `sched_yield` is one (it updates the current task's runtime), so
/// the value read right after it is exact rather than up to one tick stale.
fn thread_cpu_ns() -> Option<u64> {
    std::thread::yield_now();
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            cpu: thread_cpu_ns(),
            wall: Instant::now(),
        }
    }

    pub fn stop(&self) -> Measured {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) if b >= a => Duration::from_nanos(b - a),
            _ => wall,
        };
        Measured { wall, cpu }
    }
}
