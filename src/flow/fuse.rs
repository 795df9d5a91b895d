//! Fused chains: runs of plain nodes, each started by the one before it, stepped as one segment.
//!
//! A **link** is a node that is not streaming whose input ports (up to [`MAX_LINK_PORTS`]) are
//! all plain and connected to other nodes that do not stream: every port without default and
//! fed by an earlier node, or — a cycle's head, fed back through a default — any of them with
//! a default or fed by a later node, provided a link follows it. A link *follows* an earlier
//! producer whose only consumer port is one of its ports (its *spine*): a chain's nodes follow
//! one another, the adders of a reduction chain `add(add(add(a, b), c), d)` do too, and a
//! cycle's lap runs from its head. `build()` plans the links once ([`Links::plan`]). When a
//! link is about to start, the scheduler runs it — and, while nothing else is ready, every link
//! after it that can then start — as one segment in
//! [`Scheduler::run_links`](super::scheduler::Scheduler): it decides from the graph which
//! links will start, runs their bodies back to back (one virtual call per node,
//! [`Runner::run_read`](super::runner::Runner::run_read), gathers the values, calls and polls
//! the body and stores its value), then does the graph bookkeeping of the whole segment in one
//! pass. A link that follows none, or that starts while other nodes are ready, is a segment of
//! its own, without the planning (or runs with its siblings, below). A chain laid out in order — each link numbered right after
//! the one it follows, its port right after that one's, the builder's usual shape — in a run
//! that is not stopped takes [`Scheduler::run_chain`](super::scheduler::Scheduler): the
//! same three passes over slices of the nodes, ports and runners walked in step (also for a
//! reduction chain in order, whose adders' first ports are the spine). Such a chain whose
//! last link feeds its head alone, a *ring*, laps in one loop (`run_laps`): each body updates
//! its own node as it publishes, the rest is done once after the loop. The one-port links
//! a fan-out made ready together, *siblings*, run back to back too (`run_siblings`), each
//! one's bookkeeping after all bodies, in list order. That bookkeeping is reduced to what an
//! observer can see: generation, run index, run count, status, the producers' read counts
//! and the staleness flags and counts of the ports involved. Nothing can observe the graph between two bodies of
//! a segment except a body itself, which sees only its own node
//! ([`current_node`](super::current_node)), unchanged until its own publication, and the
//! dashboard's beacon, which is marked before each body.
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

use std::pin::Pin;
use std::rc::Rc;
use std::task::Context;

use super::args::StartCx;
use super::current;
use super::error::NodeFault;
use super::generation::Generation;
use super::resolve::input_name;
use super::runner::{LinkStep, Runner};
use super::scheduler::Scheduler;
use super::state::{Action, FlowState, Graph, Mode, NodeMeta, Status};

/// No link follows.
const NONE: u32 = u32::MAX;

/// The most input ports a link may have (its run gathers with a slice of that many reads).
const MAX_LINK_PORTS: usize = 16;

/// A mode per port of a link: every port is read from its producer.
const READS: [Mode; MAX_LINK_PORTS] = [Mode::Read; MAX_LINK_PORTS];

/// The links of a flow, planned at build time from the graph's shape (which never changes
/// after `build()`).
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// `next[p]`: the link that node `p` feeds through its only consumer port, or `NONE`.
    /// Empty when the flow has no link at all.
    next: Vec<u32>,
    /// `ring[c]`: for a cycle's head `c` with one port, fed by a later node that feeds it
    /// alone, that node (the last link of a ring from `c`, when the nodes between are a
    /// chain laid out in order); else `NONE`. Empty when the flow has no such head.
    ring: Vec<u32>,
}

impl Links {
    /// Finds every link of a built graph (consumer lists filled in) and flags it
    /// (`NodeMeta::link`), and which link follows which producer.
    ///
    /// A link is a node that does not stream, with 1 to [`MAX_LINK_PORTS`] input ports, each
    /// a plain port connected to another node that does not stream. It follows each earlier
    /// producer whose only consumer port is one of its ports (a *spine* port: that producer's
    /// publication is what can let the link start within a segment). A chain's nodes are
    /// links with one port; so are the adders of a reduction chain (`add(acc, x)`), which
    /// follow `acc` and `x` when those feed nothing else.
    ///
    /// A node with a port that has a default or is fed by a later node — a cycle's head, whose
    /// way back has a default — is a link only when a link follows it: it then starts (or
    /// continues) a segment once all its ports are fresh, reading every port as the general
    /// step would; while one is stale, the general step takes the default. Such a node with
    /// nothing after it in a segment stays with the general step, whose publication to many
    /// consumers costs less than a lone link's.
    pub(crate) fn plan(g: &mut Graph) -> Links {
        let mut next = Vec::new();
        // Nodes whose ports are plain but not all from earlier nodes without default.
        let mut heads = Vec::new();
        let all_consumers = g.consumer_ports.len() as u32;
        let Graph { nodes, ports, .. } = g;
        // `Graph::consumers_of(p)` has one port: its range ends where the next node's starts.
        let sole_consumer = |nodes: &[NodeMeta], p: usize| {
            let end = nodes.get(p + 1).map_or(all_consumers, |n| n.consumers);
            end - nodes[p].consumers == 1
        };
        'nodes: for c in 0..nodes.len() {
            let (a, b) = nodes[c].ports;
            let k = (b - a) as usize;
            if nodes[c].streaming || k == 0 || k > MAX_LINK_PORTS {
                continue;
            }
            let inputs = &ports[a as usize..b as usize];
            // Every port plain; and (`earlier`) all fed by earlier nodes, without default.
            let mut earlier = true;
            for port in inputs {
                let Some(p) = port.producer else { continue 'nodes };
                if port.level != 0 || p as usize == c || nodes[p as usize].streaming {
                    continue 'nodes;
                }
                earlier &= !port.has_default && (p as usize) < c;
            }
            if !earlier {
                heads.push(c);
                continue;
            }
            if next.is_empty() {
                next = vec![NONE; nodes.len()];
            }
            nodes[c].link = true;
            for port in inputs {
                let p = port.producer.expect("checked above") as usize;
                if sole_consumer(nodes, p) {
                    next[p] = c as u32;
                }
            }
        }
        let mut ring = Vec::new();
        // Last first: a head that comes to follow an earlier head makes that one a link too.
        for &c in heads.iter().rev() {
            if next.get(c).is_none_or(|&d| d == NONE) {
                continue;
            }
            nodes[c].link = true;
            let (a, b) = nodes[c].ports;
            for port in &ports[a as usize..b as usize] {
                let p = port.producer.expect("checked above") as usize;
                // Only an earlier producer: a segment walks forward, so it never comes back
                // to a link it holds (a cycle's way back ends the segment) — but a way back
                // from a later node that feeds a one-port head alone closes a ring.
                if p < c && sole_consumer(nodes, p) {
                    next[p] = c as u32;
                } else if p > c && b - a == 1 && sole_consumer(nodes, p) {
                    if ring.is_empty() {
                        ring = vec![NONE; nodes.len()];
                    }
                    ring[c] = p as u32;
                }
            }
        }
        Links { next, ring }
    }

    /// Whether the flow has any link.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.next.is_empty()
    }

    /// Whether `last` feeds the one port of the cycle's head `c`, and nothing else.
    #[inline]
    fn closes_ring(&self, c: u32, last: u32) -> bool {
        self.ring.get(c as usize) == Some(&last)
    }

    /// The link fed by `p`, if any.
    #[inline]
    fn after(&self, p: u32) -> Option<u32> {
        self.next.get(p as usize).copied().filter(|&c| c != NONE)
    }
}

/// One link of a segment: the node and its input ports (a global range).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    node: u32,
    ports: (u32, u32),
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
        // A flow without links (one whose nodes all stream or take defaults) pays one flag.
        let fusable = self.fuse && {
            let g = self.state.graph.borrow();
            g.nodes[n as usize].link && can_start(&g, n, Status::Ready(Action::Start))
        };
        if fusable {
            self.run_links(n, budget, cx)
        } else {
            self.step(n, budget, cx)
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
    ///    generation and run are only changed by its own publication), and reads the values
    ///    its producers stored (the one before it in the segment just did).
    /// 3. The graph bookkeeping of every link that ran ([`finish_segment`]), in order, ending
    ///    in the state the node-by-node steps leave: the observable generation, run index, run
    ///    count, status, read counts and port staleness of each node.
    fn run_links(&mut self, n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        let state = Rc::clone(&self.state);
        let first = {
            let mut g = state.graph.borrow_mut();
            let first = Member {
                node: n,
                ports: g.nodes[n as usize].ports,
            };
            // The first link's reads, in port order as the general step counts them; a
            // producer waiting for its last read publishes next (and ends the segment at `n`).
            for pi in first.ports.0..first.ports.1 {
                let p = g.ports[pi as usize].producer.expect("a link's ports are connected");
                g.count_read(p);
            }
            if !g.ready.is_empty() {
                // It starts while other nodes are ready, so no segment follows it; its
                // siblings listed right after it may run beside it (see `run_siblings`).
                let more = plan_siblings(&g, first, *budget);
                drop(g);
                return if more == 0 {
                    self.run_tail_link(&state, first, cx)
                } else {
                    self.run_siblings(&state, first, more, budget, cx)
                };
            }
            if state.links.after(n).is_none() {
                // No other link follows this one (the one of a cycle, say): no planning.
                drop(g);
                return self.run_tail_link(&state, first, cx);
            }
            if g.stop.is_none() && state.links.after(n) == Some(n + 1) {
                // A chain laid out in order (the builder's usual shape), or a reduction chain
                // laid out in order (each adder's spine its first port): see `run_chain`.
                match first.ports.1 - first.ports.0 {
                    1 => {
                        drop(g);
                        return self.run_chain::<1>(&state, first, budget, cx);
                    }
                    2 if in_order::<2>(&g, first) => {
                        drop(g);
                        return self.run_chain::<2>(&state, first, budget, cx);
                    }
                    _ => {}
                }
            }
            first
        };
        if first.ports.1 - first.ports.0 == 1 {
            self.run_segment::<true>(&state, first, budget, cx)
        } else {
            self.run_multi_segment(&state, first, budget, cx)
        }
    }

    /// [`run_segment`](Self::run_segment) for a segment that starts at a link with more than
    /// one port (an adder of a reduction chain, say): kept out of line, so that the chain
    /// segments' loop stays small.
    #[inline(never)]
    fn run_multi_segment(
        &mut self,
        state: &Rc<FlowState>,
        first: Member,
        budget: &mut u32,
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        self.run_segment::<false>(state, first, budget, cx)
    }

    /// The three passes of [`run_links`](Self::run_links) from link `first` (its reads
    /// counted). `SINGLE`: the segment holds only links with one port (a plain chain), which
    /// skips the walks over ports.
    #[inline(always)]
    fn run_segment<const SINGLE: bool>(
        &mut self,
        state: &Rc<FlowState>,
        first: Member,
        budget: &mut u32,
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        let segment = {
            let g = state.graph.borrow();
            let mut segment = std::mem::take(&mut self.scratch_mut().segment);
            plan_segment::<SINGLE>(&g, &state.links, first, *budget, &mut segment);
            segment
        };
        let mut stopped = None;
        {
            let mut runners = state.runners.borrow_mut();
            for (i, &m) in segment.iter().enumerate() {
                let step = self.run_body(state, m, runners[m.node as usize].as_mut(), cx);
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
        let last = finish_segment::<SINGLE>(&mut g, &segment[..started], published);
        let outcome = match stopped {
            None => Ok(last.and_then(|m| g.wake_consumers(m))),
            Some((i, step)) => Err((segment[i].node, step)),
        };
        drop(g);
        self.scratch_mut().segment = segment;
        outcome.unwrap_or_else(|(m, step)| {
            self.settle(m, step);
            None
        })
    }

    /// The three passes of [`run_links`](Self::run_links) for a chain laid out in order: link
    /// `first` (`K` ports, its reads counted) and links `first + 1`, `first + 2`, ... each with
    /// `K` ports, numbered after the one before it, whose ports come right after the one
    /// before's, the first of them (the *spine*) fed by it alone — the shape a builder's chain
    /// has (`K = 1`), or a reduction chain's `add(add(add(a, b), c), d)` (`K = 2`: the other
    /// port of each adder, its *side*, is fed by a node outside the segment). The run is not
    /// stopped; a link whose publication reaches its generation limit ends the segment (see
    /// [`plan_chain`]). With nodes, ports and runners contiguous, each
    /// pass walks slices in step instead of looking every link up: the same decisions and the
    /// same bookkeeping as [`run_segment`](Self::run_segment), in fewer steps per link.
    fn run_chain<const K: usize>(
        &mut self,
        state: &Rc<FlowState>,
        first: Member,
        budget: &mut u32,
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        let n = first.node;
        let (more, ring) = {
            let g = state.graph.borrow();
            let more = if g.limits.is_empty() {
                plan_chain::<false, K>(&g, &state.links, first, *budget)
            } else {
                plan_chain::<true, K>(&g, &state.links, first, *budget)
            };
            let ring = K == 1 && state.links.closes_ring(n, n + more as u32) && laps_again(&g, first, more);
            (more, ring)
        };
        if ring {
            return if state.graph.borrow().limits.is_empty() {
                self.run_laps::<false>(state, first, more + 1, budget, cx)
            } else {
                self.run_laps::<true>(state, first, more + 1, budget, cx)
            };
        }
        let stopped = self.run_bodies::<K>(state, first, more, cx);
        let mut g = state.graph.borrow_mut();
        let published = stopped.as_ref().map_or(more + 1, |(i, _)| *i);
        let started = published + usize::from(stopped.is_some());
        *budget -= started as u32 - 1;
        finish_chain::<K>(&mut g, first, started, published);
        match stopped {
            None => g.wake_consumers(n + more as u32),
            Some((i, step)) => {
                drop(g);
                self.settle(n + i as u32, step);
                None
            }
        }
    }

    /// [`run_chain`](Self::run_chain) for a ring: the `m` links `first`, `first + 1`, ... laid
    /// out as a chain whose last one feeds the first one alone ([`laps_again`]), a cycle whose
    /// laps follow one another with nothing else ready — the general steps would run lap after
    /// lap, each a chain segment started by the last link's hand-off to the first. Here the
    /// bodies run lap after lap in one loop, with no planning between laps: what the first lap
    /// was planned on holds for every lap, as each lap moves every link's run index on by one.
    ///
    /// Each body's publication updates its own node at once (its generation, run index and run
    /// count, which the body's next run sees through [`current_node`](super::current_node));
    /// the rest of the bookkeeping is done once, after the loop, for the state the last lap
    /// leaves ([`finish_laps`]). The loop ends when the budget is spent (each body after the
    /// first takes a unit, as a link or a hand-off does), at a publication that reaches its
    /// node's generation limit, or at a body that waits, fails or panics; the step after it
    /// (the hand-off, or the failure) is the general one.
    #[inline(never)]
    fn run_laps<const LIMITS: bool>(
        &mut self,
        state: &Rc<FlowState>,
        first: Member,
        m: usize,
        budget: &mut u32,
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        let n = first.node;
        let cap = *budget as usize + 1;
        let mut started = 0;
        let mut stopped = None;
        {
            let mut runners = state.runners.borrow_mut();
            let runners = &mut runners[n as usize..n as usize + m];
            let _polling = current::polling(n);
            'laps: loop {
                for (i, r) in runners.iter_mut().enumerate() {
                    if started == cap {
                        break 'laps;
                    }
                    let node = n + i as u32;
                    started += 1;
                    let step = self.run_next_body::<1>(state, node, first.ports.0 + i as u32, r.as_mut(), cx);
                    match step {
                        // Nothing to drop; a plain drop here is an out-of-line call per link.
                        LinkStep::Published => std::mem::forget(step),
                        other => {
                            stopped = Some((i, other));
                            break 'laps;
                        }
                    }
                    let mut g = state.graph.borrow_mut();
                    let meta = &mut g.nodes[node as usize];
                    meta.generation = Some(Generation::finished(meta.run));
                    meta.run += 1;
                    meta.runs += 1;
                    if LIMITS && g.limit_reached(node) {
                        break 'laps;
                    }
                }
            }
        }
        *budget -= started as u32 - 1;
        let mut g = state.graph.borrow_mut();
        let published = started - usize::from(stopped.is_some());
        finish_laps(&mut g, first, m, started, stopped.as_ref().map(|(i, _)| *i));
        match stopped {
            None => g.wake_consumers(n + ((published - 1) % m) as u32),
            Some((i, step)) => {
                drop(g);
                self.settle(n + i as u32, step);
                None
            }
        }
    }

    /// Runs link `first` (one port, its read counted), which starts while other nodes are
    /// ready, and its `more` siblings listed right after it on the ready list
    /// ([`plan_siblings`]): one-port links numbered and with ports one after another, all fed
    /// by the same producer — the nodes a fan-out made ready, as a loop of
    /// `b.node(f, (src,))` lays them out. The general steps would run them in turn, each
    /// popped from the list; here their bodies run back to back over a slice of the runners,
    /// then each one's bookkeeping, in order: its read (all but the first's), its start and
    /// publication and the wake of its consumers. That leaves the same state and the same
    /// ready list order: nothing but a body observes the graph in between, and a body sees its
    /// own node only; no sibling feeds another, so each body reads the value it would have
    /// read in its own step. A body that waits, fails or panics ends the run of siblings; the
    /// ones after it stay listed.
    fn run_siblings(
        &mut self,
        state: &Rc<FlowState>,
        first: Member,
        more: usize,
        budget: &mut u32,
        cx: &mut Context<'_>,
    ) -> Option<u32> {
        let n = first.node;
        let stopped = self.run_bodies::<1>(state, first, more, cx);
        let published = stopped.as_ref().map_or(more + 1, |(i, _)| *i);
        let started = published + usize::from(stopped.is_some());
        *budget -= started as u32 - 1;
        let mut g = state.graph.borrow_mut();
        let producer = g.ports[first.ports.0 as usize]
            .producer
            .expect("a link's ports are connected");
        // The reads of all but the first (counted before it ran), at once: the producer does
        // not wait for its last read to publish (see `plan_siblings`), so that is all they do.
        let read_left = &mut g.nodes[producer as usize].read_left;
        *read_left = read_left.saturating_sub(started as u32 - 1);
        // All but the first (already taken) and the last that started leave the list now:
        // the last one stays listed while the ones before it wake their consumers, so none
        // of them hands a consumer off, as in their own steps.
        if started > 2 {
            debug_assert!(g.ready.iter().take(started - 1).eq(n + 1..n + started as u32));
            g.ready.skip(started - 2);
        }
        let produced = g.nodes[producer as usize].generation;
        let mut next = None;
        for i in 0..started {
            let c = n + i as u32;
            if i > 0 && i == started - 1 {
                let listed = g.ready.pop_front();
                debug_assert_eq!(listed, Some(c), "siblings are listed in order");
            }
            if i == published {
                // Started, not published: running, as its start left it.
                g.mark_visited(c);
                let node = &mut g.nodes[c as usize];
                node.runs += 1;
                node.status = Status::Running;
                break;
            }
            publish_sibling(&mut g, c, first.ports.0 + i as u32, produced, i == more);
            // Only the last one can hand a consumer off: the list holds the others while the
            // ones before it wake their consumers.
            let handed = g.wake_consumers(c);
            debug_assert!(next.is_none(), "a hand-off before the last sibling");
            next = handed;
        }
        drop(g);
        if let Some((i, step)) = stopped {
            self.settle(n + i as u32, step);
            return None;
        }
        next
    }

    /// The bodies of links `first`, `first + 1`, ... `first + more`, numbered one after another
    /// with `K` ports each, laid out one after another from `first`'s (a chain in order, or
    /// siblings with `K = 1`), run back to back through a slice of the runner table, each with
    /// [`run_next_body`](Self::run_next_body), until one does not publish: returns its index
    /// (from 0, `first`'s) and what it did.
    #[inline(always)]
    fn run_bodies<const K: usize>(
        &self,
        state: &Rc<FlowState>,
        first: Member,
        more: usize,
        cx: &mut Context<'_>,
    ) -> Option<(usize, LinkStep)> {
        let n = first.node;
        let mut runners = state.runners.borrow_mut();
        let runners = &mut runners[n as usize..=n as usize + more];
        let _polling = current::polling(n);
        for (i, r) in runners.iter_mut().enumerate() {
            let step = self.run_next_body::<K>(state, n + i as u32, first.ports.0 + (i * K) as u32, r.as_mut(), cx);
            match step {
                // Nothing to drop; a plain drop here is an out-of-line call per link.
                LinkStep::Published => std::mem::forget(step),
                other => return Some((i, other)),
            }
        }
        None
    }

    /// [`run_body`](Self::run_body) for one of the links run back to back under one
    /// [`current::polling`] guard: link `node`, with `K` ports from global port `first_port`,
    /// runs through its runner `r` (every port read), marked in the beacon first and named
    /// as the node being polled.
    #[inline(always)]
    fn run_next_body<const K: usize>(
        &self,
        state: &Rc<FlowState>,
        node: u32,
        first_port: u32,
        r: Pin<&mut dyn Runner>,
        cx: &mut Context<'_>,
    ) -> LinkStep {
        if let Some(b) = &self.beacon {
            b.mark(node, state.graph.borrow().nodes[node as usize].runs + 1);
        }
        current::polling_next(node);
        let start = StartCx {
            shared: state,
            node,
            first_port,
        };
        r.run_read(&READS[..K], &start, cx)
    }

    /// Runs link `link` (its reads counted) as a segment of its own, without the planning of
    /// [`run_links`](Self::run_links): no link follows it, or other nodes are ready.
    fn run_tail_link(&mut self, state: &Rc<FlowState>, link: Member, cx: &mut Context<'_>) -> Option<u32> {
        let n = link.node;
        let step = state.with_runner(n, |r| self.run_body(state, link, r, cx));
        let mut g = state.graph.borrow_mut();
        if let LinkStep::Published = step {
            // Nothing to drop; a plain drop here is an out-of-line call per link.
            std::mem::forget(step);
            finish_segment::<false>(&mut g, &[link], 1);
            return g.wake_consumers(n);
        }
        finish_segment::<false>(&mut g, &[link], 0);
        drop(g);
        self.settle(n, step);
        None
    }

    /// Runs the body of link `m` through its runner `r` (one `run_read`, every port read):
    /// first marks the start of its run in the dashboard's beacon, if the run has one (the
    /// rest of its start bookkeeping comes after the segment), and names it as the node being
    /// polled.
    #[inline(always)]
    fn run_body(&self, state: &Rc<FlowState>, m: Member, r: Pin<&mut dyn Runner>, cx: &mut Context<'_>) -> LinkStep {
        if let Some(b) = &self.beacon {
            b.mark(m.node, state.graph.borrow().nodes[m.node as usize].runs + 1);
        }
        let _polling = current::polling(m.node);
        let start = StartCx {
            shared: state,
            node: m.node,
            first_port: m.ports.0,
        };
        r.run_read(&READS[..(m.ports.1 - m.ports.0) as usize], &start, cx)
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

/// Fills `segment` with link `first` and the links after it that will start once the one
/// before publishes: the next link's ports are then all fresh (its spine port turns fresh, the
/// others already are), it is idle and its own consumers read its previous value
/// ([`can_start`] after that publication), the budget lasts (one unit per link after the
/// first), nothing else is ready, and the publication does not reach a generation limit (which
/// stops the run there). A link whose reads let a producer publish (one waiting for its last
/// read) ends the segment, as that producer is then ready.
#[inline(always)]
fn plan_segment<const SINGLE: bool>(g: &Graph, links: &Links, first: Member, budget: u32, segment: &mut Vec<Member>) {
    segment.clear();
    segment.push(first);
    if !g.ready.is_empty() || g.stop.is_some() {
        return;
    }
    let (mut n, mut left) = (first.node, budget);
    let mut run = g.nodes[n as usize].run;
    while left > 0 && !reaches_limit(g, n, run) {
        let Some(c) = links.after(n) else { break };
        let consumer = &g.nodes[c as usize];
        let (a, b) = consumer.ports;
        let produced = Some(Generation::finished(run));
        if SINGLE && b - a != 1 {
            break;
        }
        let (stale_after, wakes) = if SINGLE || b - a == 1 {
            // A chain link: its one port is the spine.
            let stale = finished_stale(produced, g.ports[a as usize].stitch, consumer.generation);
            (u32::from(stale), false)
        } else {
            let (mut stale_after, mut wakes) = (consumer.stale_inputs, false);
            for port in &g.ports[a as usize..b as usize] {
                let p = port.producer.expect("a link's ports are connected");
                if p == n {
                    let stale = finished_stale(produced, port.stitch, consumer.generation);
                    stale_after = stale_after - u32::from(port.stale) + u32::from(stale);
                } else {
                    wakes |= g.nodes[p as usize].status == Status::Publishing;
                }
            }
            (stale_after, wakes)
        };
        if stale_after != 0 || consumer.status != Status::Idle || consumer.read_left != 0 {
            break;
        }
        segment.push(Member { node: c, ports: (a, b) });
        if wakes {
            break;
        }
        (n, run, left) = (c, consumer.run, left - 1);
    }
}

/// How many siblings of link `first` (its read counted), which starts while other nodes are
/// ready, [`run_siblings`](Scheduler::run_siblings) runs beside it (at most `budget`): the
/// nodes listed right after it on the ready list while each is a link that can start
/// ([`can_start`] as `Ready(Start)`), numbered right after the one before, with one port
/// right after the one before's, fed by the same producer as `first`'s. None when `first` has
/// more than one port, the run is stopped or the producer waits for its last read to publish
/// a newer value; the run of siblings ends at one whose publication reaches its generation
/// limit (which stops the run there).
///
/// What the planning sees holds while they run: a sibling's start and publication change
/// nothing another one's start depends on (no sibling feeds another; their producer's reads
/// only count down).
#[inline(always)]
fn plan_siblings(g: &Graph, first: Member, budget: u32) -> usize {
    let (n, p) = (first.node, first.ports.0);
    if first.ports.1 - p != 1 || g.stop.is_some() || reaches_limit(g, n, g.nodes[n as usize].run) {
        return 0;
    }
    let producer = g.ports[p as usize].producer;
    if producer.is_none_or(|q| g.nodes[q as usize].status == Status::Publishing) {
        // Their reads would let the producer publish (a newer value waits for them): its
        // place on the ready list depends on which read is the last, so each takes its step.
        // (Siblings that wait for such a producer come back from the resolution queue one at
        // a time, so they are not listed together; this keeps the batch from relying on it.)
        return 0;
    }
    let mut more = 0;
    for c in g.ready.iter().take(budget as usize) {
        let i = more + 1;
        let q = p + i;
        if c != n + i {
            break;
        }
        let node = &g.nodes[c as usize];
        if !node.link
            || node.ports != (q, q + 1)
            || g.ports[q as usize].producer != producer
            || !can_start(g, c, Status::Ready(Action::Start))
        {
            break;
        }
        more += 1;
        if reaches_limit(g, c, node.run) {
            break;
        }
    }
    more as usize
}

/// The start and publication of sibling `c` (see [`run_siblings`](Scheduler::run_siblings)),
/// whose body ran and stored its value: its one port `pi`, fed by a producer whose generation
/// is `produced`, was read (and counted); it is visited, counts the run, takes generation
/// `(run,)`, compares its port with the producer's generation again, and refreshes its
/// consumer ports as a publication does. Only the `last` one planned checks its generation
/// limit: none before it can reach one (see [`plan_siblings`]).
#[inline(always)]
fn publish_sibling(g: &mut Graph, c: u32, pi: u32, produced: Option<Generation>, last: bool) {
    let epoch = g.epoch;
    let node = &mut g.nodes[c as usize];
    if node.visited != epoch {
        node.visited = epoch;
        g.visited_count += 1;
    }
    node.runs += 1;
    let published = Generation::finished(node.run);
    let generation = Some(published);
    node.generation = generation;
    node.finish_run();
    let port = &mut g.ports[pi as usize];
    let stale = finished_stale(produced, port.stitch, generation);
    port.stale = stale;
    debug_assert_eq!(node.stale_inputs + node.fresh_inputs, 1, "a sibling has one port");
    node.stale_inputs = u32::from(stale);
    node.fresh_inputs = u32::from(!stale);
    debug_assert_eq!(stale, g.compute_stale(pi), "fused staleness of port {pi} matches §3");
    g.refresh_consumers::<false>(c, published);
    if last && !g.limits.is_empty() {
        g.check_limit(c);
    }
    debug_assert!(
        last || !g.limit_reached(c),
        "only the last sibling planned reaches a limit"
    );
}

/// Whether link `first` (with `K` ports) is followed in order by a link of `K` ports whose
/// first port it feeds: the start of a chain [`run_chain`](Scheduler::run_chain) can take.
#[inline(always)]
fn in_order<const K: usize>(g: &Graph, first: Member) -> bool {
    let (n, q) = (first.node as usize, first.ports.1);
    g.nodes.get(n + 1).is_some_and(|c| c.ports == (q, q + K as u32)) && g.ports[q as usize].producer == Some(first.node)
}

/// How many links after `first` will start in a [`run_chain`](Scheduler::run_chain) segment
/// (at most `budget`): [`plan_segment`]'s decisions for a chain laid out in order, in a run
/// that is not stopped. Link `first + i + 1` follows when `first + i` feeds it alone
/// (`Links::after`) through its first port and that publication does not reach its
/// generation limit; it has `K` ports right after the one before's, it is idle, its own
/// consumers read its previous value and its first port turns fresh with the publication.
/// With `K = 2` its side port must be fresh already, and fed by a node that does not wait for
/// its last read to publish (a segment would end at the link whose read lets it publish: here
/// it ends before, and that link takes a step of its own). `LIMITS`: the run has generation
/// limits.
#[inline(always)]
fn plan_chain<const LIMITS: bool, const K: usize>(g: &Graph, links: &Links, first: Member, budget: u32) -> usize {
    if !g.ready.is_empty() {
        return 0;
    }
    let (n, p) = (first.node as usize, first.ports.0 as usize);
    let mut run = g.nodes[n].run;
    let followers = links.next[n..]
        .iter()
        .zip(&g.nodes[n + 1..])
        .zip(g.ports[p + K..].iter().step_by(K));
    let mut more = 0;
    for ((&next, node), spine) in followers.take(budget as usize) {
        let (c, q) = ((n + more + 1) as u32, (p + (more + 1) * K) as u32);
        if next != c
            || (LIMITS && reaches_limit(g, c - 1, run))
            || node.ports != (q, q + K as u32)
            || node.status != Status::Idle
            || node.read_left != 0
            || (K > 1 && spine.producer != Some(c - 1))
            || finished_stale(Some(Generation::finished(run)), spine.stitch, node.generation)
        {
            break;
        }
        if K > 1 {
            let side = &g.ports[q as usize + 1];
            let s = side.producer.expect("a link's ports are connected");
            if side.stale || g.nodes[s as usize].status == Status::Publishing {
                break;
            }
        }
        more += 1;
        run = node.run;
    }
    more
}

/// [`finish_segment`] for a [`run_chain`](Scheduler::run_chain) segment: the links `first`,
/// `first + 1`, ... of which `started` ran their bodies and the first `published` published.
/// Each published link but the last is read by the next one (its only reader); each link
/// after the first that started reads its side producer, if it has one (the first one's reads
/// were counted before it ran); the last published one's consumer ports are refreshed and its
/// limit checked (only it can reach one, see [`plan_chain`]).
#[inline(always)]
fn finish_chain<const K: usize>(g: &mut Graph, first: Member, started: usize, published: usize) {
    let epoch = g.epoch;
    let Graph {
        nodes,
        ports,
        visited_count,
        ..
    } = &mut *g;
    let (n, p) = (first.node as usize, first.ports.0 as usize);
    if K > 1 {
        // The side ports, before the links' own nodes are borrowed: each link after the first
        // that started read its side producer (which does not wait for that read, see
        // `plan_chain`, so this is all `count_read` does; the first link's reads were counted
        // before it ran), and each one that published compares that producer's generation
        // with its new one.
        for i in 0..started {
            let side = &mut ports[p + i * K + 1];
            let s = side.producer.expect("a link's ports are connected") as usize;
            if i > 0 {
                debug_assert!(nodes[s].status != Status::Publishing, "planned without");
                nodes[s].read_left = nodes[s].read_left.saturating_sub(1);
            }
            if i < published {
                let generation = Some(Generation::finished(nodes[n + i].run));
                side.stale = finished_stale(nodes[s].generation, side.stitch, generation);
            }
        }
    }
    // The generation the first link's first port is compared with: its producer's (outside
    // the chain, before it); then each link's own new one.
    let q = ports[p].producer.expect("a link's ports are connected") as usize;
    let mut produced = nodes[q].generation;
    let (done, rest) = nodes[n..n + started].split_at_mut(published);
    let visit = |node: &mut NodeMeta, visited_count: &mut usize| {
        if node.visited != epoch {
            node.visited = epoch;
            *visited_count += 1;
        }
        node.runs += 1;
        debug_assert!(!node.streaming, "a link never emits chunks");
    };
    for (node, link_ports) in done.iter_mut().zip(ports[p..p + published * K].chunks_exact_mut(K)) {
        visit(node, visited_count);
        let generation = Some(Generation::finished(node.run));
        node.generation = generation;
        node.finish_run();
        // Read by the next link, its only reader (`count_read` of an idle node); the last
        // one's readers are set below.
        node.read_left = 0;
        let spine = &mut link_ports[0];
        spine.stale = finished_stale(produced, spine.stitch, generation);
        let stale = link_ports.iter().map(|port| u32::from(port.stale)).sum::<u32>();
        debug_assert_eq!(
            node.stale_inputs + node.fresh_inputs,
            K as u32,
            "a chain link has K ports"
        );
        node.stale_inputs = stale;
        node.fresh_inputs = K as u32 - stale;
        produced = generation;
    }
    match rest.first_mut() {
        // The link that started and did not publish (it read the last published one).
        Some(node) => {
            visit(node, visited_count);
            node.status = Status::Running;
        }
        None => {
            if let Some(last) = done.last_mut() {
                last.read_left = last.plain_consumer_ports;
            }
        }
    }
    if published > 0 {
        segment_published(g, (n + published - 1) as u32);
    }
    // After the refresh: in a cycle the last link feeds the first one's port.
    if cfg!(debug_assertions) {
        for pi in p..p + published * K {
            assert_eq!(
                g.ports[pi].stale,
                g.compute_stale(pi as u32),
                "fused staleness of port {pi} matches §3"
            );
        }
    }
}

/// Whether the chain segment of [`run_chain`](Scheduler::run_chain) from link `first` with
/// `more` links after it, a ring (its last link feeds the first one's only port and nothing
/// else, [`Links::closes_ring`]), has laps that can follow one another
/// ([`run_laps`](Scheduler::run_laps)): the first link's port is fresh again once the lap has
/// run. Its staleness compares run indices that every lap moves on by one, so the answer is
/// the same for every lap. The other conditions for the next lap's start hold after every
/// lap: the first link is idle, read by the second, and read the last one's value itself; the
/// others' as in the first lap.
#[inline(always)]
fn laps_again(g: &Graph, first: Member, more: usize) -> bool {
    let last = first.node + more as u32;
    debug_assert_eq!(
        g.consumers_of(last).1 - g.consumers_of(last).0,
        1,
        "a ring's last link feeds the first alone"
    );
    // After the lap: the first link's generation is its current run, the last one's too.
    let after = |n: u32| Some(Generation::finished(g.nodes[n as usize].run));
    !finished_stale(after(last), g.ports[first.ports.0 as usize].stitch, after(first.node))
}

/// The bookkeeping of [`run_laps`](Scheduler::run_laps) after its loop, for the state the
/// general steps leave after the same bodies: the `m` links of the ring from `first`, of
/// which `started` bodies ran in ring order (over one or more laps), all published but
/// `stopped` (a link's index in the ring), if any. Each published body has already set its
/// node's generation, run index and run count.
///
/// Every link that ran is visited; a stopped one is running (its run counted), the others
/// idle. Every link's latest value was read by the next one, except, when nothing stopped,
/// the last published one's (its consumer has not started). Port staleness follows from the
/// generations (§3), and the last published link refreshes its consumer port and checks its
/// generation limit, as its publication does.
fn finish_laps(g: &mut Graph, first: Member, m: usize, started: usize, stopped: Option<usize>) {
    let epoch = g.epoch;
    let (n, p) = (first.node as usize, first.ports.0 as usize);
    let published = started - usize::from(stopped.is_some());
    let ran = started.min(m);
    {
        let Graph {
            nodes,
            ports,
            visited_count,
            ..
        } = &mut *g;
        for (i, node) in nodes[n..n + ran].iter_mut().enumerate() {
            if node.visited != epoch {
                node.visited = epoch;
                *visited_count += 1;
            }
            // Read by the next link (the stopped one read the one before it); a link's
            // `cancelled` flag stays clear, as it never streams.
            node.read_left = 0;
            if stopped == Some(i) {
                node.runs += 1;
                node.status = Status::Running;
            } else {
                node.status = Status::Idle;
            }
        }
        if stopped.is_none() {
            let last = &mut nodes[n + (published - 1) % m];
            last.read_left = last.plain_consumer_ports;
        }
        // Each link's port is fed by the one before it in the ring.
        let mut producer = n + m - 1;
        for i in 0..m {
            let stale = finished_stale(nodes[producer].generation, ports[p + i].stitch, nodes[n + i].generation);
            ports[p + i].stale = stale;
            let node = &mut nodes[n + i];
            debug_assert_eq!(node.stale_inputs + node.fresh_inputs, 1, "a ring link has one port");
            node.stale_inputs = u32::from(stale);
            node.fresh_inputs = u32::from(!stale);
            producer = n + i;
        }
    }
    if published > 0 {
        segment_published(g, (n + (published - 1) % m) as u32);
    }
    if cfg!(debug_assertions) {
        for pi in p..p + m {
            assert_eq!(
                g.ports[pi].stale,
                g.compute_stale(pi as u32),
                "ring staleness of port {pi} matches §3"
            );
        }
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

/// The graph side of the segment's steps, in order, for the links of `started` (their bodies
/// ran): the start of each (the first one's reads were counted before its body; a later one
/// reads the link before it, which has no other reader, and counts its other reads) and the
/// publication of the first `published`, whose values are already in their cells. A link that
/// started and did not publish is left running, as the general step leaves it. The ports fed
/// by the last published link are refreshed and its limit checked (only it can reach one, see
/// [`plan_segment`]); returns it.
#[inline(always)]
fn finish_segment<const SINGLE: bool>(g: &mut Graph, started: &[Member], published: usize) -> Option<u32> {
    let epoch = g.epoch;
    let mut prev = None;
    for (i, m) in started.iter().enumerate() {
        let n = m.node;
        let single = SINGLE || m.ports.1 - m.ports.0 == 1;
        if let Some(p) = prev {
            // `count_read` of every read of `n`: the one of the link before it (idle, so no
            // publication waits for it; `n` is its only consumer port) and the others.
            debug_assert_eq!(g.nodes[p as usize].read_left, 1, "link {n} is the only reader of {p}");
            g.nodes[p as usize].read_left = 0;
            if !single {
                for pi in m.ports.0..m.ports.1 {
                    let q = g.ports[pi as usize].producer.expect("a link's ports are connected");
                    if q != p {
                        g.count_read(q);
                    }
                }
            }
        }
        let node = &mut g.nodes[n as usize];
        if node.visited != epoch {
            node.visited = epoch;
            g.visited_count += 1;
        }
        node.runs += 1;
        // A link never streams, so its chunk count stays 0 (`prepare_start` resets it for a
        // node whose last run finished, which a link's always did).
        debug_assert!(!node.streaming, "a link never emits chunks");
        if i == published {
            node.status = Status::Running;
            break;
        }
        let generation = Some(Generation::finished(node.run));
        node.generation = generation;
        node.finish_run();
        // Its inputs: no producer streams, so only run indices compare.
        let mut stale_inputs = 0;
        if single {
            let Graph { nodes, ports, .. } = &mut *g;
            let port = &mut ports[m.ports.0 as usize];
            // The producer: the link before it, or the first link's own.
            let q = prev.unwrap_or_else(|| port.producer.expect("a link's ports are connected"));
            let stale = finished_stale(nodes[q as usize].generation, port.stitch, generation);
            port.stale = stale;
            stale_inputs = u32::from(stale);
        } else {
            // Slices taken once: their bounds stay in registers across the stores.
            let Graph { nodes, ports, .. } = &mut *g;
            let nodes = nodes.as_slice();
            for port in &mut ports[m.ports.0 as usize..m.ports.1 as usize] {
                let q = port.producer.expect("a link's ports are connected");
                let stale = finished_stale(nodes[q as usize].generation, port.stitch, generation);
                port.stale = stale;
                stale_inputs += u32::from(stale);
            }
        }
        for pi in m.ports.0..m.ports.1 {
            debug_assert_eq!(
                g.ports[pi as usize].stale,
                g.compute_stale(pi),
                "fused staleness of port {pi} matches §3"
            );
        }
        let node = &mut g.nodes[n as usize];
        let k = m.ports.1 - m.ports.0;
        debug_assert_eq!(node.stale_inputs + node.fresh_inputs, k, "a link's ports are connected");
        node.stale_inputs = stale_inputs;
        node.fresh_inputs = k - stale_inputs;
        prev = Some(n);
    }
    let last = started[..published].last()?.node;
    segment_published(g, last);
    Some(last)
}

/// The end of a segment's bookkeeping: its last published link `last` refreshes its
/// consumer ports and checks its generation limit (the only one a segment can reach: the
/// planning stops at a link whose publication reaches its limit).
#[inline(always)]
fn segment_published(g: &mut Graph, last: u32) {
    let generation = g.nodes[last as usize]
        .generation
        .expect("a published link has a generation");
    g.refresh_consumers::<false>(last, generation);
    if !g.limits.is_empty() {
        g.check_limit(last);
    }
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
