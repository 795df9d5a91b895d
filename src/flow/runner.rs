//! Typed node bodies behind one object-safe trait the scheduler drives.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::args::{ArgList, CellTable, GatherFault, NodeFn, StartCx, StateFn, StreamFn, ValueCell};
use super::error::BoxError;
use super::state::Mode;
use super::stream::Emitter;

/// What the scheduler can do with a node without knowing its types.
pub(crate) trait Runner {
    /// Fills the inputs as `modes` say and creates the body future.
    fn start(self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>) -> Result<(), GatherFault>;
    /// Polls the body; `Ready(Ok)` once it returned and its value awaits publication.
    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>>;
    /// Moves the returned value into the node's output cell.
    fn publish(self: Pin<&mut Self>);
    /// Drops the body future (the run is abandoned).
    fn abort(self: Pin<&mut Self>);
    /// Connects input `port` (see `ArgList::bind`).
    fn bind(self: Pin<&mut Self>, port: usize, forward: Option<&dyn Any>, cells: &CellTable) -> bool;

    /// One whole run step in one call: gathers the inputs as `modes` say, creates the body
    /// future and polls it once; a body that returned publishes its value at once (the
    /// scheduler calls this only when no consumer still has to read the previous value).
    /// Observably the same as `start`, `poll_body` inside `catch_unwind`, then `publish` —
    /// which is what this default does. Links (see `fuse.rs`) pass one `Mode::Read` per port.
    fn run_whole(mut self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>, task: &mut Context<'_>) -> LinkStep {
        match catch_unwind(AssertUnwindSafe(|| self.as_mut().start(modes, cx))) {
            Ok(Ok(())) => {}
            Ok(Err(fault)) => return LinkStep::NoInput(fault),
            Err(payload) => return LinkStep::Panicked(payload),
        }
        match catch_unwind(AssertUnwindSafe(|| self.as_mut().poll_body(task))) {
            Ok(Poll::Ready(Ok(()))) => {
                self.publish();
                LinkStep::Published
            }
            Ok(Poll::Ready(Err(e))) => LinkStep::Failed(e),
            Ok(Poll::Pending) => LinkStep::Pending,
            Err(payload) => LinkStep::Panicked(payload),
        }
    }

    /// [`run_whole`](Runner::run_whole) when every one of `modes` is `Mode::Read` (a chain
    /// link's one port, or any node whose ports are all connected, fresh and plain — no
    /// constant, no default taken, no stream): typed runners then gather without looking at
    /// the modes; this default passes them on.
    fn run_read(self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>, task: &mut Context<'_>) -> LinkStep {
        self.run_whole(modes, cx, task)
    }
}

/// What one [`Runner::run_whole`] call did; every case but `Published` leaves the runner exactly
/// as the general path (`start`, `poll_body`) would, so the scheduler handles it the same way.
pub(crate) enum LinkStep {
    /// The body returned; its value is in the output cell.
    Published,
    /// The body waits outside the flow (timer, socket, task); its future is kept.
    Pending,
    /// The body returned an error (its future is gone).
    Failed(BoxError),
    /// The body panicked while gathered, called or polled (the payload); a future is kept
    /// for `abort`.
    Panicked(Box<dyn Any + Send>),
    /// The input could not be gathered; no body was created.
    NoInput(GatherFault),
}

/// A node body of some kind (plain fn, streaming fn, stateful method).
pub(crate) trait Body: 'static {
    type Args: ArgList;
    type Fut: Future + 'static;
    type Value: 'static;
    fn call(&mut self, args: Self::Args, cx: &StartCx<'_>) -> Self::Fut;
    fn finish(&mut self, out: <Self::Fut as Future>::Output) -> Result<Self::Value, BoxError>;
}

/// How a body's return value becomes the published value: as is, or unwrapping a `Result`.
pub(crate) trait Finish<O>: 'static {
    type Value: 'static;
    fn finish(out: O) -> Result<Self::Value, BoxError>;
}

/// Infallible bodies: the return value is published.
#[derive(Debug)]
pub(crate) struct Plain;

/// Fallible bodies: `Ok(v)` publishes `v`, `Err(e)` is the node's error.
#[derive(Debug)]
pub(crate) struct Fallible;

impl<O: 'static> Finish<O> for Plain {
    type Value = O;
    fn finish(out: O) -> Result<O, BoxError> {
        Ok(out)
    }
}

impl<V: 'static, E: Into<BoxError> + 'static> Finish<Result<V, E>> for Fallible {
    type Value = V;
    fn finish(out: Result<V, E>) -> Result<V, BoxError> {
        out.map_err(Into::into)
    }
}

pub(crate) struct FnBody<F, M, K> {
    pub(crate) f: F,
    pub(crate) _m: PhantomData<fn() -> (M, K)>,
}

impl<M: 'static, F: NodeFn<M>, K: Finish<F::Output>> Body for FnBody<F, M, K> {
    type Args = F::Args;
    type Fut = F::Fut;
    type Value = K::Value;

    fn call(&mut self, args: F::Args, _cx: &StartCx<'_>) -> F::Fut {
        self.f.call(args)
    }

    fn finish(&mut self, out: F::Output) -> Result<K::Value, BoxError> {
        K::finish(out)
    }
}

pub(crate) struct StreamBody<C, F, M, K> {
    pub(crate) f: F,
    pub(crate) chunk: Rc<RefCell<Option<C>>>,
    pub(crate) _m: PhantomData<fn() -> (M, K)>,
}

impl<C: 'static, M: 'static, F: StreamFn<C, M>, K: Finish<F::Output>> Body for StreamBody<C, F, M, K> {
    type Args = F::Args;
    type Fut = F::Fut;
    type Value = K::Value;

    fn call(&mut self, args: F::Args, cx: &StartCx<'_>) -> F::Fut {
        let emitter = Emitter::new(Rc::clone(cx.shared), cx.node, Rc::clone(&self.chunk));
        self.f.call(emitter, args)
    }

    fn finish(&mut self, out: F::Output) -> Result<K::Value, BoxError> {
        K::finish(out)
    }
}

pub(crate) struct StateBody<S, F, M, K> {
    /// The node's state; shared with [`Flow::with_state`](super::Flow::with_state), taken by
    /// the body while it runs.
    pub(crate) state: Rc<RefCell<Option<S>>>,
    pub(crate) f: Rc<F>,
    pub(crate) _m: PhantomData<fn() -> (M, K)>,
}

impl<S: 'static, M: 'static, F: StateFn<S, M>, K: Finish<F::Output>> Body for StateBody<S, F, M, K> {
    type Args = F::Args;
    type Fut = Pin<Box<dyn Future<Output = (S, F::Output)>>>;
    type Value = K::Value;

    fn call(&mut self, args: F::Args, _cx: &StartCx<'_>) -> Self::Fut {
        let state = self
            .state
            .borrow_mut()
            .take()
            .expect("a stateful node runs one body at a time");
        F::call(&self.f, state, args)
    }

    fn finish(&mut self, (state, out): (S, F::Output)) -> Result<K::Value, BoxError> {
        *self.state.borrow_mut() = Some(state);
        K::finish(out)
    }
}

pin_project_lite::pin_project! {
    /// Where a node's run is: no body, a running body future, or the value the body returned,
    /// waiting to be published. One field for both, as they never exist together: 16 bytes
    /// less per plain node than two `Option`s.
    #[project = RunProj]
    #[project_replace = RunTaken]
    enum RunState<F, V> {
        Idle,
        Body { #[pin] fut: F },
        Done { value: V },
    }
}

pin_project_lite::pin_project! {
    /// A body with its input slots, its run (future or returned value) and its output cell.
    pub(crate) struct BodyRunner<B: Body> {
        body: B,
        slots: <B::Args as ArgList>::Slots,
        #[pin]
        run: RunState<B::Fut, B::Value>,
        cell: ValueCell<B::Value>,
    }
}

impl<B: Body> BodyRunner<B> {
    pub(crate) fn new(body: B, slots: <B::Args as ArgList>::Slots, cell: ValueCell<B::Value>) -> Self {
        BodyRunner {
            body,
            slots,
            run: RunState::Idle,
            cell,
        }
    }
}

impl<B: Body> Runner for BodyRunner<B> {
    fn start(self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>) -> Result<(), GatherFault> {
        let mut this = self.project();
        let args = B::Args::fetch(this.slots, modes, cx)?;
        let fut = this.body.call(args, cx);
        this.run.set(RunState::Body { fut });
        Ok(())
    }

    fn poll_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let mut this = self.project();
        let out = match this.run.as_mut().project() {
            RunProj::Body { fut } => match fut.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(out) => out,
            },
            RunProj::Idle | RunProj::Done { .. } => return Poll::Ready(Ok(())),
        };
        this.run.set(RunState::Idle);
        let value = this.body.finish(out)?;
        this.run.set(RunState::Done { value });
        Poll::Ready(Ok(()))
    }

    fn publish(self: Pin<&mut Self>) {
        let mut this = self.project();
        if !matches!(this.run.as_mut().project(), RunProj::Done { .. }) {
            return;
        }
        if let RunTaken::Done { value } = this.run.project_replace(RunState::Idle) {
            this.cell.set(value);
        }
    }

    fn abort(self: Pin<&mut Self>) {
        // Drops a running body only: a returned value still waits to be published.
        let mut run = self.project().run;
        if matches!(run.as_mut().project(), RunProj::Body { .. }) {
            run.set(RunState::Idle);
        }
    }

    fn bind(self: Pin<&mut Self>, port: usize, forward: Option<&dyn Any>, cells: &CellTable) -> bool {
        B::Args::bind(self.project().slots, port, forward, cells)
    }

    /// The default's three virtual calls and the `pending` slot folded into one: the value goes
    /// straight into the output cell (see [`BodyRunner::whole`]).
    fn run_whole(self: Pin<&mut Self>, modes: &[Mode], cx: &StartCx<'_>, task: &mut Context<'_>) -> LinkStep {
        self.whole(|slots, cx| B::Args::fetch(slots, modes, cx), cx, task)
    }

    /// [`run_whole`](Runner::run_whole) with every port known to be read from its producer,
    /// so that gathering compiles to the reads alone (inlined, no mode dispatch).
    fn run_read(self: Pin<&mut Self>, _modes: &[Mode], cx: &StartCx<'_>, task: &mut Context<'_>) -> LinkStep {
        self.whole(B::Args::fetch_read, cx, task)
    }
}

impl<B: Body> BodyRunner<B> {
    /// The body of [`Runner::run_whole`] and [`Runner::run_read`]: gathering (an input's
    /// `Clone`), calling, the poll and `finish` run inside `catch_unwind`, as in the general
    /// path.
    #[inline(always)]
    fn whole(
        self: Pin<&mut Self>,
        gather: impl FnOnce(&<B::Args as ArgList>::Slots, &StartCx<'_>) -> Result<B::Args, GatherFault>,
        cx: &StartCx<'_>,
        task: &mut Context<'_>,
    ) -> LinkStep {
        let mut this = self.project();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let args = gather(this.slots, cx)?;
            let fut = this.body.call(args, cx);
            this.run.set(RunState::Body { fut });
            let out = match this.run.as_mut().project() {
                RunProj::Body { fut } => match fut.poll(task) {
                    Poll::Pending => return Ok(Poll::Pending),
                    Poll::Ready(out) => out,
                },
                RunProj::Idle | RunProj::Done { .. } => unreachable!("the future was just set"),
            };
            this.run.set(RunState::Idle);
            Ok(Poll::Ready(this.body.finish(out)))
        }));
        match polled {
            Ok(Ok(Poll::Ready(Ok(v)))) => {
                this.cell.set(v);
                LinkStep::Published
            }
            Ok(Ok(Poll::Ready(Err(e)))) => LinkStep::Failed(e),
            Ok(Ok(Poll::Pending)) => LinkStep::Pending,
            Ok(Err(fault)) => LinkStep::NoInput(fault),
            Err(payload) => LinkStep::Panicked(payload),
        }
    }
}
