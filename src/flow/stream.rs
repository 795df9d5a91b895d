//! Streams: the producer's [`Emitter`] and the consumer's [`Stream`] (run level 1).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::error::StreamCancelled;
use super::generation::Generation;
use super::instrument;
use super::pair::Phase;
use super::state::{FlowState, Graph, Status};
use crate::sync::AsyncIterator;

/// The handle a streaming node emits chunks through (its first parameter).
///
/// Each [`emit`](Emitter::emit) publishes chunk `(k, j)` and suspends until every stream
/// consumer took it and someone pulled the producer again; it fails with [`StreamCancelled`]
/// once a consumer cancelled the stream.
pub struct Emitter<C> {
    shared: Rc<FlowState>,
    node: u32,
    cell: Rc<RefCell<Option<C>>>,
}

impl<C> fmt::Debug for Emitter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl<C> Emitter<C> {
    pub(crate) fn new(shared: Rc<FlowState>, node: u32, cell: Rc<RefCell<Option<C>>>) -> Self {
        Emitter { shared, node, cell }
    }

    /// Publishes `chunk` and waits for the hand-off.
    ///
    /// # Errors
    /// [`StreamCancelled`] once a consumer cancelled this run's stream (the chunk is dropped).
    pub fn emit(&self, chunk: C) -> Emit<'_, C> {
        Emit {
            emitter: self,
            chunk: Some(chunk),
            waiting: false,
        }
    }

    /// Whether a consumer cancelled this run's stream.
    pub fn is_cancelled(&self) -> bool {
        self.shared.graph.borrow().nodes[self.node as usize].cancelled
    }

    /// A folding view: every chunk emitted through it is also folded into an accumulator, whose
    /// value ([`Fold::value`]) is the natural final value of the producer.
    pub fn fold<A, F: FnMut(A, &C) -> A>(&self, init: A, f: F) -> Fold<'_, C, A, F> {
        Fold {
            emitter: self,
            acc: Some(init),
            f,
        }
    }
}

/// Future of [`Emitter::emit`].
#[must_use = "futures do nothing unless awaited"]
pub struct Emit<'e, C> {
    emitter: &'e Emitter<C>,
    chunk: Option<C>,
    waiting: bool,
}

impl<C> fmt::Debug for Emit<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emit")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

impl<C> Unpin for Emit<'_, C> {}

impl<'e, C> Future for Emit<'e, C> {
    type Output = Result<(), StreamCancelled>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The emitter outlives this future: borrowing the graph through it needs no `Rc` clone.
        let emitter: &'e Emitter<C> = self.emitter;
        let n = emitter.node;
        let mut g = emitter.shared.graph.borrow_mut();
        if let Some(pair) = &mut g.pair {
            if pair.producer == n {
                match (self.waiting, pair.phase) {
                    // Pulled and resumed: the hand-off is done (a pair's producer is never
                    // cancelled: a cancel ends pair mode first).
                    (true, Phase::Resumed) => {
                        self.waiting = false;
                        return Poll::Ready(Ok(()));
                    }
                    // Polled again before the consumer took the chunk.
                    (true, Phase::Offered) => return Poll::Pending,
                    (false, Phase::Resumed) => {
                        pair.phase = Phase::Offered;
                        if let Some(chunk) = self.chunk.take() {
                            *emitter.cell.borrow_mut() = Some(chunk);
                        }
                        g.publish_pair_chunk(n);
                        self.waiting = true;
                        return Poll::Pending;
                    }
                    _ => {}
                }
            }
            g.flush_pair();
        }
        if self.waiting {
            let node = &g.nodes[n as usize];
            if node.status != Status::Running {
                return Poll::Pending;
            }
            self.waiting = false;
            return Poll::Ready(if node.cancelled { Err(StreamCancelled) } else { Ok(()) });
        }
        if g.nodes[n as usize].cancelled {
            self.chunk = None;
            return Poll::Ready(Err(StreamCancelled));
        }
        if let Some(chunk) = self.chunk.take() {
            *emitter.cell.borrow_mut() = Some(chunk);
        }
        publish_chunk(&mut g, n);
        self.waiting = true;
        Poll::Pending
    }
}

/// Publishes the next chunk of `n` (FLOW_SEMANTICS §8, "emit"): one port's fast path when it
/// applies, else the general publication.
#[inline(always)]
fn publish_chunk(g: &mut Graph, n: u32) {
    if g.instrumented || !g.publish_lone_chunk(n) {
        publish_any_chunk(g, n);
    }
}

/// The general chunk publication: every consumer port, traced runs, a run's first chunk.
#[inline(never)]
fn publish_any_chunk(g: &mut Graph, n: u32) {
    let stream = &mut g.streams[n as usize];
    let chunk = stream.chunks;
    stream.chunks += 1;
    let left = g.set_chunk_generation(n, Generation::chunk(g.nodes[n as usize].run, chunk));
    debug_assert_eq!(
        left,
        g.attached_stream_ports(n),
        "attached stream ports counted in the same pass"
    );
    g.streams[n as usize].chunk_left = left;
    let node = &mut g.nodes[n as usize];
    node.status = if left == 0 { Status::EmitPull } else { Status::EmitTaken };
    if g.instrumented {
        instrument::chunk(g, n);
    }
    if !g.limits.is_empty() {
        g.check_limit(n);
    }
    g.enqueue_consumers(n);
}

/// A folding emitter made by [`Emitter::fold`].
pub struct Fold<'e, C, A, F> {
    emitter: &'e Emitter<C>,
    acc: Option<A>,
    f: F,
}

impl<C, A, F> fmt::Debug for Fold<'_, C, A, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fold").finish_non_exhaustive()
    }
}

impl<C: Clone, A, F: FnMut(A, &C) -> A> Fold<'_, C, A, F> {
    /// Emits `chunk`; once it was handed off, folds it into the accumulator.
    ///
    /// # Errors
    /// [`StreamCancelled`] as [`Emitter::emit`]; the chunk is then not folded.
    pub async fn emit(&mut self, chunk: C) -> Result<(), StreamCancelled> {
        let kept = chunk.clone();
        self.emitter.emit(chunk).await?;
        if let Some(acc) = self.acc.take() {
            self.acc = Some((self.f)(acc, &kept));
        }
        Ok(())
    }

    /// The accumulated value.
    pub fn value(self) -> A {
        self.acc.expect("the accumulator is always present between emits")
    }
}

/// A stream input: the lazy sequence of the producer's chunks for its current run.
///
/// [`next`](Stream::next) yields the chunks in order and `None` once the producer's run
/// finished (or the stream was cancelled). It implements [`AsyncIterator`], so it works with
/// [`azip`](crate::sync::azip). Dropping an unfinished stream detaches this input from the
/// hand-offs of the run; [`cancel`](Stream::cancel) also stops the producer.
///
/// A stream input may have a default (used when the port is stale or unconnected, for example
/// to break a cycle): [`Output::or_empty`](super::Output::or_empty) or
/// [`Output::or_chunks`](super::Output::or_chunks); such a default stream yields its given
/// chunks and ends.
pub struct Stream<C> {
    source: Source<C>,
}

enum Source<C> {
    /// Chunks of a producer node, handed off through the flow.
    Live {
        shared: Rc<FlowState>,
        port: u32,
        /// The port's producer and the node it belongs to (both fixed once the flow is built).
        producer: u32,
        node: u32,
        chunk: Rc<RefCell<Option<C>>>,
        done: bool,
    },
    /// A default stream: fixed chunks, then the end.
    Given { chunks: Rc<[C]>, next: usize },
}

impl<C> fmt::Debug for Stream<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Live { port, done, .. } => f
                .debug_struct("Stream")
                .field("port", port)
                .field("done", done)
                .finish(),
            Source::Given { chunks, next } => f
                .debug_struct("Stream")
                .field("given", &chunks.len())
                .field("next", next)
                .finish(),
        }
    }
}

impl<C> Stream<C> {
    /// A stream that yields `chunks` and ends (what a stream-input default hands the body).
    pub fn from_chunks(chunks: impl IntoIterator<Item = C>) -> Stream<C> {
        Stream {
            source: Source::Given {
                chunks: chunks.into_iter().collect(),
                next: 0,
            },
        }
    }

    /// The same given chunks from the start (each run that takes the default gets a fresh
    /// copy). Live streams are never defaults; they restart empty.
    pub(crate) fn restart(&self) -> Stream<C> {
        match &self.source {
            Source::Given { chunks, .. } => Stream {
                source: Source::Given {
                    chunks: Rc::clone(chunks),
                    next: 0,
                },
            },
            Source::Live { .. } => Stream::from_chunks(Vec::new()),
        }
    }
}

impl<C: Clone> Stream<C> {
    pub(crate) fn open(shared: &Rc<FlowState>, port: u32, chunk: Rc<RefCell<Option<C>>>) -> Stream<C> {
        let mut g = shared.graph.borrow_mut();
        g.flush_pair();
        let (p, node) = {
            let port = &g.ports[port as usize];
            (port.producer.expect("stream ports are connected"), port.node)
        };
        let (run, taken) = match g.nodes[p as usize].generation {
            None => (0, None),
            Some(gn) => match gn.chunk_index() {
                Some(_) => (gn.run(), None),
                None => (gn.run(), Some(u64::MAX)),
            },
        };
        let port_state = &mut g.stream_ports[port as usize];
        port_state.run = run;
        port_state.taken = taken;
        port_state.detached = false;
        drop(g);
        Stream {
            source: Source::Live {
                shared: Rc::clone(shared),
                port,
                producer: p,
                node,
                chunk,
                done: false,
            },
        }
    }

    /// The next chunk, or `None` at the end of the producer's run.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Next<'_, C> {
        Next { stream: self }
    }

    /// Cancels the stream: this input ends now, the producer's pending
    /// [`emit`](Emitter::emit) fails with [`StreamCancelled`] once every sibling consumer took
    /// the chunk it is on, and siblings end after the chunks already emitted.
    pub async fn cancel(&mut self) {
        match &mut self.source {
            Source::Given { chunks, next } => *next = chunks.len(),
            Source::Live { shared, port, done, .. } => {
                if *done {
                    return;
                }
                *done = true;
                let mut g = shared.graph.borrow_mut();
                detach(&mut g, *port);
                let p = g.ports[*port as usize].producer.expect("stream ports are connected");
                g.cancel_stream(p);
            }
        }
    }

    #[inline(always)]
    fn poll_next(&mut self) -> Poll<Option<C>> {
        match &mut self.source {
            Source::Given { chunks, next } => {
                let item = chunks.get(*next).cloned();
                *next += usize::from(item.is_some());
                Poll::Ready(item)
            }
            Source::Live {
                shared,
                port,
                producer,
                node,
                chunk,
                done,
            } => {
                if *done {
                    return Poll::Ready(None);
                }
                let mut g = shared.graph.borrow_mut();
                if let Some(pair) = &mut g.pair {
                    if pair.port == *port {
                        match pair.phase {
                            Phase::Offered => {
                                pair.phase = Phase::Taken;
                                drop(g);
                                return Poll::Ready(chunk.borrow().clone());
                            }
                            Phase::Taken => {
                                pair.phase = Phase::Pulled;
                                return Poll::Pending;
                            }
                            Phase::Resumed | Phase::Pulled => {}
                        }
                    }
                    g.flush_pair();
                }
                let taken = poll_live(&mut g, [*port, *producer, *node], done);
                // The chunk is cloned with the flow's records released, as a plain input's
                // value is gathered.
                drop(g);
                match taken {
                    Poll::Ready(true) => Poll::Ready(chunk.borrow().clone()),
                    Poll::Ready(false) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// One `next` on a live stream input `[port, its producer, its node]` (FLOW_SEMANTICS §8, "a
/// stream input's next()"): `Ready(true)` when it took the producer's latest chunk (the caller
/// clones it), `Ready(false)` at the end of the stream.
#[inline(always)]
fn poll_live(g: &mut Graph, [port, p, consumer]: [u32; 3], done: &mut bool) -> Poll<bool> {
    let pi = port as usize;
    let prod = &g.nodes[p as usize];
    let Some(gn) = prod.generation else {
        return stall(g, [port, p, consumer]);
    };
    let cancelled = prod.cancelled;
    let st = &mut g.stream_ports[pi];
    if gn.run() > st.run {
        st.run = gn.run();
        st.taken = None;
        st.detached = false;
    } else if gn.run() < st.run {
        return stall(g, [port, p, consumer]);
    }
    match gn.chunk_index() {
        Some(j) if st.taken.is_none_or(|t| j > t) => {
            st.taken = Some(j);
            let attached = !st.detached;
            if attached {
                g.chunk_taken(p);
            }
            resume_consumer(g, consumer, port);
            Poll::Ready(true)
        }
        Some(_) if !cancelled => stall(g, [port, p, consumer]),
        _ => {
            *done = true;
            resume_consumer(g, consumer, port);
            Poll::Ready(false)
        }
    }
}

/// The consumer owning `port` (node `consumer`) got something: it is running again.
#[inline]
fn resume_consumer(g: &mut Graph, consumer: u32, port: u32) {
    let node = &mut g.nodes[consumer as usize];
    if node.status == Status::Stalled(port) {
        node.status = Status::Running;
    }
}

/// No chunk yet: the consumer `node` stalls on `port` and its `producer` is queued.
#[inline(always)]
fn stall(g: &mut Graph, [port, producer, node]: [u32; 3]) -> Poll<bool> {
    g.nodes[node as usize].status = Status::Stalled(port);
    if g.instrumented {
        instrument::stalled(g, node, port);
    }
    g.wake(producer);
    Poll::Pending
}

/// Leaves the hand-offs of the current run: the producer no longer waits for this port.
fn detach(g: &mut Graph, port: u32) {
    g.flush_pair();
    let pi = port as usize;
    if g.stream_ports[pi].detached {
        return;
    }
    g.stream_ports[pi].detached = true;
    let p = g.ports[pi].producer.expect("stream ports are connected") as usize;
    let Some(gn) = g.nodes[p].generation else { return };
    let owes_take = match gn.chunk_index() {
        Some(j) => {
            let st = &g.stream_ports[pi];
            gn.run() == st.run && st.taken.is_none_or(|t| j > t)
        }
        None => false,
    };
    if owes_take {
        g.chunk_taken(p as u32);
    }
}

impl<C> Drop for Stream<C> {
    fn drop(&mut self) {
        let Source::Live { shared, port, done, .. } = &self.source else {
            return;
        };
        if *done {
            return;
        }
        if let Ok(mut g) = shared.graph.try_borrow_mut() {
            detach(&mut g, *port);
        }
    }
}

/// Future of [`Stream::next`].
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'s, C> {
    stream: &'s mut Stream<C>,
}

impl<C> fmt::Debug for Next<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("stream", &self.stream).finish()
    }
}

impl<C: Clone> Future for Next<'_, C> {
    type Output = Option<C>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<C>> {
        self.stream.poll_next()
    }
}

impl<C: Clone> AsyncIterator for Stream<C> {
    type Item = C;

    fn next(&mut self) -> impl Future<Output = Option<C>> {
        Stream::next(self)
    }
}
