//! Fused chains: runs of single-producer/single-consumer plain nodes stepped as one segment.
//!
//! A **link** is a node that is not streaming and has exactly one input port: a plain port
//! without default, connected to an earlier, non-streaming node whose only consumer port it is.
//! `build()` plans the links once ([`Links::plan`]). When a link is about to start with a fresh
//! input, the scheduler runs it — and every link after it that becomes ready the same way — as
//! one segment in [`Scheduler::run_links`](super::scheduler::Scheduler): it decides from the
//! graph which links will start, runs their bodies back to back (one virtual call per node,
//! [`Runner::run_read`](super::runner::Runner::run_read), gathers the value, calls and polls
//! the body and stores its value), then does the graph bookkeeping of the whole segment in one
//! pass. That bookkeeping is reduced to what an observer can see: generation, run index, run
//! count, status, the producer's read count and the staleness flags and counts of the ports
//! involved. Nothing can observe the graph between two bodies of a segment except a body
//! itself, which sees only its own node ([`current_node`](super::current_node)), unchanged
//! until its own publication, and the dashboard's beacon, which is marked before each body.
//!
//! The general step does the same through `StartCx`, a modes vector, the publication's generic
//! walk over consumer ports and the generic wake; on an untimed, untraced run it too starts,
//! polls and publishes a node in one runner call
//! ([`Runner::run_whole`](super::runner::Runner::run_whole)) when no consumer still has to read
//! the node's previous value (three calls, each inside `catch_unwind`, otherwise).
//!
//! Every case a segment does not cover goes through the general path with identical
//! behaviour: a traced run, timed bodies (`time_nodes`, a slow-poll threshold), a stopped run,
//! a consumer that still has to read the previous value, a non-empty ready list; a body that
//! waits outside the flow, fails or panics ends its segment, and is handled by the general
//! code from the state the general step leaves (the links before it published, it started).

use std::rc::Rc;
use std::task::Context;

use super::args::StartCx;
use super::current;
use super::error::NodeFault;
use super::generation::Generation;
use super::resolve::input_name;
use super::runner::LinkStep;
use super::scheduler::Scheduler;
use super::state::{Action, FlowState, Graph, Mode, NodeMeta, Status};

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
    /// Three passes over the segment, so that the bodies run back to back:
    /// 1. [`plan_segment`] decides, from the graph before any body runs, which links will start
    ///    (each after the one before it publishes). A body cannot change the graph, so the
    ///    decision holds unless a body does not publish, which ends the segment there.
    /// 2. The bodies run, one [`Runner::run_read`](super::runner::Runner::run_read) each, with
    ///    the runner table borrowed once and the graph not borrowed at all: a body sees its own
    ///    node through [`current_node`](super::current_node) exactly as in a general step (its
    ///    generation and run are only changed by its own publication), and reads the value its
    ///    producer just stored.
    /// 3. The graph bookkeeping of every link that ran ([`finish_segment`]), in order, ending
    ///    in the state the link-by-link steps leave: the observable generation, run index, run
    ///    count, status, read count and port staleness of each node.
    fn run_links(&mut self, n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        let state = Rc::clone(&self.state);
        let (first, segment) = {
            let mut g = state.graph.borrow_mut();
            let port = g.nodes[n as usize].ports.0;
            let p = g.ports[port as usize].producer.expect("a link's port is connected");
            // A producer waiting for this read publishes next (and ends the segment at `n`).
            g.count_read(p);
            if state.links.after(n).is_none() {
                // A link that ends its chain (the one of a cycle, say): no segment to plan.
                drop(g);
                return self.run_tail_link(&state, (p, n, port), cx);
            }
            let mut segment = std::mem::take(&mut self.scratch_mut().segment);
            plan_segment(&g, &state.links, (n, port), *budget, &mut segment);
            (p, segment)
        };
        let mut stopped = None;
        {
            let mut runners = state.runners.borrow_mut();
            for (i, &(m, port)) in segment.iter().enumerate() {
                self.mark_start(&state, m);
                let _polling = current::polling(m);
                let start = StartCx {
                    shared: &state,
                    node: m,
                    first_port: port,
                };
                let step = runners[m as usize].as_mut().run_read(&[Mode::Read], &start, cx);
                match step {
                    // Nothing to drop; a plain drop here is an out-of-line call per link.
                    LinkStep::Published => std::mem::forget(step),
                    other => {
                        stopped = Some((i, other));
                        break;
                    }
                }
            }
        }
        let mut g = state.graph.borrow_mut();
        let published = stopped.as_ref().map_or(segment.len(), |(i, _)| *i);
        // Every link after the first that started (published or not) pays one unit.
        let started = published + usize::from(stopped.is_some());
        *budget -= started as u32 - 1;
        let last = finish_segment(&mut g, &state.links, &segment, (first, published, started));
        let outcome = match stopped {
            None => Ok(last.and_then(|m| g.wake_consumers(m))),
            Some((i, step)) => {
                let m = segment[i].0;
                begin_link(&mut g, m);
                Err((m, step))
            }
        };
        drop(g);
        self.scratch_mut().segment = segment;
        outcome.unwrap_or_else(|(m, step)| {
            self.settle(m, step);
            None
        })
    }

    /// Runs link `n` (port `port`, producer `p`, its read counted), which feeds no other link:
    /// the segment of [`run_links`](Self::run_links) with one link, without its planning.
    fn run_tail_link(
        &mut self,
        state: &Rc<FlowState>,
        (p, n, port): (u32, u32, u32),
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        self.mark_start(state, n);
        let step = {
            let _polling = current::polling(n);
            let start = StartCx {
                shared: state,
                node: n,
                first_port: port,
            };
            state.with_runner(n, |r| r.run_read(&[Mode::Read], &start, cx))
        };
        let mut g = state.graph.borrow_mut();
        if let LinkStep::Published = step {
            // Nothing to drop; a plain drop here is an out-of-line call per link.
            std::mem::forget(step);
            finish_segment(&mut g, &state.links, &[(n, port)], (p, 1, 1));
            return g.wake_consumers(n);
        }
        begin_link(&mut g, n);
        drop(g);
        self.settle(n, step);
        None
    }

    /// Marks the start of link `n`'s run in the dashboard's beacon, if the run has one, right
    /// before its body runs (the rest of its start bookkeeping comes after the segment).
    #[inline(always)]
    fn mark_start(&self, state: &FlowState, n: u32) {
        if let Some(b) = &self.beacon {
            b.mark(n, state.graph.borrow().nodes[n as usize].runs + 1);
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

/// The start bookkeeping of the general step (`prepare_start`) for link `n`, whose body ran
/// and did not publish, after the read of its producer was counted (its beacon mark came
/// before its body, see [`Scheduler::mark_start`]).
#[inline(always)]
fn begin_link(g: &mut Graph, n: u32) {
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
}

/// Fills `segment` with link `first` (node and port) and the links after it that will start
/// once the one before publishes: the next link's port turns fresh, it is idle and its own
/// consumers read its previous value ([`can_start`] after that publication), the budget lasts
/// (one unit per link after the first), nothing else is ready, and the publication does not
/// reach a generation limit (which stops the run there).
#[inline(always)]
fn plan_segment(g: &Graph, links: &Links, first: (u32, u32), budget: u32, segment: &mut Vec<(u32, u32)>) {
    segment.clear();
    segment.push(first);
    if !g.ready.is_empty() || g.stop.is_some() {
        return;
    }
    let (mut n, mut left) = (first.0, budget);
    let mut run = g.nodes[n as usize].run;
    while left > 0 && !reaches_limit(g, n, run) {
        let Some(c) = links.after(n) else { break };
        let consumer = &g.nodes[c as usize];
        let pi = consumer.ports.0;
        let stale = finished_stale(
            Some(Generation::finished(run)),
            g.ports[pi as usize].stitch,
            consumer.generation,
        );
        if stale || consumer.status != Status::Idle || consumer.read_left != 0 {
            break;
        }
        segment.push((c, pi));
        (n, run, left) = (c, consumer.run, left - 1);
    }
}

/// Whether publishing run `run` of `n` reaches the node's generation limit
/// ([`Graph::limit_reached`] after that publication).
#[inline(always)]
fn reaches_limit(g: &Graph, n: u32, run: u64) -> bool {
    g.limits
        .get(n as usize)
        .copied()
        .flatten()
        .is_some_and(|limit| Generation::finished(run) >= limit)
}

/// The graph side of the segment's steps, in order: the start and the publication of each of
/// the first `published` links, whose values are already in their cells (`p`: the first one's
/// producer). `started` links started in all; a link followed by a started one has had its
/// one reader, the rest wait for theirs. The port of the link after the last published one is
/// refreshed (or its consumers' ports, for the end of a chain). Returns the last published
/// link. Only that one's limit is checked: [`plan_segment`] ends a segment at the first link
/// whose publication reaches its limit, so no earlier one can.
#[inline(always)]
fn finish_segment(
    g: &mut Graph,
    links: &Links,
    segment: &[(u32, u32)],
    (mut p, published, started): (u32, usize, usize),
) -> Option<u32> {
    let epoch = g.epoch;
    let mut visited = 0;
    for (i, &(n, own)) in segment[..published].iter().enumerate() {
        let Graph { nodes, ports, .. } = &mut *g;
        let producer = nodes[p as usize].generation;
        let node = &mut nodes[n as usize];
        if node.visited != epoch {
            node.visited = epoch;
            visited += 1;
        }
        node.runs += 1;
        debug_assert!(!node.streaming, "a link never emits chunks");
        let generation = Some(Generation::finished(node.run));
        node.generation = generation;
        node.finish_run();
        if i + 1 < started {
            // `count_read` of the next link's one read: this node is idle, so no publication
            // waits for it, and the next link's port is its only plain consumer port.
            debug_assert_eq!(node.read_left, 1, "link {n} has one reader");
            node.read_left = 0;
        }
        // Its own input: the producer never streams, so only run indices compare.
        let port = &mut ports[own as usize];
        let stale = finished_stale(producer, port.stitch, generation);
        port.stale = stale;
        set_link_counts(node, stale);
        debug_assert_eq!(stale, g.compute_stale(own), "fused staleness of port {own} matches §3");
        p = n;
    }
    g.visited_count += visited;
    let last = published.checked_sub(1).map(|i| segment[i].0)?;
    let generation = g.nodes[last as usize].generation;
    // The link after the last published one: the one that started and did not publish (its
    // port turned fresh), or the next link that does not start now.
    let next = segment.get(published).copied().or_else(|| {
        let c = links.after(last)?;
        Some((c, g.nodes[c as usize].ports.0))
    });
    if let Some((c, pi)) = next {
        let stale = finished_stale(generation, g.ports[pi as usize].stitch, g.nodes[c as usize].generation);
        set_link_stale(g, pi, c, stale);
    } else {
        let (a, b) = g.consumers_of(last);
        for i in a..b {
            let pi = g.consumer_ports[i as usize];
            g.refresh_port(pi);
        }
    }
    if !g.limits.is_empty() {
        g.check_limit(last);
    }
    Some(last)
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
/// from it.
#[inline(always)]
fn set_link_stale(g: &mut Graph, pi: u32, node: u32, stale: bool) {
    debug_assert_eq!(stale, g.compute_stale(pi), "fused staleness of port {pi} matches §3");
    debug_assert_eq!(g.ports[pi as usize].node, node, "port {pi} is an input of node {node}");
    g.ports[pi as usize].stale = stale;
    set_link_counts(&mut g.nodes[node as usize], stale);
}

/// Sets the stale and fresh counts of a link from the staleness of its one port (what
/// [`Graph::refresh_port`] keeps in step): that port is connected, so it is the node's only
/// stale or fresh input.
#[inline(always)]
fn set_link_counts(node: &mut NodeMeta, stale: bool) {
    debug_assert_eq!(
        node.stale_inputs + node.fresh_inputs,
        1,
        "a link has one connected input"
    );
    node.stale_inputs = u32::from(stale);
    node.fresh_inputs = u32::from(!stale);
}
