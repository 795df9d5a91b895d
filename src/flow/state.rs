//! The untyped flow state the scheduler works on: node metadata, ports, queues.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use super::error::Failure;
use super::generation::{Generation, port_is_stale};
use super::runner::Runner;

/// What a node is doing. One of the crate's two state machines (the other is the loop's
/// `Command`); FLOW_SEMANTICS §8 walks one node through it.
///
/// ```text
/// Idle ──resolver──▶ Ready(Start) ──scheduler──▶ Running ─┬─ body returns ─▶ Publishing / publish ─▶ Idle
///   ▲                                                     ├─ Stream::next, no chunk ─▶ Stalled ─▶ Ready(Resume)
///   │                                                     ├─ Emitter::emit ─▶ EmitTaken ─▶ EmitPull ─▶ Ready(Resume)
///   └──────────── next run (Failed ─▶ Idle) ◀─────────────┴─ error / panic / no input ─▶ Failed
/// ```
///
/// The resolver resumes only `Idle`, `EmitPull` and (fresh) `Stalled` nodes and skips every
/// other state, so a node is never started twice. [`Graph::wake`] takes the same three
/// transitions without the resolution queue when they need no walk (incremental readiness: an
/// idle node whose connected inputs all became fresh, a stalled port that has something new, a
/// producer waiting to be pulled). Stopping a run (limit reached, or an error
/// with terminate-on-error) leaves every state as it is, except `Running` bodies that wait
/// outside the flow: those are dropped and go back to `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Between runs, or never ran: no body exists. Entered at build time; after publishing a
    /// final value; after giving up on a cancelled stream (`StreamCancelled` returned); when a
    /// run stops while the body waited outside the flow (the body is dropped); and when a new
    /// run begins for a `Failed` node. Left when the resolver makes it `Ready(Start)`.
    Idle,
    /// In the scheduler's ready list; the `Action` says what happens when the scheduler gets
    /// there. Entered from `Idle` (start), `Stalled` or `EmitPull` (resume, also when a
    /// consumer cancels the stream), `EmitTaken` (resume after a cancellation once every
    /// sibling took the chunk) and `Publishing` (publish). Left only by the scheduler, to
    /// `Running`. A stopped run keeps ready nodes listed; the next run continues them.
    Ready(Action),
    /// Its body is being polled, or waits on something outside the flow (timer, socket,
    /// task, queue); the scheduler polls such nodes whenever the flow's task is woken. Left
    /// for `Stalled`, `EmitTaken`/`EmitPull`, `Publishing`, `Idle` or `Failed` as the body
    /// does; a stopped run (or a dropped run future) drops a body waiting outside the flow and
    /// sets `Idle`; a panic in that `Drop` is reported, not lost.
    Running,
    /// Inside `Stream::next` on this global port index: no chunk yet, and the producer is queued. Left for
    /// `Ready(Resume)` by the resolver once the port is fresh (a new chunk, the end of the
    /// run, a newer run, or a cancellation), or for `Running` directly when the body polls
    /// again and finds a chunk. A stopped run leaves it stalled; the outcome lists it.
    Stalled(u32),
    /// Inside `Emitter::emit`: the chunk is published and some attached stream consumer port
    /// has not taken it yet. Left for `EmitPull` when the last one takes it (or detaches), or
    /// for `Ready(Resume)` at that moment if a consumer cancelled meanwhile — siblings get
    /// every chunk emitted before a cancel.
    EmitTaken,
    /// Inside `Emitter::emit`: every consumer took the chunk; waits to be pulled again (a
    /// consumer stalls on it, or a plain consumer walks its stale input), or for a cancel;
    /// both make it `Ready(Resume)`. A producer without stream consumers stays here after its
    /// first chunk until pulled; a completed run lists it as suspended.
    EmitPull,
    /// The body returned; waits until every plain consumer read the previous value (lockstep).
    /// Left for `Ready(Publish)` when the last read is counted.
    Publishing,
    /// The body failed, panicked, or its inputs could not be gathered; or it belongs to a
    /// cycle without usable defaults. Its body is dropped (a panic in that `Drop` is reported
    /// too) and it does not run again in this run; its dependants wait. The next run resets it
    /// to `Idle`; a streaming node that failed after some chunks then keeps counting chunks in
    /// the same run, so its generation never goes backwards.
    Failed,
}

/// What a `Ready` node does when the scheduler reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Gather inputs and start a run.
    Start,
    /// Poll the suspended body again (a stream hand-off or an emit completed).
    Resume,
    /// Publish the value the body returned earlier (its consumers have read the previous one).
    Publish,
}

/// How one input port is filled at the start of a run (decided by the scheduler). `pub` only
/// because the sealed `ArgList` plumbing mentions it; not nameable outside the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No producer: the constant or default held by the slot.
    Own,
    /// The producer's latest value.
    Read,
    /// Stale port: the default (an error if there is none).
    Default,
    /// A lazy stream over the producer's chunks.
    Stream,
}

/// The ready list: the nodes ready for a step, in order. Its first node sits in a slot of
/// its own, so the common case — one node at a time made ready and stepped at once (a stream
/// hand-off, a fused wake) — never touches the queue behind it.
#[derive(Debug, Default)]
pub(crate) struct ReadyList {
    /// The first node, if any (`None` means the list is empty: `rest` is then empty too).
    head: Option<u32>,
    /// The nodes after `head`.
    rest: VecDeque<u32>,
}

impl ReadyList {
    /// Whether no node is ready.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Appends `n`.
    #[inline]
    pub(crate) fn push_back(&mut self, n: u32) {
        if self.head.is_none() {
            self.head = Some(n);
        } else {
            self.rest.push_back(n);
        }
    }

    /// Takes the first node.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<u32> {
        let first = self.head?;
        self.head = self.rest.pop_front();
        Some(first)
    }

    /// The listed nodes, first to last.
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.head.into_iter().chain(self.rest.iter().copied())
    }

    /// Drops the first `k` nodes (all of them, if fewer are listed).
    #[inline]
    pub(crate) fn skip(&mut self, k: usize) {
        if k == 0 {
            return;
        }
        if k > self.rest.len() {
            self.head = None;
            self.rest.clear();
        } else {
            // `head` is the first; the next `k - 1` are the first of `rest`.
            self.rest.drain(..k - 1);
            self.head = self.rest.pop_front();
        }
    }

    /// Takes the only node, if exactly one is ready.
    #[inline]
    pub(crate) fn take_sole(&mut self) -> Option<u32> {
        if self.rest.is_empty() { self.head.take() } else { None }
    }
}

/// One input port (stored in one flat array, node by node).
#[derive(Debug, Clone)]
pub(crate) struct Port {
    /// The node this port belongs to.
    pub(crate) node: u32,
    pub(crate) producer: Option<u32>,
    /// Run level: 0 plain value, 1 stream.
    pub(crate) level: u8,
    pub(crate) has_default: bool,
    pub(crate) stitch: u64,
    /// Cached staleness (FLOW_SEMANTICS §3), kept current by [`Graph::refresh_port`] whenever
    /// the producer's or the node's generation or the stitch changes.
    pub(crate) stale: bool,
}

/// Stream-only state of one input port, kept (in [`Graph::stream_ports`], by port) only by
/// flows with a streaming node, so that every other port record stays at 24 bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamPort {
    /// The producer run being read, and the last chunk index taken in it.
    pub(crate) run: u64,
    pub(crate) taken: Option<u64>,
    /// The consumer dropped or cancelled its stream for `run`; it no longer counts in the
    /// producer's hand-offs.
    pub(crate) detached: bool,
}

/// Stream-only state of one node, kept (in [`Graph::streams`], by node) only by flows with a
/// streaming node.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamMeta {
    /// Chunks emitted in the current run.
    pub(crate) chunks: u64,
    /// Stream consumer ports that still have to take the latest chunk.
    pub(crate) chunk_left: u32,
    /// The node has a connected stream input. Without one, a chunk after the first of a run
    /// leaves the staleness of its inputs as it was (plain inputs compare run indices only),
    /// so its publication skips them. The first chunk may follow an unfinished chunk of the
    /// run before (a producer that gave up on a cancelled stream), which compares otherwise.
    pub(crate) stream_inputs: bool,
    /// The node's consumer port when it has exactly one (the chunk publication's fast path,
    /// see [`Graph::publish_lone_chunk`]).
    pub(crate) lone_consumer: Option<u32>,
    /// The node and the owner of its lone consumer port can hand off in pair mode (see
    /// `pair.rs`): the port is a stream port, the only stream input of a node that does not
    /// stream, and this node has no stream input.
    pub(crate) pairs: bool,
}

impl StreamMeta {
    /// Whether publishing chunk `chunk` of the current run can change the staleness of the
    /// node's own inputs (see [`stream_inputs`](Self::stream_inputs)).
    #[inline]
    pub(crate) fn own_inputs_move(&self, chunk: u64) -> bool {
        chunk == 0 || self.stream_inputs
    }
}

/// Node names, built only when shown. A node keeps only the index of its name's base here
/// (the body's short type name, as a function that extracts it from the static type name, so
/// creating a node neither parses the type name nor allocates); its default name is
/// `base#index`. The few given names are kept by node.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Distinct bases, in order of first use.
    bases: Vec<fn() -> &'static str>,
    /// Position of each base in `bases`, by function address.
    lookup: HashMap<usize, u32>,
    /// The base [`base`](Self::base) returned last.
    recent: u32,
    /// Names given by [`FlowBuilder::set_name`](super::FlowBuilder::set_name) or to dynamic nodes.
    given: HashMap<u32, Box<str>>,
}

impl Names {
    /// The index of `base` in this table (added on first use).
    pub(crate) fn base(&mut self, base: fn() -> &'static str) -> u32 {
        // A builder mostly creates nodes of one body type in a row: try the base returned
        // last first (no hashing for a chain of one kind of node).
        if self
            .bases
            .get(self.recent as usize)
            .is_some_and(|&b| b as usize == base as usize)
        {
            return self.recent;
        }
        let bases = &mut self.bases;
        self.recent = *self.lookup.entry(base as usize).or_insert_with(|| {
            bases.push(base);
            bases.len() as u32 - 1
        });
        self.recent
    }

    /// Names node `n` (replacing its default name or a name given before).
    pub(crate) fn give(&mut self, n: u32, name: Box<str>) {
        self.given.insert(n, name);
    }

    /// The name of node `n`, whose base is `base`.
    pub(crate) fn of(&self, n: u32, base: u32) -> NodeName<'_> {
        NodeName { names: self, n, base }
    }
}

/// A node's name as shown: its given name, or `base#index`.
#[derive(Clone, Copy)]
pub(crate) struct NodeName<'a> {
    names: &'a Names,
    n: u32,
    base: u32,
}

impl std::fmt::Display for NodeName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.names.given.get(&self.n) {
            Some(name) => f.write_str(name),
            None => match self.names.bases.get(self.base as usize) {
                Some(base) => write!(f, "{}#{}", base(), self.n),
                None => write!(f, "#{}", self.n),
            },
        }
    }
}

/// Scheduler view of one node.
///
/// `repr(C)` with `generation`, `runs` and `status` first, in the order of
/// [`PackedView`](super::PackedView)'s fields: a sampler's copy of them is one 32-byte move
/// per node.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct NodeMeta {
    pub(crate) generation: Option<Generation>,
    pub(crate) runs: u64,
    pub(crate) status: Status,
    /// Index of the current (or next) run.
    pub(crate) run: u64,
    /// The index of the node's name base in [`Names`] (see [`Graph::node_name`]).
    pub(crate) base: u32,
    pub(crate) ports: (u32, u32),
    /// Connected input ports that are stale / fresh now (incremental readiness: a node
    /// with no stale input can start without walking its inputs).
    pub(crate) stale_inputs: u32,
    pub(crate) fresh_inputs: u32,
    /// Start of this node's range in `Graph::consumer_ports`; the range ends where the next
    /// node's starts (see [`Graph::consumers_of`]): one index instead of a pair keeps the
    /// record 8 bytes smaller.
    pub(crate) consumers: u32,
    pub(crate) plain_consumer_ports: u32,
    /// Plain consumer ports that still have to read the latest final value.
    pub(crate) read_left: u32,
    pub(crate) visited: u32,
    pub(crate) streaming: bool,
    /// A consumer cancelled the current streaming run (a flag: the chunk count at the
    /// cancel is never read, and a flag fits in the record's padding).
    pub(crate) cancelled: bool,
    /// In the resolution queue.
    pub(crate) queued: bool,
    /// A chain link (see `fuse.rs`), planned by `build()`.
    pub(crate) link: bool,
}

impl NodeMeta {
    /// Counts one more consumer port reading this node at run level `level` (built as the
    /// ports are connected; the consumer list itself is laid out by `build()`).
    #[inline]
    pub(crate) fn count_consumer(&mut self, level: u8) {
        self.consumers += 1;
        if level == 0 {
            self.plain_consumer_ports += 1;
        }
    }

    /// The node's bookkeeping once its run's final value is published (the generation is set
    /// by the caller): the next run index, no cancellation, every plain consumer port still
    /// to read the value, idle.
    #[inline(always)]
    pub(crate) fn finish_run(&mut self) {
        self.run += 1;
        self.cancelled = false;
        self.read_left = self.plain_consumer_ports;
        self.status = Status::Idle;
    }

    /// A node as created by the builder: idle, never ran, its input ports the global range
    /// `ports` (consumers and staleness are filled in by `build`).
    pub(crate) fn new(base: u32, ports: (u32, u32), streaming: bool) -> NodeMeta {
        NodeMeta {
            base,
            generation: None,
            run: 0,
            status: Status::Idle,
            streaming,
            ports,
            stale_inputs: 0,
            fresh_inputs: 0,
            consumers: 0,
            plain_consumer_ports: 0,
            read_left: 0,
            cancelled: false,
            queued: false,
            link: false,
            visited: 0,
            runs: 0,
        }
    }
}

/// Why the current run stopped early.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stop {
    Limit { node: u32, generation: Generation },
    Error,
}

/// Everything the scheduler knows, behind one `RefCell`.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<NodeMeta>,
    pub(crate) names: Names,
    /// Given input names, for the few nodes that have them (most nodes show positions).
    pub(crate) input_names: std::collections::HashMap<u32, Vec<String>>,
    pub(crate) ports: Vec<Port>,
    /// Stream state by port ([`StreamPort`]); empty when the flow has no streaming node.
    pub(crate) stream_ports: Vec<StreamPort>,
    /// Stream state by node ([`StreamMeta`]); empty when the flow has no streaming node.
    pub(crate) streams: Vec<StreamMeta>,
    /// Global port indices of consumer ports, grouped by producer (`NodeMeta::consumers`).
    pub(crate) consumer_ports: Vec<u32>,
    /// Generation limit of each node for the run in progress; empty when the run has none (so
    /// a flow without limits keeps no per-node limit).
    pub(crate) limits: Vec<Option<Generation>>,
    /// Body time of each node over all runs; sized by the first run with
    /// [`RunOptions::time_nodes`](super::RunOptions::time_nodes), empty before.
    pub(crate) run_times: Vec<Duration>,
    pub(crate) resolution: VecDeque<u32>,
    /// Nodes ready for a step, in order.
    pub(crate) ready: ReadyList,
    pub(crate) stop: Option<Stop>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) terminate_on_error: bool,
    pub(crate) instrumented: bool,
    pub(crate) epoch: u32,
    pub(crate) cursor: usize,
    /// Nodes marked visited in this run through [`mark_visited`](Graph::mark_visited): once
    /// every node is, the seeding cursor has nothing left to find. A node marked another way
    /// is not counted, which only keeps the cursor walking.
    pub(crate) visited_count: usize,
    /// A failure was recorded since the last run began, so some node may be `Failed` (every
    /// `Failed` status comes with a recorded failure): the next run resets them.
    pub(crate) maybe_failed: bool,
    /// Some node may be left suspended at the end of a run: the flow has a streaming node, or
    /// a body once waited for its consumers to read (`Publishing`). Sticky once set.
    pub(crate) maybe_suspended: bool,
    /// The lone stream pair handing off in pair mode, whose records are behind until
    /// [`flush_pair`](Graph::flush_pair) (see `pair.rs`); `None` outside the hand-off loop.
    pub(crate) pair: Option<super::pair::Pair>,
}

/// The flow shared by the scheduler, node handles (emitters, streams) and the `Flow` owner.
pub(crate) struct FlowState {
    pub(crate) graph: RefCell<Graph>,
    /// Every node's runner, by node index, under one borrow flag (not one per runner: 8 bytes
    /// a node less): the driver calls one runner at a time and a runner never calls another
    /// (see [`with_runner`](Self::with_runner)).
    pub(crate) runners: RefCell<Vec<Pin<Box<dyn Runner>>>>,
    pub(crate) running: std::cell::Cell<bool>,
    pub(crate) last_run: std::cell::Cell<Duration>,
    /// The nodes whose bodies waited outside the flow (timer, socket, task, ...) when the run
    /// last handed control back to the loop: the culprits if the loop reports a stall.
    pub(crate) outside: RefCell<Vec<u32>>,
    /// The caller's context for the run in progress.
    pub(crate) context: RefCell<super::current::RunContext>,
    /// The chain links planned at build time (fused steps, see `fuse.rs`).
    pub(crate) links: super::fuse::Links,
    /// The scheduler's scratch space between runs (taken by the run in progress).
    pub(crate) spare: std::cell::Cell<Option<Box<super::scheduler::RunScratch>>>,
}

impl FlowState {
    /// Calls `f` with the runner of node `n`.
    ///
    /// # Panics
    /// If called from inside a call to a runner (the driver never nests them).
    #[inline]
    pub(crate) fn with_runner<R>(&self, n: u32, f: impl FnOnce(Pin<&mut dyn Runner>) -> R) -> R {
        f(self.runners.borrow_mut()[n as usize].as_mut())
    }
}

impl std::fmt::Debug for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowState")
            .field("nodes", &self.runners.try_borrow().map_or(0, |r| r.len()))
            .finish_non_exhaustive()
    }
}

/// Refreshes the cached staleness of `port`, whose producer just published `generation`, and
/// the counts of `reader`, the node it belongs to.
#[inline(always)]
fn refresh_fed(port: &mut Port, reader: &mut NodeMeta, generation: Generation) {
    let stale = port_is_stale(Some(generation), port.level, port.stitch, reader.generation);
    if stale != port.stale {
        port.stale = stale;
        flip(reader, stale);
    }
}

/// Moves one connected input of `node` between its stale and fresh counts (the port's cached
/// flag just became `stale`).
#[inline(always)]
pub(crate) fn flip(node: &mut NodeMeta, stale: bool) {
    if stale {
        node.stale_inputs += 1;
        node.fresh_inputs -= 1;
    } else {
        node.stale_inputs -= 1;
        node.fresh_inputs += 1;
    }
}

impl Graph {
    /// The name of node `n`, as shown in errors, traces and views.
    pub(crate) fn node_name(&self, n: u32) -> NodeName<'_> {
        self.names.of(n, self.nodes[n as usize].base)
    }

    /// Body time of node `n` over all timed runs.
    pub(crate) fn run_time(&self, n: usize) -> Duration {
        self.run_times.get(n).copied().unwrap_or_default()
    }

    /// The given input names of node `n` (empty when it has none).
    pub(crate) fn input_names_of(&self, n: u32) -> &[String] {
        self.input_names.get(&n).map_or(&[], Vec::as_slice)
    }

    /// The range of `consumer_ports` holding the consumer ports of node `n`.
    #[inline]
    pub(crate) fn consumers_of(&self, n: u32) -> (u32, u32) {
        let start = self.nodes[n as usize].consumers;
        let end = match self.nodes.get(n as usize + 1) {
            Some(next) => next.consumers,
            None => self.consumer_ports.len() as u32,
        };
        (start, end)
    }

    /// Whether a plain/stream port is stale for its node (FLOW_SEMANTICS §3): the cached flag.
    pub(crate) fn port_stale(&self, pi: u32) -> bool {
        let stale = self.ports[pi as usize].stale;
        if cfg!(any(test, debug_assertions)) {
            assert_eq!(
                stale,
                self.compute_stale(pi),
                "cached staleness of port {pi} is current"
            );
        }
        stale
    }

    /// Staleness computed from the generations: `stitch(clip(producer), level) <= node`.
    #[inline(always)]
    pub(crate) fn compute_stale(&self, pi: u32) -> bool {
        let port = &self.ports[pi as usize];
        let Some(p) = port.producer else { return false };
        port_is_stale(
            self.nodes[p as usize].generation,
            port.level,
            port.stitch,
            self.nodes[port.node as usize].generation,
        )
    }

    /// Marks `n` as visited in the current run (epoch), counting it the first time.
    #[inline]
    pub(crate) fn mark_visited(&mut self, n: u32) {
        let epoch = self.epoch;
        let node = &mut self.nodes[n as usize];
        if node.visited != epoch {
            node.visited = epoch;
            self.visited_count += 1;
        }
    }

    /// Whether node `n` has a stale connected input (O(1)).
    pub(crate) fn has_stale_input(&self, n: u32) -> bool {
        self.nodes[n as usize].stale_inputs > 0
    }

    /// Whether node `n` has a fresh connected input (O(1)).
    pub(crate) fn has_fresh_input(&self, n: u32) -> bool {
        self.nodes[n as usize].fresh_inputs > 0
    }

    /// Recomputes the cached staleness of port `pi` and its node's counts.
    #[inline(always)]
    pub(crate) fn refresh_port(&mut self, pi: u32) {
        if self.ports[pi as usize].producer.is_none() {
            return;
        }
        let stale = self.compute_stale(pi);
        let port = &mut self.ports[pi as usize];
        let was = std::mem::replace(&mut port.stale, stale);
        if was == stale {
            return;
        }
        flip(&mut self.nodes[port.node as usize], stale);
    }

    /// Checks the staleness flags and counts the builder set as it added each node (every
    /// connected port stale, FLOW_SEMANTICS §3, as no node has published yet) against the
    /// generations: debug builds call it at the end of `build()`.
    pub(crate) fn check_initial_staleness(&self) {
        let mut stale = vec![0u32; self.nodes.len()];
        for pi in 0..self.ports.len() {
            let port = &self.ports[pi];
            assert_eq!(
                port.stale,
                self.compute_stale(pi as u32),
                "initial staleness of port {pi}"
            );
            if port.producer.is_some() && port.stale {
                stale[port.node as usize] += 1;
            }
        }
        for (n, node) in self.nodes.iter().enumerate() {
            assert_eq!(
                (node.stale_inputs, node.fresh_inputs),
                (stale[n], 0),
                "initial counts of node {n}"
            );
        }
    }

    /// Sets the generation of `n` and refreshes the staleness of every port it affects: its
    /// consumers' ports (a newer value) and its own inputs (a newer reader).
    ///
    /// The same as [`refresh_port`](Graph::refresh_port) on each of those ports, written over
    /// slices with the one generation that changed known: every publication pays for it, so
    /// it avoids re-reading `n`'s record and the per-index bounds checks.
    #[inline]
    pub(crate) fn set_generation(&mut self, n: u32, generation: Generation) {
        self.publish_generation::<false>(n, generation, true);
    }

    /// [`set_generation`](Graph::set_generation) for chunk `generation` of the current run
    /// of `n`, returning the number of its stream consumer ports still attached to that run
    /// (what [`attached_stream_ports`](Graph::attached_stream_ports) counts) from the same
    /// pass over the consumer ports. A chunk after the first of a run, of a node without a
    /// stream input, leaves its inputs' staleness as it was: their producers' values compare
    /// with its run index only.
    #[inline]
    pub(crate) fn set_chunk_generation(&mut self, n: u32, generation: Generation) -> u32 {
        let chunk = generation.chunk_index().expect("a chunk's generation");
        let own = self.streams[n as usize].own_inputs_move(chunk);
        self.publish_generation::<true>(n, generation, own)
    }

    /// The body of both: `COUNT` also counts the attached stream consumer ports; `own`
    /// refreshes the node's own inputs too.
    #[inline(always)]
    fn publish_generation<const COUNT: bool>(&mut self, n: u32, generation: Generation, own: bool) -> u32 {
        let node = &mut self.nodes[n as usize];
        node.generation = Some(generation);
        let (pa, pb) = node.ports;
        let attached = self.refresh_consumers::<COUNT>(n, generation);
        if !own {
            return attached;
        }
        let Graph { nodes, ports, .. } = self;
        let mut flips: (u32, u32) = (0, 0);
        for port in &mut ports[pa as usize..pb as usize] {
            let Some(p) = port.producer else { continue };
            let stale = port_is_stale(nodes[p as usize].generation, port.level, port.stitch, Some(generation));
            if stale != port.stale {
                port.stale = stale;
                if stale {
                    flips.0 += 1;
                } else {
                    flips.1 += 1;
                }
            }
        }
        if flips != (0, 0) {
            let node = &mut nodes[n as usize];
            node.stale_inputs = node.stale_inputs + flips.0 - flips.1;
            node.fresh_inputs = node.fresh_inputs + flips.1 - flips.0;
        }
        attached
    }

    /// Refreshes the staleness of every consumer port of `n`, whose newest generation is
    /// `generation` (its readers' counts follow); `COUNT` also counts its stream consumer
    /// ports still attached to its current run (0 without).
    #[inline(always)]
    pub(crate) fn refresh_consumers<const COUNT: bool>(&mut self, n: u32, generation: Generation) -> u32 {
        let (ca, cb) = self.consumers_of(n);
        let run = self.nodes[n as usize].run;
        let mut attached = 0;
        let Graph {
            nodes,
            ports,
            stream_ports,
            consumer_ports,
            ..
        } = self;
        for &pi in &consumer_ports[ca as usize..cb as usize] {
            let port = &mut ports[pi as usize];
            if COUNT && port.level == 1 && {
                let st = &stream_ports[pi as usize];
                !(st.detached && st.run == run)
            } {
                attached += 1;
            }
            // A newer value never makes a fresh port stale: only chunks (whose ports are
            // fresh after the first) skip the check, to leave the other paths as they are.
            if COUNT && !port.stale {
                continue;
            }
            refresh_fed(port, &mut nodes[port.node as usize], generation);
        }
        attached
    }

    /// Whether a stalled stream port has something new: a chunk after the last one taken, the
    /// end of the run, a newer run, or a cancellation.
    #[inline]
    pub(crate) fn stream_port_ready(&self, pi: u32) -> bool {
        let port = &self.ports[pi as usize];
        let Some(p) = port.producer else { return true };
        let prod = &self.nodes[p as usize];
        let st = &self.stream_ports[pi as usize];
        match prod.generation {
            None => false,
            Some(g) if g.run() > st.run => true,
            Some(g) if g.run() < st.run => false,
            Some(g) => match g.chunk_index() {
                None => true,
                Some(j) => st.taken.is_none_or(|t| j > t) || prod.cancelled,
            },
        }
    }

    /// After a run that stopped (a limit, a failure): every node that was made ready to start
    /// and did not start is idle again and first in the resolution queue, in its order — where
    /// a traced run, which queues every wake for resolution, leaves it. The next run resolves
    /// it first and starts it either way; until then it shows as idle in both. Nodes ready to
    /// publish or resume stay ready (the outcome lists them as suspended).
    pub(crate) fn park_ready_starts(&mut self) {
        let mut kept = ReadyList::default();
        let mut parked = Vec::new();
        while let Some(n) = self.ready.pop_front() {
            let node = &mut self.nodes[n as usize];
            if node.status == Status::Ready(Action::Start) {
                node.status = Status::Idle;
                parked.push(n);
            } else {
                kept.push_back(n);
            }
        }
        self.ready = kept;
        for &n in parked.iter().rev() {
            let node = &mut self.nodes[n as usize];
            if !node.queued {
                node.queued = true;
                self.resolution.push_front(n);
            }
        }
    }

    /// Puts `n` on the resolution queue unless it is already there.
    #[inline]
    pub(crate) fn enqueue(&mut self, n: u32) {
        let node = &mut self.nodes[n as usize];
        if !node.queued {
            node.queued = true;
            self.resolution.push_back(n);
            if self.instrumented {
                super::instrument::queued(self, n);
            }
        }
    }

    /// Wakes every consumer of `n` after a publication. Fused hand-off: when `n` has a single
    /// consumer port, nothing else is ready, and that consumer can start at once, it is marked
    /// `Ready(Start)` and returned instead of listed — the scheduler steps it next, exactly as
    /// it would have popped it from the (otherwise empty) ready list.
    #[inline(always)]
    pub(crate) fn wake_consumers(&mut self, n: u32) -> Option<u32> {
        let (a, b) = self.consumers_of(n);
        if b - a == 1 {
            let pi = self.consumer_ports[a as usize];
            let c = self.ports[pi as usize].node;
            if self.ready.is_empty() && self.direct_action(c, Some(pi)) == Some(Action::Start) {
                self.nodes[c as usize].status = Status::Ready(Action::Start);
                return Some(c);
            }
            // `enqueue_consumers` for the one consumer port.
            self.wake_fed(c, pi);
            return None;
        }
        self.enqueue_consumers(n);
        None
    }

    /// Publishes the next chunk of `n`'s run in an untraced run when that touches one port
    /// only: `n` has one consumer port, no stream input, and the chunk is not the run's first
    /// (so its own inputs stay as they are, see
    /// [`set_chunk_generation`](Graph::set_chunk_generation)). Then it does what the general
    /// publication does — the next chunk index, the generation, the consumer port's staleness,
    /// the hand-offs owed, the status, the limit check and the consumer's wake — in one pass.
    /// Returns `false`, having changed nothing, when the chunk needs the general path.
    #[inline(always)]
    pub(crate) fn publish_lone_chunk(&mut self, n: u32) -> bool {
        let Graph {
            nodes,
            ports,
            stream_ports,
            streams,
            ..
        } = self;
        let stream = &mut streams[n as usize];
        let chunk = stream.chunks;
        let Some(pi) = stream.lone_consumer.filter(|_| !stream.own_inputs_move(chunk)) else {
            return false;
        };
        stream.chunks = chunk + 1;
        let node = &mut nodes[n as usize];
        let run = node.run;
        let generation = Generation::chunk(run, chunk);
        node.generation = Some(generation);
        let port = &mut ports[pi as usize];
        let attached = port.level == 1 && {
            let st = &stream_ports[pi as usize];
            !(st.detached && st.run == run)
        };
        stream.chunk_left = u32::from(attached);
        node.status = if attached { Status::EmitTaken } else { Status::EmitPull };
        let c = port.node;
        // A newer value never makes a fresh port stale (see `refresh_consumers`).
        if port.stale {
            refresh_fed(port, &mut nodes[c as usize], generation);
        }
        debug_assert_eq!(
            u32::from(attached),
            self.attached_stream_ports(n),
            "one attached port or none"
        );
        if !self.limits.is_empty() {
            self.check_limit(n);
        }
        self.wake_fed(c, pi);
        true
    }

    /// Queues every consumer of `n` (see [`wake`](Graph::wake)).
    #[inline]
    pub(crate) fn enqueue_consumers(&mut self, n: u32) {
        let (a, b) = self.consumers_of(n);
        for i in a..b {
            let pi = self.consumer_ports[i as usize];
            let c = self.ports[pi as usize].node;
            self.wake_fed(c, pi);
        }
    }

    /// Queues `n` for resolution — or, when resolving it would take the resolver's fast path
    /// straight to an action, makes it ready at once (incremental readiness): an idle node
    /// whose connected inputs are all fresh starts, a node stalled on a stream port that has
    /// something new or a producer waiting to be pulled resumes. Traced runs keep every node
    /// on the queue so that the trace shows each `queued` event; a stopped run queues too.
    #[inline]
    pub(crate) fn wake(&mut self, n: u32) {
        self.wake_on(n, None);
    }

    /// [`wake`](Graph::wake) for the node `n` owning port `pi`, to which the port's producer
    /// just published: a node stalled on that very port has something new there (a chunk
    /// after the last one it took, or the end of the run), so it resumes without asking
    /// [`stream_port_ready`](Graph::stream_port_ready).
    #[inline]
    pub(crate) fn wake_fed(&mut self, n: u32, pi: u32) {
        self.wake_on(n, Some(pi));
    }

    /// The body of [`wake`](Graph::wake) and [`wake_fed`](Graph::wake_fed).
    #[inline(always)]
    fn wake_on(&mut self, n: u32, fed: Option<u32>) {
        match self.direct_action(n, fed) {
            Some(action) => self.make_ready(n, action),
            None => self.enqueue(n),
        }
    }

    /// What `n` can do at once, if anything (see [`wake`](Graph::wake)); `fed` is a port of
    /// `n` that its producer just published to.
    #[inline(always)]
    fn direct_action(&self, n: u32, fed: Option<u32>) -> Option<Action> {
        if self.instrumented || self.stop.is_some() {
            return None;
        }
        let node = &self.nodes[n as usize];
        match node.status {
            Status::Idle if node.stale_inputs == 0 && node.fresh_inputs > 0 => Some(Action::Start),
            Status::Stalled(pi) if fed == Some(pi) || self.stream_port_ready(pi) => Some(Action::Resume),
            Status::EmitPull => Some(Action::Resume),
            _ => None,
        }
    }

    /// Takes the ready list's only node, to be stepped at once by the step that made it ready
    /// (a stream hand-off: the consumer a chunk resumed, or the producer a stalled consumer
    /// pulled). Stepping it now is what the scheduler would do next anyway — it always
    /// works the ready list before anything else — minus one round trip through its loop.
    /// With two or more listed nodes the list keeps its order, so nothing is taken.
    #[inline]
    pub(crate) fn take_sole_ready(&mut self) -> Option<u32> {
        self.ready.take_sole()
    }

    /// Marks `n` ready to do `action` and appends it to the ready list.
    #[inline(always)]
    pub(crate) fn make_ready(&mut self, n: u32, action: Action) {
        self.nodes[n as usize].status = Status::Ready(action);
        self.ready.push_back(n);
    }

    /// Whether `n` has reached its generation limit.
    #[inline]
    pub(crate) fn limit_reached(&self, n: u32) -> bool {
        let limit = self.limits.get(n as usize).copied().flatten();
        matches!((limit, self.nodes[n as usize].generation), (Some(limit), Some(g)) if g >= limit)
    }

    /// Checks the generation limit after a publication (and at the start of a run); the first
    /// node to reach its limit stops the run.
    #[inline]
    pub(crate) fn check_limit(&mut self, n: u32) -> bool {
        if !self.limit_reached(n) {
            return false;
        }
        if self.stop.is_none() {
            let generation = self.nodes[n as usize]
                .generation
                .expect("a reached limit implies a generation");
            self.stop = Some(Stop::Limit { node: n, generation });
            if self.instrumented {
                super::instrument::limit_reached(self, n);
            }
        }
        true
    }

    /// Number of stream consumer ports of `n` still attached to run `run`.
    pub(crate) fn attached_stream_ports(&self, n: u32) -> u32 {
        let (a, b) = self.consumers_of(n);
        let run = self.nodes[n as usize].run;
        let mut count = 0;
        for i in a..b {
            let pi = self.consumer_ports[i as usize] as usize;
            let st = || &self.stream_ports[pi];
            if self.ports[pi].level == 1 && !(st().detached && st().run == run) {
                count += 1;
            }
        }
        count
    }

    /// A stream consumer port of `p` took (or gave up on) the latest chunk. Once every attached
    /// port has, the producer waits to be pulled again — or, when a consumer cancelled the
    /// stream meanwhile, is resumed so that its pending emit reports the cancellation. The
    /// cancellation waits for this moment so that siblings receive every chunk emitted before
    /// it (FLOW_SEMANTICS §5).
    #[inline]
    pub(crate) fn chunk_taken(&mut self, p: u32) {
        let left = &mut self.streams[p as usize].chunk_left;
        if *left == 0 {
            return;
        }
        *left -= 1;
        let prod = &mut self.nodes[p as usize];
        if *left == 0 && prod.status == Status::EmitTaken {
            if prod.cancelled {
                self.make_ready(p, Action::Resume);
            } else {
                prod.status = Status::EmitPull;
            }
        }
    }

    /// Marks the current streaming run of `p` as cancelled by a consumer. A producer whose
    /// chunk was taken by every attached consumer is resumed at once; one whose chunk some
    /// sibling still has to take is resumed by [`chunk_taken`](Graph::chunk_taken).
    pub(crate) fn cancel_stream(&mut self, p: u32) {
        let prod = &mut self.nodes[p as usize];
        if prod.generation.is_none_or(|gn| gn.is_finished()) || prod.cancelled {
            return;
        }
        prod.cancelled = true;
        if prod.status == Status::EmitPull
            || (prod.status == Status::EmitTaken && self.streams[p as usize].chunk_left == 0)
        {
            self.make_ready(p, Action::Resume);
        }
    }

    /// A consumer read the latest final value of `p` through a plain port.
    #[inline]
    pub(crate) fn count_read(&mut self, p: u32) {
        let prod = &mut self.nodes[p as usize];
        prod.read_left = prod.read_left.saturating_sub(1);
        if prod.read_left == 0 && prod.status == Status::Publishing {
            self.make_ready(p, Action::Publish);
        }
    }
}
