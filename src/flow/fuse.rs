//! Fused chains: runs of single-producer/single-consumer plain nodes stepped in one tight loop.
//!
//! A **link** is a node that is not streaming and has exactly one input port: a plain port
//! without default, connected to an earlier, non-streaming node whose only consumer port it is.
//! `build()` plans the links once ([`Links::plan`]). When a link is about to start with a fresh
//! input, the scheduler runs it — and every link after it that becomes ready the same way — in
//! [`Scheduler::run_links`](super::scheduler::Scheduler): one new virtual call per node
//! ([`Runner::run_read`](super::runner::Runner::run_read)) gathers the value, calls and polls
//! the body and stores its value, and the graph bookkeeping is reduced to what an observer can
//! see: generation, run index, run count, status, the producer's read count and the staleness
//! flags and counts of the ports involved. The general step does the same through `StartCx`,
//! a modes vector, the publication's generic walk over consumer ports and the generic wake; on
//! an untimed, untraced run it too starts, polls and publishes a node in one runner call
//! ([`Runner::run_whole`](super::runner::Runner::run_whole)) when no consumer still has to read
//! the node's previous value (three calls, each inside `catch_unwind`, otherwise).
//!
//! Every case the tight loop does not cover goes through the general path with identical
//! behaviour: a traced run, timed bodies (`time_nodes`, a slow-poll threshold), a stopped run,
//! a consumer that still has to read the previous value, a non-empty ready list; a body that
//! waits outside the flow, fails or panics is handled by the general code from the same state
//! the general step leaves.

use std::rc::Rc;
use std::task::Context;

use super::args::StartCx;
use super::current;
use super::error::NodeFault;
use super::generation::Generation;
use super::resolve::input_name;
use super::runner::LinkStep;
use super::scheduler::Scheduler;
use super::state::{Action, Graph, Mode, Status};

/// No link follows.
const NONE: u32 = u32::MAX;

/// The chain links of a flow, planned at build time from the graph's shape (which never
/// changes after `build()`).
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// `next[p]`: the link that node `p` is the producer of, or `NONE`. Empty when the flow has
    /// no link at all.
    next: Vec<u32>,
}

impl Links {
    /// Finds every link of a built graph (consumer lists filled in) and flags it
    /// (`NodeMeta::link`).
    pub(crate) fn plan(g: &mut Graph) -> Links {
        let mut next = Vec::new();
        for c in 0..g.nodes.len() {
            let node = &g.nodes[c];
            let (a, b) = node.ports;
            if node.streaming || b - a != 1 {
                continue;
            }
            let port = &g.ports[a as usize];
            let Some(p) = port.producer else { continue };
            let prod = &g.nodes[p as usize];
            if port.level != 0 || port.has_default || p as usize >= c || prod.streaming || {
                let (ca, cb) = g.consumers_of(p);
                cb - ca != 1
            } {
                continue;
            }
            if next.is_empty() {
                next = vec![NONE; g.nodes.len()];
            }
            next[p as usize] = c as u32;
            g.nodes[c].link = true;
        }
        Links { next }
    }

    /// Whether the flow has any link.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.next.is_empty()
    }

    /// The link fed by `p`, if any.
    #[inline]
    fn after(&self, p: u32) -> Option<u32> {
        self.next.get(p as usize).copied().filter(|&c| c != NONE)
    }
}

/// Whether link `c` can take its fused step now: it starts (idle or just made ready to start)
/// on a fresh input, and its consumers read its previous value, so the value it returns is
/// published at once.
#[inline]
fn can_start(g: &Graph, c: u32, status: Status) -> bool {
    let node = &g.nodes[c as usize];
    node.status == status && node.stale_inputs == 0 && node.fresh_inputs > 0 && node.read_left == 0
}

impl Scheduler {
    /// Steps ready node `n`: through the fused loop when it is a link that can take its fused
    /// step, else through the general step. Returns a consumer to step next, as
    /// [`step`](Scheduler::step) does; `budget` pays for every link after the first.
    #[inline(always)]
    pub(super) fn step_or_link(&mut self, n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        // A flow without links (a stream, a cycle, a diamond) pays one flag here.
        let fusable = self.fuse && {
            let g = self.state.graph.borrow();
            g.nodes[n as usize].link && can_start(&g, n, Status::Ready(Action::Start))
        };
        if fusable {
            self.run_links(n, budget, cx)
        } else {
            self.step(n, cx)
        }
    }

    /// Runs link `n` (ready to start, see [`can_start`]) and the links after it while each can
    /// take its fused step, the run goes on, nothing else is ready and `budget` lasts; then
    /// wakes the last one's consumers as a general publication does.
    ///
    /// The runner table stays borrowed for the whole loop (only the scheduler uses it, and a
    /// body never reaches its own flow's runners); the graph is released around each body, as
    /// [`current_node`](super::current_node) reads it.
    #[inline(always)]
    fn run_links(&mut self, mut n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        let state = Rc::clone(&self.state);
        let mut g = state.graph.borrow_mut();
        let mut port = g.nodes[n as usize].ports.0;
        let mut p = g.ports[port as usize].producer.expect("a link's port is connected");
        // The first link's producer may wait for this read to publish; every later producer
        // is the link just published, whose one consumer port is read at once (see below).
        g.count_read(p);
        let mut runners = state.runners.borrow_mut();
        // A local copy: the loop keeps it in a register and stores it back once.
        let mut left = *budget;
        loop {
            self.begin_link(&mut g, n);
            drop(g);
            let step = {
                let _polling = current::polling(n);
                let start = StartCx {
                    shared: &state,
                    node: n,
                    first_port: port,
                };
                runners[n as usize].as_mut().run_read(&[Mode::Read], &start, cx)
            };
            match step {
                // Nothing to drop; a plain drop here is an out-of-line call per link.
                LinkStep::Published => std::mem::forget(step),
                other => {
                    drop(runners);
                    *budget = left;
                    self.settle(n, other);
                    return None;
                }
            }
            g = state.graph.borrow_mut();
            let next = state.links.after(n);
            let fresh = publish_link(&mut g, n, (p, port), next);
            match next {
                Some(c)
                    if fresh && left > 0 && g.stop.is_none() && g.ready.is_empty() && {
                        let consumer = &g.nodes[c as usize];
                        consumer.status == Status::Idle && consumer.read_left == 0
                    } =>
                {
                    debug_assert!(can_start(&g, c, Status::Idle), "link {c} takes its fused step");
                    // `count_read` of `c`'s one read: `n` was just published (idle, so no
                    // publication waits for the read) and `c`'s port is its only plain one.
                    debug_assert_eq!(g.nodes[n as usize].read_left, 1, "link {c} is the only reader of {n}");
                    g.nodes[n as usize].read_left = 0;
                    left -= 1;
                    (p, n) = (n, c);
                    port = g.nodes[n as usize].ports.0;
                }
                _ => {
                    *budget = left;
                    return g.wake_consumers(n);
                }
            }
        }
    }

    /// The start bookkeeping of the general step (`prepare_start`) for link `n`, after the read
    /// of its producer was counted.
    #[inline(always)]
    fn begin_link(&self, g: &mut Graph, n: u32) {
        // `mark_visited`, with the node at hand.
        let epoch = g.epoch;
        let node = &mut g.nodes[n as usize];
        if node.visited != epoch {
            node.visited = epoch;
            g.visited_count += 1;
        }
        node.status = Status::Running;
        node.runs += 1;
        // A link never streams, so its chunk count stays 0 (`prepare_start` resets it for a
        // node whose last run finished, which a link's always did).
        debug_assert!(!node.streaming, "a link never emits chunks");
        let runs = node.runs;
        if let Some(b) = &self.beacon {
            b.mark(n, runs);
        }
    }

    /// Handles a step that did not publish (what `run_read` or `run_whole` reported) the way
    /// the general step does: a body waiting outside the flow is listed, a failure recorded.
    pub(super) fn settle(&mut self, n: u32, step: LinkStep) {
        match step {
            // Published: nothing to settle (the callers publish).
            LinkStep::Published => {}
            LinkStep::Pending => {
                if self.state.graph.borrow().nodes[n as usize].status == Status::Running {
                    self.externals.push(n);
                }
            }
            LinkStep::Failed(e) => self.body_failed(n, e),
            LinkStep::Panicked(payload) => {
                let msg = crate::runtime::panic_message(&*payload);
                self.fail(n, NodeFault::Panicked(msg));
                self.drop_body(n);
            }
            LinkStep::NoInput(fault) => {
                let input = input_name(&self.state.graph.borrow(), n, fault.input);
                self.fail(n, NodeFault::NoInput { input });
            }
        }
    }
}

/// The graph side of `publish` for link `n` (its value is already in its cell): generation,
/// staleness of its own port `own` (fed by `p`) and its consumers' ports, run index, read
/// count, status, limit. `next` is the link `n` feeds, if any: its port is refreshed without
/// the generic walk, and the result says whether that port is now fresh (`false` without a
/// next link).
#[inline(always)]
fn publish_link(g: &mut Graph, n: u32, (p, own): (u32, u32), next: Option<u32>) -> bool {
    let producer = g.nodes[p as usize].generation;
    let node = &mut g.nodes[n as usize];
    let generation = Some(Generation::finished(node.run));
    node.generation = generation;
    node.finish_run();
    // Its own input: the producer never streams, so only run indices compare.
    let stale = finished_stale(producer, g.ports[own as usize].stitch, generation);
    set_link_stale(g, own, n, stale);
    let fresh = match next {
        Some(c) => {
            let consumer = &g.nodes[c as usize];
            let (pi, seen) = (consumer.ports.0, consumer.generation);
            let stale = finished_stale(generation, g.ports[pi as usize].stitch, seen);
            set_link_stale(g, pi, c, stale);
            !stale
        }
        None => {
            let (a, b) = g.consumers_of(n);
            for i in a..b {
                let pi = g.consumer_ports[i as usize];
                g.refresh_port(pi);
            }
            false
        }
    };
    if !g.limits.is_empty() {
        g.check_limit(n);
    }
    fresh
}

/// FLOW_SEMANTICS §3 staleness, `stitch(clip(producer, 0), s) <= node`, for a plain port
/// between two nodes that never stream: both generations are finished runs (or `None`), so
/// `clip` changes nothing and only run indices compare.
#[inline(always)]
fn finished_stale(producer: Option<Generation>, stitch: u64, node: Option<Generation>) -> bool {
    let seen = match producer {
        Some(g) => Some(g.run() + stitch),
        None => stitch.checked_sub(1),
    };
    match (seen, node) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(seen), Some(node)) => seen <= node.run(),
    }
}

/// Stores the staleness of port `pi`, the one input of link `node`, and sets the node's counts
/// from it (what [`Graph::refresh_port`] does after computing it): a link's one port is
/// connected, so it is the node's only stale or fresh input.
#[inline(always)]
fn set_link_stale(g: &mut Graph, pi: u32, node: u32, stale: bool) {
    debug_assert_eq!(stale, g.compute_stale(pi), "fused staleness of port {pi} matches §3");
    debug_assert_eq!(g.ports[pi as usize].node, node, "port {pi} is an input of node {node}");
    g.ports[pi as usize].stale = stale;
    let node = &mut g.nodes[node as usize];
    debug_assert_eq!(
        node.stale_inputs + node.fresh_inputs,
        1,
        "a link has one connected input"
    );
    node.stale_inputs = u32::from(stale);
    node.fresh_inputs = u32::from(!stale);
}
