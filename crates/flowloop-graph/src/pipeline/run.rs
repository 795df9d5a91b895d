//! Running a [`Plan`]: seqs step by step, pars as spawned tasks whose results arrive on a
//! queue in completion order, dispatches by key, function steps on the loop or the offload
//! pool, each under its timeout.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use flowloop::flow::DynArg;
use flowloop::sync::AsyncQueue;
use flowloop::{DropPolicy, TaskError, TaskHandle};
use rustc_hash::FxHashMap;

use super::error::{Conflict, Message, RunError};
use super::leaf::{self, Call, Exec, Leaf, LeafError, Params, Raw, Started};
use super::plan::{Plan, PlanNode, StepId, What};
use super::step::{Missing, ParPolicy, Visibility};
use crate::kind::Kind;
use crate::unwind::catch;
use crate::{Map, Value};

/// A step skipped because an argument was missing (only for steps marked
/// [`skip_if_missing`](super::Step::skip_if_missing)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The step's path.
    pub step: String,
    /// The missing argument.
    pub argument: String,
}

/// What a run produced: the root step's outputs, and every step skipped on the way.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The outputs of the root step.
    pub outputs: Map,
    /// Steps skipped for a missing argument, in the order they were skipped.
    pub skipped: Vec<Skipped>,
}

/// Shared by every step of one run.
pub(crate) struct RunCx {
    plan: Arc<Plan>,
    skipped: RefCell<Vec<Skipped>>,
}

type StepFuture = Pin<Box<dyn Future<Output = Result<Map, RunError>>>>;

/// A step's arguments: its own, or shared by the members of a par (a member copies them only
/// when it needs a map of its own: a group, or a skipped step passing them on).
enum Args {
    Owned(Map),
    Shared(Rc<Map>),
}

impl Args {
    fn map(&self) -> &Map {
        match self {
            Args::Owned(map) => map,
            Args::Shared(map) => map,
        }
    }

    fn into_map(self) -> Map {
        match self {
            Args::Owned(map) => map,
            Args::Shared(map) => Rc::unwrap_or_clone(map),
        }
    }
}

/// Runs `plan` on `args` to a [`Report`].
pub(crate) async fn run_plan(plan: Arc<Plan>, args: Map) -> Result<Report, RunError> {
    let root = plan.root();
    let cx = Rc::new(RunCx {
        plan,
        skipped: RefCell::new(Vec::new()),
    });
    let outputs = run_node(&cx, root, Args::Owned(args), Visibility::None).await?;
    let skipped = cx.skipped.take();
    Ok(Report { outputs, skipped })
}

/// Runs one step under its timeout.
async fn run_node(cx: &Rc<RunCx>, id: StepId, input: Args, inherited: Visibility) -> Result<Map, RunError> {
    let node = cx.plan.node(id);
    match node.timeout {
        None => run_body(cx, node, input, inherited).await,
        // Boxed, so that a step without a timeout (the usual case) does not carry room for
        // the body and its timer twice.
        Some(after) => flowloop::timeout(after, Box::pin(run_body(cx, node, input, inherited)))
            .await
            .unwrap_or_else(|_| {
                Err(RunError::Timeout {
                    step: node.path.to_string(),
                    after,
                })
            }),
    }
}

async fn run_body(cx: &Rc<RunCx>, node: &PlanNode, input: Args, inherited: Visibility) -> Result<Map, RunError> {
    if let What::Leaf(leaf) = &node.what {
        return run_leaf(cx, node, leaf, input).await;
    }
    let input = node.mapper.rename_inputs(input.into_map());
    let out = group_future(cx, node, input, inherited).await?;
    node.mapper
        .name_outputs(Raw::Map(out), None)
        .map_err(|problem| RunError::BadOutput {
            step: node.path.to_string(),
            problem,
        })
}

/// The future of a group or dispatch (boxed: groups nest).
fn group_future(cx: &Rc<RunCx>, node: &PlanNode, input: Map, inherited: Visibility) -> StepFuture {
    let cx = Rc::clone(cx);
    let path = Arc::clone(&node.path);
    match &node.what {
        What::Seq { members, visibility } => {
            let (members, vis) = (members.clone(), visibility.unwrap_or(inherited));
            Box::pin(async move { run_seq(&cx, &members, vis, input).await })
        }
        What::Par {
            members,
            visibility,
            policy,
        } => {
            let (members, vis, policy) = (members.clone(), visibility.unwrap_or(inherited), *policy);
            Box::pin(async move { run_par(&cx, &path, &members, vis, policy, input).await })
        }
        What::Dispatch { argument, cases } => {
            let pick = dispatch_case(&path, argument, cases, &input);
            Box::pin(async move { run_node(&cx, pick?, Args::Owned(input), inherited).await })
        }
        What::Leaf(_) => unreachable!("run_body runs function steps itself"),
    }
}

/// A seq: each step's outputs (overlaid per the visibility) are the next step's arguments;
/// the last step's outputs are the seq's.
async fn run_seq(cx: &Rc<RunCx>, members: &[StepId], vis: Visibility, input: Map) -> Result<Map, RunError> {
    let initial = (vis == Visibility::Initial).then(|| input.clone());
    let mut seen = (vis == Visibility::All).then(|| input.clone());
    let mut prev = input;
    for (k, &id) in members.iter().enumerate() {
        let visible = match (&initial, &seen) {
            _ if k == 0 => prev,
            (Some(initial), _) => overlay(initial.clone(), &prev),
            (_, Some(seen)) => seen.clone(),
            (None, None) => prev,
        };
        prev = run_node(cx, id, Args::Owned(visible), vis).await?;
        if let Some(seen) = &mut seen {
            *seen = overlay(std::mem::take(seen), &prev);
        }
    }
    Ok(prev)
}

fn overlay(mut base: Map, top: &Map) -> Map {
    for (k, v) in top.iter() {
        base.insert(k, v.clone());
    }
    base
}

type Arrival = (usize, Result<Map, RunError>);

/// A par: every member runs as its own task on the same (shared) arguments; results arrive
/// in completion order; a failure cancels the rest (or waits for them, per `policy`); the
/// outputs are merged in member order.
async fn run_par(
    cx: &Rc<RunCx>,
    path: &str,
    members: &[StepId],
    vis: Visibility,
    policy: ParPolicy,
    input: Map,
) -> Result<Map, RunError> {
    let queue: AsyncQueue<Arrival> = AsyncQueue::new();
    let input = Rc::new(input);
    let tasks = members
        .iter()
        .enumerate()
        .map(|(i, &id)| member_task(cx, i, id, vis, Rc::clone(&input), &queue));
    let mut handles = spawn_all(tasks).await;
    drop(input);
    let mut results: Vec<Option<Map>> = vec![None; members.len()];
    let mut failures = Vec::new();
    for _ in 0..members.len() {
        let (i, result) = queue.get().await.expect("the arrival queue is never closed");
        handles[i] = None;
        match result {
            Ok(map) => results[i] = Some(map),
            Err(e) => failures.push(e),
        }
        if !failures.is_empty() && policy == ParPolicy::CancelSiblings {
            break;
        }
    }
    if !failures.is_empty() {
        return Err(par_failure(cx, path, members, handles, failures));
    }
    let paths: Vec<&str> = members.iter().map(|id| &*cx.plan.node(*id).path).collect();
    merge(path, &paths, results.into_iter().flatten())
}

/// The task of par member `index`: runs the step and puts its result on `queue`.
fn member_task(
    cx: &Rc<RunCx>,
    index: usize,
    id: StepId,
    vis: Visibility,
    input: Rc<Map>,
    queue: &AsyncQueue<Arrival>,
) -> impl Future<Output = ()> + 'static + use<> {
    let (cx, queue) = (Rc::clone(cx), queue.clone());
    async move {
        let result = run_node(&cx, id, Args::Shared(input), vis).await;
        if queue.try_put((index, result)).is_err() {
            unreachable!("the arrival queue is unbounded and never closed");
        }
    }
}

/// Spawns every task in one turn of the loop: each spawn is a command the loop carries out
/// after the poll, so awaiting them one by one would cost a round trip through the loop each.
/// Dropping a returned handle cancels its task.
async fn spawn_all<F: Future<Output = ()> + 'static>(tasks: impl Iterator<Item = F>) -> Vec<Option<TaskHandle<()>>> {
    let mut spawns: Vec<_> = tasks.map(flowloop::spawn).collect();
    let mut handles: Vec<Option<TaskHandle<()>>> = spawns.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut done = true;
        for (spawn, slot) in spawns.iter_mut().zip(handles.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match Pin::new(spawn).poll(cx) {
                Poll::Ready(handle) => *slot = Some(handle.on_drop(DropPolicy::Abort)),
                Poll::Pending => done = false,
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    handles
}

/// The par's error: the first failure, the members cancelled (their handles are dropped
/// here, which cancels them), and later failures.
fn par_failure(
    cx: &RunCx,
    path: &str,
    members: &[StepId],
    handles: Vec<Option<TaskHandle<()>>>,
    mut failures: Vec<RunError>,
) -> RunError {
    let cancelled = handles
        .iter()
        .zip(members)
        .filter(|(h, _)| h.is_some())
        .map(|(_, id)| cx.plan.node(*id).path.to_string())
        .collect();
    drop(handles);
    let failed = Box::new(failures.remove(0));
    RunError::Par {
        step: path.to_string(),
        failed,
        cancelled,
        others: failures,
    }
}

/// Merges member outputs in member order; a key produced twice with different values is a
/// conflict naming both members.
fn merge(path: &str, paths: &[&str], results: impl Iterator<Item = Map>) -> Result<Map, RunError> {
    let maps: Vec<Map> = results.collect();
    let first = first_occurrences(path, paths, &maps)?;
    let mut out = Map::with_capacity(first.iter().filter(|f| **f).count());
    let entries = maps.into_iter().flat_map(Map::into_entries);
    for ((key, value), _) in entries.zip(first).filter(|(_, first)| *first) {
        out.push_absent(key, value);
    }
    Ok(out)
}

/// For every entry of `maps` in order, whether it is its key's first occurrence; a later
/// occurrence with a different value is a conflict naming both members.
fn first_occurrences(path: &str, paths: &[&str], maps: &[Map]) -> Result<Vec<bool>, RunError> {
    let total = maps.iter().map(Map::len).sum();
    let mut owners: FxHashMap<&str, (usize, &Value)> = FxHashMap::with_capacity_and_hasher(total, Default::default());
    let mut first = Vec::with_capacity(total);
    for (i, map) in maps.iter().enumerate() {
        for (key, value) in map.iter() {
            match owners.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert((i, value));
                    first.push(true);
                }
                Entry::Occupied(seen) if seen.get().1 == value => first.push(false),
                Entry::Occupied(seen) => {
                    let (earlier, old) = *seen.get();
                    return Err(RunError::Conflict(Box::new(Conflict {
                        step: path.to_string(),
                        key: key.to_string(),
                        first: paths[earlier].to_string(),
                        second: paths[i].to_string(),
                        first_value: old.clone(),
                        second_value: value.clone(),
                    })));
                }
            }
        }
    }
    Ok(first)
}

/// The case a dispatch runs for the key in `input`.
fn dispatch_case(path: &str, argument: &str, cases: &[(String, StepId)], input: &Map) -> Result<StepId, RunError> {
    let Some(value) = input.get(argument) else {
        return Err(RunError::MissingArgument {
            step: path.to_string(),
            argument: argument.to_string(),
            available: input.keys().map(str::to_string).collect(),
        });
    };
    let key = match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    };
    cases
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, id)| *id)
        .ok_or_else(|| RunError::UnknownKey {
            step: path.to_string(),
            argument: argument.to_string(),
            key,
            known: cases.iter().map(|(k, _)| k.clone()).collect(),
        })
}

/// A function step: pick the arguments (or skip), call, name the outputs.
async fn run_leaf(cx: &RunCx, node: &PlanNode, leaf: &Leaf, input: Args) -> Result<Map, RunError> {
    let result = match pick(node, leaf, input.map()) {
        Ok(prepared) => catch(call_leaf(prepared, leaf.exec))
            .await
            .unwrap_or_else(|msg| Err(LeafError::Panicked(msg))),
        Err(argument) => Err(LeafError::Missing(argument)),
    };
    match result {
        Ok(Raw::Values(values)) if node.value_keys.as_ref().is_some_and(|k| k.len() == values.len()) => {
            let keys = node.value_keys.as_ref().expect("checked just above");
            let mut out = Map::with_capacity(keys.len());
            for (key, value) in keys.iter().zip(values) {
                out.push_absent(Arc::clone(key), value);
            }
            Ok(out)
        }
        Ok(raw) => node
            .mapper
            .name_outputs(raw, leaf.outputs.as_deref())
            .map_err(|problem| RunError::BadOutput {
                step: node.path.to_string(),
                problem,
            }),
        Err(LeafError::Missing(argument)) if node.missing == Missing::Skip => {
            let step = node.path.to_string();
            cx.skipped.borrow_mut().push(Skipped { step, argument });
            Ok(input.into_map())
        }
        Err(LeafError::Missing(argument)) => Err(RunError::MissingArgument {
            step: node.path.to_string(),
            argument,
            available: input.map().keys().map(str::to_string).collect(),
        }),
        Err(e) => Err(leaf_error(node.path.to_string(), e)),
    }
}

fn leaf_error(step: String, e: LeafError) -> RunError {
    match e {
        LeafError::Missing(argument) => RunError::MissingArgument {
            step,
            argument,
            available: Vec::new(),
        },
        LeafError::Failed(source) => RunError::Failed { step, source },
        LeafError::Panicked(message) => RunError::Panicked { step, message },
        LeafError::BadOutput(problem) => RunError::BadOutput { step, problem },
    }
}

/// A function step with its arguments picked: a kind with its port values, or a closure
/// with its named arguments.
enum Prepared<'a> {
    Kind(&'a Arc<dyn Kind>, Vec<DynArg<Value>>),
    KindPool(&'a Arc<dyn Kind>, Vec<Value>),
    Async(&'a Arc<leaf::AsyncFn>, Map),
    Sync(&'a Arc<leaf::SyncFn>, Map),
}

/// Picks the arguments of a function step out of `input`, or names the first missing one.
fn pick<'a>(node: &PlanNode, leaf: &'a Leaf, input: &Map) -> Result<Prepared<'a>, String> {
    Ok(match (&leaf.call, &leaf.params) {
        (Call::Kind(kind), Params::Closed(params)) if leaf.exec == Exec::Pool => {
            Prepared::KindPool(kind, node.mapper.pick_values(params, input, |v| v)?)
        }
        (Call::Kind(kind), Params::Closed(params)) => {
            Prepared::Kind(kind, node.mapper.pick_values(params, input, DynArg::Value)?)
        }
        (Call::Kind(kind), Params::Open) if leaf.exec == Exec::Pool => Prepared::KindPool(kind, Vec::new()),
        (Call::Kind(kind), Params::Open) => Prepared::Kind(kind, Vec::new()),
        (Call::Async(f), params) => Prepared::Async(f, node.mapper.pick(params, input)?),
        (Call::Sync(f), params) => Prepared::Sync(f, node.mapper.pick(params, input)?),
    })
}

/// Calls a function step, where its [`Exec`] says.
async fn call_leaf(prepared: Prepared<'_>, exec: Exec) -> Result<Raw, LeafError> {
    match (prepared, exec) {
        (Prepared::Kind(kind, args), _) => call_kind(kind, args).await,
        (Prepared::KindPool(kind, values), _) => {
            let kind = Arc::clone(kind);
            offloaded(move || leaf::run_kind_blocking(&*kind, values)).await
        }
        (Prepared::Async(f, args), _) => f(args).await,
        (Prepared::Sync(f, args), Exec::Loop) => f(args),
        (Prepared::Sync(f, args), Exec::Pool) => {
            let f = Arc::clone(f);
            offloaded(move || f(args)).await
        }
    }
}

/// Calls a kind on the loop.
async fn call_kind(kind: &Arc<dyn Kind>, args: Vec<DynArg<Value>>) -> Result<Raw, LeafError> {
    match leaf::start_kind(&**kind, args) {
        Started::Done(r) => r,
        Started::Pending(fut) => fut
            .await
            .map(|out| leaf::kind_raw(&**kind, out))
            .map_err(|e| LeafError::Failed(Box::new(Message(e.to_string())))),
    }
}

async fn offloaded(job: impl FnOnce() -> Result<Raw, LeafError> + Send + 'static) -> Result<Raw, LeafError> {
    match flowloop::offload(job).await {
        Ok(r) => r,
        Err(TaskError::Panicked(msg)) => Err(LeafError::Panicked(msg)),
        Err(other) => Err(LeafError::Panicked(other.to_string())),
    }
}
