//! [`Sample`]: what a typed flow's loop hands the server thread: the node states (packed),
//! errors and value previews, copied under one borrow. The server thread turns it into a
//! [`Snapshot`] (node states, pending edges, recent poll times), so the flow's thread pays one
//! compact copy per sample (a few ns per node) and nothing per node run.
//!
//! The [`Relay`] keeps the flow's side cheap per run: a run's start is one atomic add (the
//! server's watchdog notices it, no wake-up of the server thread), samples travel through a
//! mailbox of two slots, one for the newest run's final sample and one for the newest sample
//! taken while a run was in progress (in each, a newer sample replaces an unread older one),
//! and the packed views travel in buffers the server hands back, so a sample neither
//! allocates nor touches fresh pages. A run's final sample goes into the mailbox without
//! waking the server thread: its watchdog tick, the next request it answers or its shutdown
//! takes it. The next run's start does not wake it either (a program that runs a flow back to
//! back would otherwise pay a cross-thread wake-up per run, and the server would encode a
//! snapshot per run): the later run's live samples go into the other slot, so the final one
//! is not lost under them, and the server takes both in order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flowloop::flow::{Generation, NodeView, PackedView};

use crate::model::{self, EdgeSnapshot, NodeSnapshot, RunState, Snapshot, TopologyEdge, generations_completed};

/// How many view buffers the server keeps for the flow's side (one in flight, one spare).
const SPARE_BUFFERS: usize = 2;

/// State shared by a typed flow's loop and the server thread, outside the task queue.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    /// Runs started so far: the number of the latest run.
    runs_started: AtomicU64,
    /// View buffers handed back by the server, ready for the next sample.
    spare_views: Mutex<Vec<Vec<PackedView>>>,
    /// The samples the server has not taken yet.
    mailbox: Mutex<Mailbox>,
}

/// A run's final sample and a live one, each the newest of its kind not taken yet.
#[derive(Debug, Default)]
struct Mailbox {
    /// The final sample of the newest run that ended.
    ended: Option<Sample>,
    /// The newest sample taken while a run was in progress.
    live: Option<Sample>,
}

impl Relay {
    /// Records a run's start; returns its number (1 for the first run).
    pub(crate) fn start_run(&self) -> u64 {
        self.runs_started.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The number of the latest run started (0 before the first).
    pub(crate) fn runs_started(&self) -> u64 {
        self.runs_started.load(Ordering::Relaxed)
    }

    /// An empty buffer for a sample's views, with the capacity of an earlier one if the server
    /// has handed one back.
    pub(crate) fn views_buffer(&self) -> Vec<PackedView> {
        self.spare_views
            .lock()
            .map_or_else(|_| Vec::new(), |mut s| s.pop().unwrap_or_default())
    }

    /// Hands a sample's views buffer back for reuse.
    pub(crate) fn recycle(&self, views: Vec<PackedView>) {
        if let Ok(mut spare) = self.spare_views.lock() {
            if spare.len() < SPARE_BUFFERS {
                spare.push(views);
            }
        }
    }

    /// Leaves `sample` for the server; an older one it had not taken yet is dropped (its
    /// buffer recycled): newer state replaces older.
    pub(crate) fn post(&self, sample: Sample) {
        let mut replaced = [None, None];
        if let Ok(mut slots) = self.mailbox.lock() {
            if sample.state == RunState::Running {
                replaced[0] = slots.live.replace(sample);
            } else {
                // The run's final state supersedes every live sample of it or of an earlier run.
                if slots.live.as_ref().is_some_and(|l| l.run <= sample.run) {
                    replaced[1] = slots.live.take();
                }
                replaced[0] = slots.ended.replace(sample);
            }
        }
        for older in replaced.into_iter().flatten() {
            self.recycle(older.views);
        }
    }

    /// The samples waiting for the server, oldest first: a run's final sample, then a live
    /// sample of a later run (a live one of an earlier run is stale and recycled here).
    pub(crate) fn take_mail(&self) -> impl Iterator<Item = Sample> {
        let (ended, mut live) = match self.mailbox.lock() {
            Ok(mut slots) => (slots.ended.take(), slots.live.take()),
            Err(_) => (None, None),
        };
        let stale = matches!((&ended, &live), (Some(e), Some(l)) if l.run <= e.run);
        if let Some(l) = live.take_if(|_| stale) {
            self.recycle(l.views);
        }
        ended.into_iter().chain(live)
    }
}

/// The raw state of a typed flow at one moment.
#[derive(Debug)]
pub(crate) struct Sample {
    /// The run it belongs to ([`Relay::start_run`]'s number; 0 before the first run).
    pub(crate) run: u64,
    pub(crate) state: RunState,
    pub(crate) elapsed: Duration,
    /// Every node, in creation order.
    pub(crate) views: Vec<PackedView>,
    /// Every node's poll time, in creation order, when poll timing is on (else empty).
    pub(crate) run_times: Vec<Duration>,
    /// Per stream edge, in topology order: chunks published but not yet taken.
    pub(crate) lags: Vec<u64>,
    /// `(node index, message)`, oldest first.
    pub(crate) errors: Vec<(usize, String)>,
    /// `(node index, preview)` of the watched nodes.
    pub(crate) previews: Vec<(usize, String)>,
    /// The error that ended the run.
    pub(crate) error: Option<String>,
    /// The slow-poll threshold when poll timing is on.
    pub(crate) slow_poll: Option<Duration>,
}

/// Per-node (runs, run time) at the previous sample of the run in progress, for the recent
/// poll time per run.
#[derive(Debug, Default)]
pub(crate) struct PollHistory {
    seen: Vec<(u64, Duration)>,
}

impl PollHistory {
    fn recent(&mut self, i: usize, runs: u64, time: Duration) -> Option<Duration> {
        if self.seen.len() <= i {
            self.seen.resize(i + 1, (0, Duration::ZERO));
        }
        let (r0, t0) = std::mem::replace(&mut self.seen[i], (runs, time));
        let dr = runs.saturating_sub(r0);
        (dr > 0).then(|| time.saturating_sub(t0) / dr as u32)
    }
}

/// Each node's latest entry of `pairs`, by index.
fn latest(n: usize, pairs: &[(usize, String)]) -> Vec<Option<&str>> {
    let mut out = vec![None; n];
    for (i, m) in pairs {
        if let Some(slot) = out.get_mut(*i) {
            *slot = Some(m.as_str());
        }
    }
    out
}

impl Sample {
    /// The snapshot the page gets, and the views buffer to hand back ([`Relay::recycle`]);
    /// `history` holds the previous sample's poll times.
    pub(crate) fn into_snapshot(
        self,
        edges: &[TopologyEdge],
        history: &mut PollHistory,
    ) -> (Snapshot, Vec<PackedView>) {
        let n = self.views.len();
        let errors = latest(n, &self.errors);
        let previews = latest(n, &self.previews);
        let views: Vec<NodeView> = self
            .views
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut v = p.view();
                if let Some(t) = self.run_times.get(i) {
                    v.run_time = *t;
                }
                v
            })
            .collect();
        let nodes = views
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut snap = NodeSnapshot::from_view(v, errors[i], previews[i].map(str::to_string));
                if let Some(slow) = self.slow_poll {
                    let recent = history.recent(i, v.runs, v.run_time);
                    snap.poll_total_us = Some(v.run_time.as_micros() as u64);
                    snap.poll_recent_us = recent.map(|r| r.as_micros() as u64);
                    snap.slow = recent.is_some_and(|r| r >= slow);
                }
                snap
            })
            .collect();
        let snapshot = Snapshot {
            state: self.state,
            elapsed_ms: self.elapsed.as_millis() as u64,
            generations: generations_completed(&views),
            nodes,
            edges: edge_snapshots(&views, &self.lags, edges),
            error: self.error,
            keys: Vec::new(),
        };
        (snapshot, self.views)
    }
}

/// Every edge's snapshot; stream edges take their lags in order.
fn edge_snapshots(views: &[NodeView], lags: &[u64], edges: &[TopologyEdge]) -> Vec<EdgeSnapshot> {
    let mut lags = lags.iter().copied();
    edges
        .iter()
        .map(|e| EdgeSnapshot {
            pending: pending(views, e),
            lag: if e.stream { lags.next() } else { None },
            to: None,
        })
        .collect()
}

/// An edge is pending while its producer holds a generation its consumer has not run on.
fn pending(views: &[NodeView], e: &TopologyEdge) -> Option<Generation> {
    if e.from == e.to {
        return None;
    }
    model::pending(views.get(e.from)?, views.get(e.to)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(run: u64, state: RunState, nodes: usize) -> Sample {
        Sample {
            run,
            state,
            elapsed: Duration::ZERO,
            views: Vec::with_capacity(nodes),
            run_times: Vec::new(),
            lags: Vec::new(),
            errors: Vec::new(),
            previews: Vec::new(),
            error: None,
            slow_poll: None,
        }
    }

    fn taken(relay: &Relay) -> Vec<(u64, RunState)> {
        relay.take_mail().map(|s| (s.run, s.state)).collect()
    }

    #[test]
    fn a_runs_final_sample_is_not_hidden_by_the_next_runs_live_samples() {
        let relay = Relay::default();
        relay.post(sample(1, RunState::Completed, 4));
        relay.post(sample(2, RunState::Running, 4));
        relay.post(sample(2, RunState::Running, 4));
        assert_eq!(taken(&relay), [(1, RunState::Completed), (2, RunState::Running)]);
        assert!(taken(&relay).is_empty(), "the mailbox is empty once taken");
    }

    #[test]
    fn a_final_sample_supersedes_its_runs_live_ones_and_older_finals() {
        let relay = Relay::default();
        relay.post(sample(1, RunState::Running, 4));
        relay.post(sample(1, RunState::Completed, 4));
        assert_eq!(taken(&relay), [(1, RunState::Completed)]);
        relay.post(sample(2, RunState::Completed, 4));
        relay.post(sample(3, RunState::Failed, 4));
        assert_eq!(taken(&relay), [(3, RunState::Failed)]);
        // The replaced samples' view buffers went back for reuse (two spares at most).
        assert!(relay.views_buffer().capacity() >= 4);
        assert!(relay.views_buffer().capacity() >= 4);
    }

    #[test]
    fn a_live_sample_older_than_the_waiting_final_one_is_dropped() {
        let relay = Relay::default();
        relay.post(sample(2, RunState::Completed, 4));
        // A live sample of an earlier run arriving late (it cannot from one flow's loop, but
        // the mailbox does not rely on that) is stale.
        relay.post(sample(1, RunState::Running, 4));
        assert_eq!(taken(&relay), [(2, RunState::Completed)]);
    }
}
