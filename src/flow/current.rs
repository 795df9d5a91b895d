//! What a node body can learn while it runs: which node it is ([`current_node`]) and the
//! caller's per-run context value ([`context`], set with
//! [`RunOptions::context`](super::RunOptions::context) or
//! [`RunOptions::context_factory`](super::RunOptions::context_factory)).
//!
//! The flow's scheduler enters a scope for the flow once per poll of its task and names the
//! node before each body step, so the answer is cheap and always about the body being polled
//! (nested flows restore the outer answer when their poll ends).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use super::generation::Generation;
use super::handles::NodeId;
use super::state::FlowState;

/// No node is being polled.
const NO_NODE: u32 = u32::MAX;

thread_local! {
    static FLOW: RefCell<Option<Rc<FlowState>>> = const { RefCell::new(None) };
    static NODE: Cell<u32> = const { Cell::new(NO_NODE) };
}

/// The node whose body is running, as seen from inside it ([`current_node`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeInfo {
    /// The node.
    pub id: NodeId,
    /// Its name (`fn_name#index` unless renamed).
    pub name: String,
    /// The newest generation it has published: `None` before its first value.
    pub generation: Option<Generation>,
    /// The index of the run in progress: its final value will be generation `(run,)`.
    pub run: u64,
}

/// Describes the node whose body is being polled, or `None` outside a node body.
///
/// ```
/// use flowloop::flow::{FlowBuilder, RunOptions, current_node};
/// async fn who() -> String {
///     let me = current_node().unwrap();
///     format!("{} run {}", me.name, me.run)
/// }
/// let mut b = FlowBuilder::new();
/// let n = b.node(who, ());
/// let mut flow = b.build().unwrap();
/// flow.run_until_complete(RunOptions::new()).unwrap();
/// assert_eq!(flow.value(n).as_deref(), Some("who#0 run 0"));
/// assert!(current_node().is_none());
/// ```
pub fn current_node() -> Option<NodeInfo> {
    with_current(|state, n| node_info(state, n))
}

/// The caller's context value for this run, if it has type `T`: the value given to
/// [`RunOptions::context`](super::RunOptions::context), or the one
/// [`RunOptions::context_factory`](super::RunOptions::context_factory) made for this node (made
/// on the first call in each run, then shared by the node's later calls). `None` outside a node
/// body, without a context, or for another type.
///
/// ```
/// use flowloop::flow::{FlowBuilder, RunOptions, context};
/// async fn greet() -> String {
///     let user = context::<String>().expect("the caller passes a user name");
///     format!("hello {user}")
/// }
/// let mut b = FlowBuilder::new();
/// let g = b.node(greet, ());
/// let mut flow = b.build().unwrap();
/// flow.run_until_complete(RunOptions::new().context("ada".to_string())).unwrap();
/// assert_eq!(flow.value(g).as_deref(), Some("hello ada"));
/// ```
pub fn context<T: 'static>() -> Option<Rc<T>> {
    with_current(|state, n| RunContext::value_for(state, n)?.downcast::<T>().ok())
}

fn with_current<R>(f: impl FnOnce(&Rc<FlowState>, u32) -> Option<R>) -> Option<R> {
    let n = NODE.with(Cell::get);
    if n == NO_NODE {
        return None;
    }
    let state = FLOW.with(|s| s.borrow().clone())?;
    f(&state, n)
}

/// A context factory with its value type erased.
pub(crate) type MakeContext = dyn Fn(&NodeInfo) -> Rc<dyn Any>;

/// Where the per-run context value comes from.
#[derive(Clone)]
pub(crate) enum ContextSource {
    /// One value shared by every node.
    Value(Rc<dyn Any>),
    /// One value per node and run, made on demand.
    Factory(Rc<MakeContext>),
}

impl fmt::Debug for ContextSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextSource::Value(_) => f.write_str("Value(..)"),
            ContextSource::Factory(_) => f.write_str("Factory(..)"),
        }
    }
}

/// The context of the run in progress (kept in the flow's shared state).
#[derive(Debug, Default)]
pub(crate) struct RunContext {
    source: Option<ContextSource>,
    /// Factory values made in this run, by node index.
    made: Vec<Option<Rc<dyn Any>>>,
}

impl RunContext {
    /// Starts a run with `source` (values made in earlier runs are dropped).
    pub(crate) fn reset(&mut self, source: Option<ContextSource>) {
        self.source = source;
        self.made.clear();
    }

    /// The context value for node `n` (a factory is called outside every borrow, so it may
    /// itself look at [`current_node`] or [`context`]).
    fn value_for(state: &FlowState, n: u32) -> Option<Rc<dyn Any>> {
        let i = n as usize;
        let make = match state.context.borrow().source.clone()? {
            ContextSource::Value(v) => return Some(v),
            ContextSource::Factory(make) => make,
        };
        if let Some(v) = state.context.borrow().made.get(i).cloned().flatten() {
            return Some(v);
        }
        let value = make(&node_info(state, n)?);
        let mut ctx = state.context.borrow_mut();
        if ctx.made.len() <= i {
            ctx.made.resize(i + 1, None);
        }
        ctx.made[i] = Some(Rc::clone(&value));
        Some(value)
    }
}

fn node_info(state: &FlowState, n: u32) -> Option<NodeInfo> {
    let g = state.graph.try_borrow().ok()?;
    let node = &g.nodes[n as usize];
    Some(NodeInfo {
        id: NodeId(n),
        name: g.node_name(n).to_string(),
        generation: node.generation,
        run: node.run,
    })
}

/// The flow whose scheduler is being polled; restores the previous one when dropped.
#[derive(Debug)]
pub(crate) struct FlowScope {
    previous: Option<Rc<FlowState>>,
    previous_node: u32,
}

impl FlowScope {
    pub(crate) fn enter(state: &Rc<FlowState>) -> FlowScope {
        let previous = FLOW.with(|s| s.replace(Some(Rc::clone(state))));
        let previous_node = NODE.with(|c| c.replace(NO_NODE));
        FlowScope {
            previous,
            previous_node,
        }
    }
}

impl Drop for FlowScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        FLOW.with(|s| *s.borrow_mut() = previous);
        NODE.with(|c| c.set(self.previous_node));
    }
}

/// Names node `n` as the one being polled until the returned guard is dropped.
pub(crate) fn polling(n: u32) -> NodeGuard {
    NODE.with(|c| c.set(n));
    NodeGuard(())
}

/// Names node `n` as the one being polled, under a guard [`polling`] returned (the nodes of
/// a fused segment, polled one after another).
#[inline]
pub(crate) fn polling_next(n: u32) {
    NODE.with(|c| c.set(n));
}

/// Clears the node being polled when dropped (also when its body panics).
#[derive(Debug)]
pub(crate) struct NodeGuard(());

impl Drop for NodeGuard {
    fn drop(&mut self) {
        NODE.with(|c| c.set(NO_NODE));
    }
}
