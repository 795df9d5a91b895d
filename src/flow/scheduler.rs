//! The flow scheduler: the future of one run, polled as one loop task. It works the
//! resolution queue and polls node bodies directly (no task per node, no task switch per hop).
//!
//! Node bodies are polled inside the scheduler's own poll, so a timer or socket a body waits on
//! wakes the scheduler's task; the scheduler then polls every body that waits outside the flow.
//! Flow-internal waits (stream hand-offs, emits, lockstep publication) never involve the loop.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::args::StartCx;
use super::current::{self, FlowScope};
use super::error::{BoxError, Failure, FlowError, NodeFault, StreamCancelled};
use super::generation::Generation;
use super::handles::NodeId;
use super::instrument;
use super::pair::Phase;
use super::resolve::{Resolver, input_name};
use super::run::{Outcome, RunOptions, Suspended, Waiting};
use super::runner::LinkStep;
use super::state::{Action, FlowState, Graph, Mode, Status, Stop};
use crate::runtime::command::Command;
use crate::runtime::{context, poll_label};

/// Node steps per poll of the scheduler before it yields to the loop (timers, sockets, other
/// tasks).
const BUDGET: u32 = 1024;

/// The future behind [`Flow::run`](super::Flow::run).
pub(crate) struct Scheduler {
    pub(super) state: Rc<FlowState>,
    options: Option<RunOptions>,
    /// Boxed so that the run's future stays small (it is moved into the loop's task).
    work: Option<Box<RunScratch>>,
    pub(super) externals: Vec<u32>,
    time_nodes: bool,
    pub(super) beacon: Option<std::sync::Arc<super::RunBeacon>>,
    /// The loop's slow-poll threshold: body polls are timed against it.
    slow_poll: Option<Duration>,
    started: Option<Instant>,
    finished: bool,
    /// This run is untimed (no body time, no slow-poll threshold) and untraced, so nodes
    /// may take the one-call steps (`run_whole`, chain links). Fixed when the run begins.
    plain: bool,
    /// Body polls are timed (`time_nodes` or a slow-poll threshold). Fixed when the run begins.
    polls_timed: bool,
    /// `plain`, and the flow has chain links: ready nodes are checked for a fused step.
    pub(super) fuse: bool,
}

/// The scheduler's scratch space, kept by the flow between runs (`FlowState::spare`) so that a
/// run allocates none of it again: a small flow run many times pays no allocation for it.
#[derive(Debug, Default)]
pub(crate) struct RunScratch {
    resolver: Resolver,
    /// The list `poll_externals` walks while new waits are collected.
    scratch: Vec<u32>,
    modes: Vec<Mode>,
    /// Every one of `modes` is `Mode::Read` (set with them).
    all_read: bool,
    defaulted: Vec<usize>,
    /// The links of one fused segment, each with its input ports (see `fuse.rs`).
    pub(super) segment: Vec<super::fuse::Member>,
}

impl Scheduler {
    pub(crate) fn new(state: Rc<FlowState>, options: RunOptions) -> Scheduler {
        let work = Some(state.spare.take().unwrap_or_default());
        Scheduler {
            state,
            options: Some(options),
            work,
            externals: Vec::new(),
            time_nodes: false,
            beacon: None,
            slow_poll: None,
            started: None,
            finished: false,
            plain: false,
            polls_timed: false,
            fuse: false,
        }
    }

    /// Prepares the graph for a new run (first poll, inside the loop).
    fn begin(&mut self, options: RunOptions) -> Result<(), FlowError> {
        if self.state.running.replace(true) {
            self.finished = true;
            return Err(FlowError::AlreadyRunning);
        }
        self.time_nodes = options.time_nodes;
        self.beacon = options.beacon.clone();
        self.slow_poll = context::try_with_core(|c| c.slow_poll()).flatten();
        self.polls_timed = self.time_nodes || self.slow_poll.is_some();
        self.state.context.borrow_mut().reset(options.context.clone());
        self.started = Some(Instant::now());
        let mut g = self.state.graph.borrow_mut();
        g.epoch = g.epoch.wrapping_add(1);
        g.cursor = 0;
        g.visited_count = 0;
        g.stop = None;
        g.failures.clear();
        g.terminate_on_error = options.terminate_on_error;
        g.instrumented = instrument::installed();
        self.plain = !g.instrumented && !self.timed_polls();
        self.fuse = self.plain && self.state.links.any();
        let len = g.nodes.len();
        g.limits.clear();
        if options.has_limits() {
            g.limits.extend((0..len).map(|i| options.limit_for(NodeId(i as u32))));
        }
        if options.time_nodes && g.run_times.len() < len {
            g.run_times.resize(len, Duration::ZERO);
        }
        if std::mem::take(&mut g.maybe_failed) {
            for node in &mut g.nodes {
                if node.status == Status::Failed {
                    node.status = Status::Idle;
                }
            }
        }
        // A limit that is already reached ends the run before anything runs.
        if !g.limits.is_empty() {
            if let Some(n) = (0..g.nodes.len() as u32).find(|&n| g.limit_reached(n)) {
                g.check_limit(n);
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<Outcome, FlowError> {
        self.finished = true;
        self.abandon_externals();
        self.state.running.set(false);
        if let Some(t) = self.started {
            self.state.last_run.set(t.elapsed());
        }
        let mut g = self.state.graph.borrow_mut();
        debug_assert!(g.pair.is_none(), "pair mode never outlives the hand-off loop");
        if g.stop.is_some() && !g.ready.is_empty() {
            g.park_ready_starts();
        }
        let failures = std::mem::take(&mut g.failures);
        if !failures.is_empty() {
            return Err(FlowError::Failed(failures));
        }
        let suspended = if g.maybe_suspended {
            suspended_nodes(&g)
        } else {
            Vec::new()
        };
        match g.stop {
            Some(Stop::Limit { node, generation }) => Ok(Outcome::LimitReached {
                node: NodeId(node),
                name: g.node_name(node).to_string(),
                generation,
                suspended,
            }),
            _ => Ok(Outcome::Completed { suspended }),
        }
    }

    /// Bodies waiting outside the flow when the run stops are dropped (their waits belong to
    /// this run's task); the node starts over on the next run.
    fn abandon_externals(&mut self) {
        for n in std::mem::take(&mut self.externals) {
            self.drop_body(n);
            let mut g = self.state.graph.borrow_mut();
            if g.nodes[n as usize].status == Status::Running {
                g.nodes[n as usize].status = Status::Idle;
            }
        }
    }

    fn stopped(&self) -> bool {
        self.state.graph.borrow().stop.is_some()
    }

    /// One unit of work: a ready node step, a resolution, or seeding an unvisited node.
    fn next_work(&mut self) -> Option<Work> {
        let mut g = self.state.graph.borrow_mut();
        if let Some(n) = g.ready.pop_front() {
            return Some(Work::Step(n));
        }
        if let Some(n) = g.resolution.pop_front() {
            g.nodes[n as usize].queued = false;
            return Some(Work::Resolve(n));
        }
        if g.visited_count == g.nodes.len() {
            // Every node ran in this run: none is left to seed.
            g.cursor = g.nodes.len();
        }
        while g.cursor < g.nodes.len() {
            let n = g.cursor as u32;
            g.cursor += 1;
            let node = &g.nodes[n as usize];
            if node.visited != g.epoch && node.status == Status::Idle {
                g.enqueue(n);
                return Some(Work::Seeded);
            }
        }
        None
    }

    /// Steps `n`, then every consumer its publication handed off directly, while `budget`
    /// lasts and the run goes on; a hand-off left over is listed as ready. Returns the budget
    /// left. Inlined into `poll`: left to itself, the compiler keeps it out of line once the
    /// segment code is in it, which costs the diamond 3% more instructions (callgrind).
    #[inline(always)]
    fn step_fused(&mut self, mut n: u32, mut budget: u32, cx: &mut Context<'_>) -> u32 {
        loop {
            let Some(c) = self.step_or_link(n, &mut budget, cx) else {
                return budget;
            };
            if budget == 0 || self.stopped() {
                self.state.graph.borrow_mut().ready.push_back(c);
                return budget;
            }
            budget -= 1;
            n = c;
        }
    }

    fn resolve(&mut self, n: u32) {
        let mut g = self.state.graph.borrow_mut();
        let mut failures = Vec::new();
        work_mut(&mut self.work).resolver.resolve(&mut g, n, &mut failures);
        for failure in failures {
            record_failure(&mut g, failure);
        }
    }

    /// Steps ready node `n`. Returns a consumer that a synchronous publication made ready to
    /// start at once (a fused hand-off, see [`Graph::wake_consumers`]); the caller steps it
    /// next or lists it. A node resumed in a plain run goes on through
    /// [`resume_laps`](Self::resume_laps), which spends `budget` on the hand-offs after it.
    /// Inlined into `step_fused` (and so into `poll`): one call layer less per step.
    #[inline(always)]
    pub(super) fn step(&mut self, n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        let state = Rc::clone(&self.state);
        let mut g = state.graph.borrow_mut();
        let action = match g.nodes[n as usize].status {
            Status::Ready(a) => a,
            _ => return None,
        };
        g.nodes[n as usize].status = Status::Running;
        match action {
            Action::Start => {
                let first_port = self.prepare_start(&mut g, n);
                let whole = self.plain && g.nodes[n as usize].read_left == 0;
                drop(g);
                if whole {
                    return self.run_whole(n, first_port, cx);
                }
                if !self.start(n, first_port) {
                    return None;
                }
            }
            Action::Resume => {
                drop(g);
                if self.plain {
                    return self.resume_laps(n, budget, cx);
                }
            }
            Action::Publish => {
                drop(g);
                return self.publish(n);
            }
        }
        // One call site: `poll_node` is inlined here.
        self.poll_node(n, cx)
    }

    /// Bookkeeping before a run of `n` starts: how each port is filled, read counters and
    /// stitches, run counts. Returns the node's first global port index.
    fn prepare_start(&mut self, g: &mut Graph, n: u32) -> u32 {
        self.plan_inputs(g, n);
        g.mark_visited(n);
        let node = &mut g.nodes[n as usize];
        node.runs += 1;
        // A streaming run that failed after some chunks is retried under the same run
        // index with the chunk count going on, so the generation never goes backwards and
        // its stream consumers keep reading the same run (issue 7).
        if node.streaming
            && !node
                .generation
                .is_some_and(|gn| gn.run() == node.run && !gn.is_finished())
        {
            g.streams[n as usize].chunks = 0;
        }
        if let Some(b) = &self.beacon {
            b.mark(n, node.runs);
        }
        let first = node.ports.0;
        if g.instrumented {
            instrument::started(g, n);
            let defaulted = &work(&self.work).defaulted;
            if !defaulted.is_empty() {
                instrument::cycle_broken(g, n, defaulted);
            }
        }
        first
    }

    /// Lets the typed runner of `n` gather its arguments (as `prepare_start` planned) and
    /// create the body future; a missing input fails the node, and so does a panic while
    /// gathering (an input's `Clone`) or calling (a closure's code before its future).
    fn start(&mut self, n: u32, first_port: u32) -> bool {
        let cx = StartCx {
            shared: &self.state,
            node: n,
            first_port,
        };
        let started = {
            let _polling = current::polling(n);
            let modes = &work(&self.work).modes;
            self.state
                .with_runner(n, |r| catch_unwind(AssertUnwindSafe(|| r.start(modes, &cx))))
        };
        match started {
            Ok(Ok(())) => true,
            Err(payload) => {
                let msg = crate::runtime::panic_message(&*payload);
                self.fail(n, NodeFault::Panicked(msg));
                self.drop_body(n);
                false
            }
            Ok(Err(fault)) => {
                let input = {
                    let g = self.state.graph.borrow();
                    input_name(&g, n, fault.input)
                };
                self.fail(n, NodeFault::NoInput { input });
                false
            }
        }
    }

    /// The start, the first poll and (when the body returns at once) the publication of `n`
    /// in one runner call ([`Runner::run_whole`](super::runner::Runner::run_whole)): what
    /// [`start`](Self::start), [`poll_node`](Self::poll_node) and [`publish`](Self::publish)
    /// do in turn, for a run whose value no consumer still has to read (so a returned value
    /// is published at once), untimed and untraced. Every outcome is handled as those do.
    fn run_whole(&mut self, n: u32, first_port: u32, cx: &mut Context<'_>) -> Option<u32> {
        let step = {
            let start = StartCx {
                shared: &self.state,
                node: n,
                first_port,
            };
            let _polling = current::polling(n);
            let work = work(&self.work);
            let modes = &work.modes;
            if work.all_read {
                self.state.with_runner(n, |r| r.run_read(modes, &start, cx))
            } else {
                self.state.with_runner(n, |r| r.run_whole(modes, &start, cx))
            }
        };
        match step {
            LinkStep::Published => {
                // Nothing to drop; a plain drop here is an out-of-line call per step.
                std::mem::forget(step);
                self.published_whole(n)
            }
            LinkStep::Pending => {
                let mut g = self.state.graph.borrow_mut();
                if g.nodes[n as usize].status == Status::Running {
                    self.externals.push(n);
                    None
                } else {
                    g.take_sole_ready()
                }
            }
            other => {
                self.settle(n, other);
                None
            }
        }
    }

    fn plan_inputs(&mut self, g: &mut Graph, n: u32) {
        let work = work_mut(&mut self.work);
        work.modes.clear();
        work.defaulted.clear();
        let mut all_read = true;
        let (a, b) = g.nodes[n as usize].ports;
        for pi in a..b {
            let (producer, level) = {
                let port = &g.ports[pi as usize];
                (port.producer, port.level)
            };
            let mode = match producer {
                None => Mode::Own,
                Some(_) if g.port_stale(pi) => {
                    let port = &mut g.ports[pi as usize];
                    if port.has_default {
                        port.stitch += 1;
                        work.defaulted.push((pi - a) as usize);
                        g.refresh_port(pi);
                    }
                    Mode::Default
                }
                Some(_) if level == 1 => Mode::Stream,
                Some(p) => {
                    g.count_read(p);
                    Mode::Read
                }
            };
            all_read &= mode == Mode::Read;
            work.modes.push(mode);
        }
        work.all_read = all_read;
    }

    /// Whether body polls are timed (body time per node, or the loop's slow-poll warning).
    pub(super) fn timed_polls(&self) -> bool {
        self.polls_timed
    }

    #[inline(always)]
    fn poll_node(&mut self, n: u32, cx: &mut Context<'_>) -> Option<u32> {
        let t0 = self.timed_polls().then(Instant::now);
        let polled = {
            let _polling = current::polling(n);
            self.state
                .with_runner(n, |r| catch_unwind(AssertUnwindSafe(|| r.poll_body(cx))))
        };
        if let Some(t0) = t0 {
            self.timed(n, t0.elapsed());
        }
        self.polled(n, polled)
    }

    /// Resumes ready node `n` (marked running) and, while each poll hands the run to exactly
    /// one other node that is ready to resume, that node next: the stream hand-off, where a
    /// producer's emit resumes its stalled consumer and the consumer's next pull resumes the
    /// producer, chunk after chunk. The same polls, in the same order, as
    /// [`step_fused`](Self::step_fused) taking [`take_sole_ready`](Graph::take_sole_ready)'s
    /// node each time, with the runner table borrowed and the polled node named once for the
    /// whole hand-off rather than once per poll. Every hand-off after the first costs a unit
    /// of `budget`; the loop ends when it is spent, when the run stops, or at a poll that does
    /// anything else (returns, fails, panics, waits outside the flow, or hands the run to a
    /// node that starts or publishes, or to none or several); that node, if any, is returned
    /// to the caller as [`step`](Self::step) returns it. Plain runs only (polls are not timed).
    ///
    /// When the node it hands the run to is the producer of a lone pair in the middle of its
    /// stream ([`Graph::enter_pair`]), the loop goes on in pair mode (`pair.rs`): the two
    /// bodies alternate on the pair's phase alone, and the general records are brought up to
    /// date ([`Graph::flush_pair`]) before the loop does anything else or lets go of them.
    #[inline(never)]
    fn resume_laps(&mut self, mut n: u32, budget: &mut u32, cx: &mut Context<'_>) -> Option<u32> {
        let state = Rc::clone(&self.state);
        let mut runners = state.runners.borrow_mut();
        let polling = current::polling(n);
        loop {
            let runner = runners[n as usize].as_mut();
            let polled = catch_unwind(AssertUnwindSafe(|| runner.poll_body(cx)));
            let pending = matches!(polled, Ok(Poll::Pending));
            let mut g = state.graph.borrow_mut();
            let stopped = g.stop.is_some();
            if let Some(pair) = &mut g.pair {
                // Pair mode (`pair.rs`): the producer's poll offered a chunk, or the
                // consumer's pulled after taking it; anything else ends pair mode.
                let next = match pair.phase {
                    Phase::Offered if pending && n == pair.producer => Some(pair.consumer),
                    Phase::Pulled if pending && n == pair.consumer => Some(pair.producer),
                    _ => None,
                };
                match next {
                    Some(next) if *budget > 0 && !stopped => {
                        *budget -= 1;
                        pair.polling = Some(next);
                        if next == pair.producer {
                            pair.phase = Phase::Resumed;
                        }
                        std::mem::forget(polled);
                        n = next;
                        current::polling_next(n);
                        continue;
                    }
                    Some(next) => {
                        // The budget spent (or the run stopped): the records as the general loop
                        // leaves them, the next node taken off the ready list.
                        pair.polling = None;
                        g.flush_pair();
                        return Some(next);
                    }
                    None => g.flush_pair(),
                }
            }
            if !pending {
                // As after `poll_node`'s poll: no node is being polled while a returned body
                // publishes or a failed one is dropped.
                drop((g, runners, polling));
                return self.polled(n, polled);
            }
            // Nothing to drop; a plain drop here is an out-of-line call per poll.
            std::mem::forget(polled);
            if g.nodes[n as usize].status == Status::Running {
                self.externals.push(n);
                return None;
            }
            let next = g.take_sole_ready()?;
            if *budget == 0 || g.stop.is_some() || g.nodes[next as usize].status != Status::Ready(Action::Resume) {
                return Some(next);
            }
            *budget -= 1;
            g.nodes[next as usize].status = Status::Running;
            g.enter_pair(next);
            n = next;
            current::polling_next(n);
        }
    }

    /// What a poll of `n`'s body leads to: a body waiting outside the flow is kept for the
    /// next poll, one that returned publishes (or waits for its consumers to read), one that
    /// failed or panicked fails the node. Returns the node to step next, as
    /// [`step`](Self::step) does.
    #[inline(always)]
    fn polled(&mut self, n: u32, polled: std::thread::Result<Poll<Result<(), BoxError>>>) -> Option<u32> {
        match polled {
            Ok(Poll::Pending) => {
                let mut g = self.state.graph.borrow_mut();
                if g.nodes[n as usize].status == Status::Running {
                    self.externals.push(n);
                } else {
                    return g.take_sole_ready();
                }
            }
            Ok(Poll::Ready(Ok(()))) => return self.body_done(n),
            Ok(Poll::Ready(Err(e))) => self.body_failed(n, e),
            Err(payload) => {
                let msg = crate::runtime::panic_message(&*payload);
                self.fail(n, NodeFault::Panicked(msg));
                self.drop_body(n);
            }
        }
        None
    }

    /// Drops the body future of `n`. A panic in its `Drop` is contained and reported as a
    /// failure of `n` beside any earlier failure, so neither the first error nor the flow is
    /// lost (issue 7).
    pub(super) fn drop_body(&mut self, n: u32) {
        let dropped = catch_unwind(AssertUnwindSafe(|| {
            self.state.with_runner(n, |r| r.abort());
        }));
        if let Err(payload) = dropped {
            let msg = crate::runtime::panic_message(&*payload);
            record_node_failure(&mut self.state.graph.borrow_mut(), n, NodeFault::DropPanicked(msg));
        }
    }

    /// Accounts one timed body poll: body time, and the node's name for the loop's slow-poll
    /// warning when this poll alone exceeded the threshold.
    fn timed(&mut self, n: u32, elapsed: Duration) {
        let mut g = self.state.graph.borrow_mut();
        if self.time_nodes {
            g.run_times[n as usize] += elapsed;
        }
        if self.slow_poll.is_some_and(|t| elapsed > t) {
            poll_label::set(|| g.node_name(n).to_string());
        }
    }

    fn body_done(&mut self, n: u32) -> Option<u32> {
        let mut g = self.state.graph.borrow_mut();
        if g.nodes[n as usize].read_left == 0 {
            drop(g);
            self.publish(n)
        } else {
            g.nodes[n as usize].status = Status::Publishing;
            g.maybe_suspended = true;
            None
        }
    }

    /// Publishes the final value of the current run at `(run,)` and wakes the consumers;
    /// returns a consumer to step at once (see [`Graph::wake_consumers`]).
    fn publish(&mut self, n: u32) -> Option<u32> {
        self.state.with_runner(n, |r| r.publish());
        let mut g = self.state.graph.borrow_mut();
        let run = g.nodes[n as usize].run;
        g.set_generation(n, Generation::finished(run));
        // Finishing a body started in an earlier run counts as running in this one.
        g.mark_visited(n);
        g.nodes[n as usize].finish_run();
        if g.instrumented {
            instrument::finished(&g, n);
        }
        g.check_limit(n);
        g.wake_consumers(n)
    }

    /// [`publish`](Self::publish) after a whole step, whose value is in the node's cell
    /// already: the node was marked visited when it started in this run, and the run is
    /// untraced.
    #[inline(always)]
    fn published_whole(&mut self, n: u32) -> Option<u32> {
        let mut g = self.state.graph.borrow_mut();
        debug_assert!(!g.instrumented && g.nodes[n as usize].visited == g.epoch);
        let run = g.nodes[n as usize].run;
        g.set_generation(n, Generation::finished(run));
        g.nodes[n as usize].finish_run();
        if !g.limits.is_empty() {
            g.check_limit(n);
        }
        g.wake_consumers(n)
    }

    pub(super) fn body_failed(&mut self, n: u32, e: BoxError) {
        if e.downcast_ref::<StreamCancelled>().is_some() {
            self.pass_on_cancel(n);
            return;
        }
        self.fail(n, NodeFault::Body(e));
    }

    /// A producer gave up on a cancelled stream without a final value: its own stream inputs
    /// are cancelled too, and it goes back to idle without publishing.
    fn pass_on_cancel(&mut self, n: u32) {
        let mut g = self.state.graph.borrow_mut();
        let (a, b) = g.nodes[n as usize].ports;
        for pi in a..b {
            let port = &g.ports[pi as usize];
            let Some(p) = port.producer.filter(|_| port.level == 1) else {
                continue;
            };
            g.cancel_stream(p);
        }
        let node = &mut g.nodes[n as usize];
        node.status = Status::Idle;
        node.cancelled = false;
        if node.generation.is_some_and(|gn| !gn.is_finished()) {
            node.run += 1;
        }
    }

    pub(super) fn fail(&mut self, n: u32, fault: NodeFault) {
        let mut g = self.state.graph.borrow_mut();
        let node = &mut g.nodes[n as usize];
        node.status = Status::Failed;
        node.cancelled = false;
        if g.instrumented {
            instrument::errored(&g, n, &fault.to_string());
        }
        record_node_failure(&mut g, n, fault);
    }

    /// Polls every body that waits outside the flow (a timer, a socket, a task).
    fn poll_externals(&mut self, cx: &mut Context<'_>) {
        let mut list = std::mem::take(&mut work_mut(&mut self.work).scratch);
        std::mem::swap(&mut list, &mut self.externals);
        for &n in &list {
            if self.stopped() {
                self.externals.push(n);
                continue;
            }
            if let Some(c) = self.poll_node(n, cx) {
                self.state.graph.borrow_mut().ready.push_back(c);
            }
        }
        list.clear();
        work_mut(&mut self.work).scratch = list;
    }
}

/// The scheduler's scratch space (present until the scheduler is dropped).
fn work(slot: &Option<Box<RunScratch>>) -> &RunScratch {
    slot.as_deref().expect("the scratch space is returned only on drop")
}

impl Scheduler {
    /// The run's scratch space.
    pub(super) fn scratch_mut(&mut self) -> &mut RunScratch {
        work_mut(&mut self.work)
    }
}

fn work_mut(slot: &mut Option<Box<RunScratch>>) -> &mut RunScratch {
    slot.as_deref_mut().expect("the scratch space is returned only on drop")
}

/// The nodes a run left inside their bodies, in creation order.
fn suspended_nodes(g: &Graph) -> Vec<Suspended> {
    let mut out = Vec::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let waiting = match node.status {
            Status::EmitTaken | Status::EmitPull => Waiting::Pull {
                generation: node.generation.unwrap_or(Generation::chunk(node.run, 0)),
            },
            Status::Stalled(pi) => Waiting::Chunk {
                input: input_name(g, i as u32, (pi - node.ports.0) as usize),
            },
            Status::Publishing | Status::Ready(Action::Publish) => Waiting::Read,
            Status::Ready(Action::Resume) => Waiting::Resume,
            _ => continue,
        };
        out.push(Suspended::new(
            NodeId(i as u32),
            g.node_name(i as u32).to_string(),
            waiting,
        ));
    }
    out
}

/// Records `fault` of node `n` (named as shown) as one of the run's failures.
fn record_node_failure(g: &mut Graph, n: u32, fault: NodeFault) {
    let name = g.node_name(n).to_string();
    record_failure(
        g,
        Failure::Node {
            node: NodeId(n),
            name,
            fault,
        },
    );
}

fn record_failure(g: &mut Graph, failure: Failure) {
    g.failures.push(failure);
    g.maybe_failed = true;
    if g.terminate_on_error && g.stop.is_none() {
        g.stop = Some(Stop::Error);
    }
}

enum Work {
    Step(u32),
    Resolve(u32),
    Seeded,
}

impl Future for Scheduler {
    type Output = Result<Outcome, FlowError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _scope = FlowScope::enter(&this.state);
        if let Some(options) = this.options.take() {
            if let Err(e) = this.begin(options) {
                return Poll::Ready(Err(e));
            }
        }
        this.poll_externals(cx);
        let mut budget = BUDGET;
        loop {
            if this.stopped() {
                return Poll::Ready(this.end());
            }
            if budget == 0 {
                context::issue_plain(Command::Yield);
                return Poll::Pending;
            }
            budget -= 1;
            match this.next_work() {
                Some(Work::Step(n)) => budget = this.step_fused(n, budget, cx),
                Some(Work::Resolve(n)) => this.resolve(n),
                Some(Work::Seeded) => {}
                None if this.externals.is_empty() => return Poll::Ready(this.end()),
                None => {
                    this.state.outside.borrow_mut().clone_from(&this.externals);
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if self.options.is_none() && !self.finished {
            self.abandon_externals();
            self.state.running.set(false);
        }
        self.state.spare.set(self.work.take());
    }
}

/// Sums of a node's runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeStats {
    /// Runs started, over all runs of the flow.
    pub runs: u64,
    /// Time spent polling the node's body (only with [`RunOptions::time_nodes`]).
    pub run_time: Duration,
}
