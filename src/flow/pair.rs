//! Lone stream pairs: a producer whose stream has one consumer port, and that consumer, handing
//! chunks to each other in the scheduler's hand-off loop with the graph's records of the pair
//! brought up to date only when the loop lets go of them.
//!
//! In the general hand-off (FLOW_SEMANTICS §8) every chunk moves both nodes through four
//! statuses: the producer publishes (`EmitTaken`) and makes the consumer ready, the consumer
//! resumes, takes the chunk (the producer turns `EmitPull`), pulls again and stalls, which makes
//! the producer ready, and the producer resumes. Each step checks what the general rules
//! allow — any number of consumers, detached ports, runs and chunks compared, limits, traces.
//! For a *pair* those checks always come out the same way once the hand-off is under way, so
//! [`Scheduler::resume_laps`](super::scheduler::Scheduler) can *enter* pair mode when it is
//! about to resume such a producer ([`Graph::enter_pair`]): from then on the pair's progress is
//! one [`Phase`] — the producer's emit moves it from `Resumed` to `Offered`, the consumer's
//! take to `Taken`, its next pull to `Pulled`, the loop's resume of the producer back to
//! `Resumed` — and the producer's generation and chunk count, which a body can see through
//! [`current_node`](super::current_node), are written at once.
//!
//! Everything else the general hand-off writes — both statuses, the chunk still owed, the
//! chunk taken, the ready list — is written by [`Graph::flush_pair`] exactly as the general
//! steps would have left it at that point, and pair mode ends: when the loop ends (the step
//! budget spent, a poll that does anything but the next step of the hand-off: returns, fails,
//! panics, waits outside the flow), and before any other use of the graph by a body while it
//! is on (another stream, a cancel, a dropped stream, an emit out of turn). So nothing but
//! the two bodies runs while the records are behind, and nothing reads them before they are
//! brought up to date.

use super::generation::Generation;
use super::state::{Action, Graph, Status};

/// Where a lone pair's hand-off is (see the module doc). The general statuses each stands for
/// are those [`Graph::flush_pair`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The producer is resumed after the consumer's pull: its pending emit completes.
    Resumed,
    /// The producer published a chunk the consumer has not taken.
    Offered,
    /// The consumer took the chunk; the producer waits to be pulled.
    Taken,
    /// The consumer pulled again and found nothing: the producer is to resume.
    Pulled,
}

/// A lone pair in the hand-off loop (see the module doc).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair {
    pub(crate) producer: u32,
    pub(crate) consumer: u32,
    /// The consumer's stream port fed by the producer.
    pub(crate) port: u32,
    pub(crate) phase: Phase,
    /// The pair's node being polled, or `None` between polls.
    pub(crate) polling: Option<u32>,
}

impl Graph {
    /// Enters pair mode for producer `p`, which the hand-off loop is about to resume (its
    /// status just set to `Running`, the ready list empty), when it and its consumer are a lone
    /// pair in the middle of a stream: `p` publishes to one stream port and has no stream
    /// input, its run has published a chunk the consumer took, the consumer is stalled on that
    /// port, attached, and the port is fresh; the run is untraced, without limits, not stopped,
    /// and `p` not cancelled.
    #[inline]
    pub(crate) fn enter_pair(&mut self, p: u32) {
        if let Some(pair) = self.pair_resuming(p) {
            self.pair = Some(pair);
        }
    }

    /// The lone pair whose producer `p` is being resumed in the middle of its stream, if the
    /// conditions of [`enter_pair`](Graph::enter_pair) hold.
    #[inline(always)]
    fn pair_resuming(&self, p: u32) -> Option<Pair> {
        // Most hand-offs are not a pair's (a mapper's, a zip's): one look at the producer first.
        let stream = self.streams.get(p as usize).filter(|s| s.pairs)?;
        if self.pair.is_some() || self.instrumented || !self.limits.is_empty() || self.stop.is_some() {
            return None;
        }
        let pi = stream.lone_consumer?;
        if stream.chunk_left != 0 || stream.chunks == 0 || !self.ready.is_empty() {
            return None;
        }
        let last = stream.chunks - 1;
        let port = &self.ports[pi as usize];
        let c = port.node;
        let prod = &self.nodes[p as usize];
        let st = &self.stream_ports[pi as usize];
        let in_step = !port.stale
            && prod.status == Status::Running
            && !prod.cancelled
            && prod.generation == Some(Generation::chunk(prod.run, last))
            && self.nodes[c as usize].status == Status::Stalled(pi)
            && !st.detached
            && st.run == prod.run
            && st.taken == Some(last);
        in_step.then_some(Pair {
            producer: p,
            consumer: c,
            port: pi,
            phase: Phase::Resumed,
            polling: Some(p),
        })
    }

    /// The pair's producer `p` publishes its next chunk: the chunk count and the generation,
    /// which its body can see; the rest is the phase's (see [`flush_pair`](Graph::flush_pair)).
    #[inline]
    pub(crate) fn publish_pair_chunk(&mut self, p: u32) {
        let stream = &mut self.streams[p as usize];
        let chunk = stream.chunks;
        stream.chunks = chunk + 1;
        let node = &mut self.nodes[p as usize];
        node.generation = Some(Generation::chunk(node.run, chunk));
    }

    /// Ends pair mode, if on: writes the records the general steps would have written up to
    /// the pair's phase, with the pair's node being polled (`Pair::polling`) running — or,
    /// between polls, the node the loop hands the run to taken off the ready list, as
    /// [`take_sole_ready`](Graph::take_sole_ready) leaves it.
    #[inline(never)]
    pub(crate) fn flush_pair(&mut self) {
        let Some(Pair {
            producer: p,
            consumer: c,
            port: pi,
            phase,
            polling,
        }) = self.pair.take()
        else {
            return;
        };
        let last = self.streams[p as usize].chunks - 1;
        let (owed, taken, p_status, c_status, listed) = match phase {
            Phase::Resumed => (0, last, Status::Running, Status::Stalled(pi), None),
            Phase::Offered => {
                let c_status = if polling == Some(c) {
                    Status::Running
                } else {
                    Status::Ready(Action::Resume)
                };
                // Published during the producer's poll: the consumer is on the ready list.
                let listed = (polling == Some(p)).then_some(c);
                (1, last - 1, Status::EmitTaken, c_status, listed)
            }
            Phase::Taken => (0, last, Status::EmitPull, Status::Running, None),
            Phase::Pulled => {
                // Pulled during the consumer's poll: the producer is on the ready list.
                let listed = (polling == Some(c)).then_some(p);
                (0, last, Status::Ready(Action::Resume), Status::Stalled(pi), listed)
            }
        };
        self.streams[p as usize].chunk_left = owed;
        self.stream_ports[pi as usize].taken = Some(taken);
        self.nodes[p as usize].status = p_status;
        self.nodes[c as usize].status = c_status;
        if let Some(n) = listed {
            self.ready.push_back(n);
        }
    }
}
