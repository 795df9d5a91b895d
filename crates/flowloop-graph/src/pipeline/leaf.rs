//! Function steps: how a step made from a `#[kind]` function or a serde-typed closure picks
//! its named arguments, is called (on the loop or on the offload pool), and what it returns.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use flowloop::flow::{DynArg, DynCall, Outputs};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{Message, StepFailure};
use super::fields;
use crate::kind::{BodyKind, InputMode, Inputs, Kind};
use crate::{ConvertError, Map, Type, Value};

/// Where a function step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exec {
    /// On the event loop, in the pipeline's task (async functions, and cheap sync ones).
    Loop,
    /// On the loop's offload pool (blocking sync functions; the default for them).
    Pool,
}

/// How a parameter gets its value when no visible argument has its name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Need {
    /// It is a missing-argument error.
    Required,
    /// This value is used.
    Default(Value),
    /// Left out; serde decides (`#[serde(default)]`, `Option`), and reports a missing field.
    ByDecoder,
}

/// One named parameter of a function step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) need: Need,
}

/// The parameters of a function step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Params {
    /// These names, in order.
    Closed(Vec<Param>),
    /// Every visible argument (a step taking a `Map` or `Value`).
    Open,
}

/// What a function returned, before the mapper names it.
#[derive(Debug)]
pub(crate) enum Raw {
    /// Named outputs already.
    Map(Map),
    /// Positional values (a tuple's elements, or one value).
    Values(Vec<Value>),
}

/// Why a function step did not produce a result (the runner adds the step's path).
#[derive(Debug)]
pub(crate) enum LeafError {
    Missing(String),
    Failed(StepFailure),
    Panicked(String),
    BadOutput(String),
}

/// The future of an async function step.
pub(crate) type LeafFuture = Pin<Box<dyn Future<Output = Result<Raw, LeafError>>>>;
pub(crate) type AsyncFn = dyn Fn(Map) -> LeafFuture + Send + Sync;
pub(crate) type SyncFn = dyn Fn(Map) -> Result<Raw, LeafError> + Send + Sync;

/// How a function step is called.
#[derive(Clone)]
pub(crate) enum Call {
    Kind(Arc<dyn Kind>),
    Async(Arc<AsyncFn>),
    Sync(Arc<SyncFn>),
}

/// A function step: parameters, positional output names, where it runs, and the call.
#[derive(Clone)]
pub(crate) struct Leaf {
    pub(crate) params: Params,
    /// Names of the positional values the function returns (`None`: it returns a map, or
    /// a serde value whose shape is known only at run time).
    pub(crate) outputs: Option<Vec<String>>,
    pub(crate) exec: Exec,
    pub(crate) call: Call,
}

impl Leaf {
    /// A step running node kind `kind`, with its port names, defaults and output names.
    pub(crate) fn kind(kind: Arc<dyn Kind>) -> Leaf {
        let spec = kind.spec();
        let params = spec
            .inputs
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                need: p.default.clone().map_or(Need::Required, Need::Default),
            })
            .collect();
        let returns_map = spec.outputs.len() == 1 && spec.outputs[0].ty == Type::Map;
        let outputs = (!returns_map).then(|| spec.outputs.iter().map(|o| o.name.clone()).collect());
        let exec = if spec.body == BodyKind::Sync {
            Exec::Pool
        } else {
            Exec::Loop
        };
        Leaf {
            params: Params::Closed(params),
            outputs,
            exec,
            call: Call::Kind(kind),
        }
    }

    /// The first streaming port of a kind step, if any.
    pub(crate) fn streaming_port(&self) -> Option<(String, String)> {
        let Call::Kind(kind) = &self.call else { return None };
        let spec = kind.spec();
        let port = spec.inputs.iter().find(|p| p.mode == InputMode::Stream);
        match (port, spec.stream) {
            (Some(p), _) => Some((spec.name.clone(), p.name.clone())),
            (None, Some(_)) => Some((spec.name.clone(), "<emitter>".to_string())),
            (None, None) => None,
        }
    }
}

/// An async serde-typed function as a leaf.
pub(crate) fn async_leaf<A, R, E, F, Fut>(f: F) -> Leaf
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
    E: Into<StepFailure> + 'static,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + 'static,
{
    let call = move |args: Map| -> LeafFuture {
        match decode::<A>(args) {
            Ok(a) => {
                let fut = f(a);
                Box::pin(async move { fut.await.map_err(|e| LeafError::Failed(e.into())).and_then(encode) })
            }
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    };
    Leaf {
        params: serde_params::<A>(),
        outputs: None,
        exec: Exec::Loop,
        call: Call::Async(Arc::new(call)),
    }
}

/// A blocking serde-typed function as a leaf (runs on the offload pool by default).
pub(crate) fn sync_leaf<A, R, E, F>(f: F) -> Leaf
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
    E: Into<StepFailure> + 'static,
    F: Fn(A) -> Result<R, E> + Send + Sync + 'static,
{
    let call = move |args: Map| -> Result<Raw, LeafError> {
        let a = decode::<A>(args)?;
        f(a).map_err(|e| LeafError::Failed(e.into())).and_then(encode)
    };
    Leaf {
        params: serde_params::<A>(),
        outputs: None,
        exec: Exec::Pool,
        call: Call::Sync(Arc::new(call)),
    }
}

fn serde_params<A: DeserializeOwned>() -> Params {
    match fields::struct_fields::<A>() {
        Some(names) => Params::Closed(
            names
                .into_iter()
                .map(|name| Param {
                    name,
                    need: Need::ByDecoder,
                })
                .collect(),
        ),
        None => Params::Open,
    }
}

/// The picked arguments as `A` (a `Map` or `Value` without conversion).
fn decode<A: DeserializeOwned + 'static>(args: Map) -> Result<A, LeafError> {
    let boxed: Box<dyn Any> = Box::new(args);
    let boxed = match boxed.downcast::<A>() {
        Ok(a) => return Ok(*a),
        Err(b) => b,
    };
    let args = *boxed.downcast::<Map>().expect("the box holds the Map put in above");
    let value = Value::from(args);
    let boxed: Box<dyn Any> = Box::new(value);
    let value = match boxed.downcast::<A>() {
        Ok(a) => return Ok(*a),
        Err(b) => *b.downcast::<Value>().expect("the box holds the Value put in above"),
    };
    crate::from_value::<A>(&value).map_err(|e| match &e {
        ConvertError::Serde(msg) => match fields::missing_field(msg) {
            Some(field) => LeafError::Missing(field.to_string()),
            None => LeafError::Failed(Box::new(e)),
        },
        _ => LeafError::Failed(Box::new(e)),
    })
}

/// A function's result as named or positional outputs.
fn encode<R: Serialize + 'static>(result: R) -> Result<Raw, LeafError> {
    let boxed: Box<dyn Any> = Box::new(result);
    let boxed = match boxed.downcast::<Map>() {
        Ok(m) => return Ok(Raw::Map(*m)),
        Err(b) => b,
    };
    let value = match boxed.downcast::<Value>() {
        Ok(v) => *v,
        Err(b) => {
            let r = b.downcast::<R>().expect("the box holds the R put in above");
            crate::to_value(&*r).map_err(|e| LeafError::BadOutput(format!("its result does not convert: {e}")))?
        }
    };
    Ok(match value {
        Value::Map(m) => Raw::Map(Arc::unwrap_or_clone(m)),
        other => Raw::Values(vec![other]),
    })
}

/// A kind's outputs as a [`Raw`]: a single map-typed output gives named outputs.
pub(crate) fn kind_raw(kind: &dyn Kind, outputs: Outputs<Value>) -> Raw {
    let spec = kind.spec();
    let returns_map = spec.outputs.len() == 1 && spec.outputs[0].ty == Type::Map;
    match outputs {
        Outputs::One(Value::Map(m)) if returns_map => Raw::Map(Arc::unwrap_or_clone(m)),
        Outputs::One(v) => Raw::Values(vec![v]),
        Outputs::Many(vs) => Raw::Values(vs),
    }
}

/// How a kind's call started on this thread.
pub(crate) enum Started {
    Done(Result<Raw, LeafError>),
    Pending(Pin<Box<dyn Future<Output = Result<Outputs<Value>, flowloop::flow::BoxError>>>>),
}

/// Calls `kind` once with `values` (on whatever thread this is).
pub(crate) fn start_kind(kind: &dyn Kind, args: Vec<DynArg<Value>>) -> Started {
    match kind.call_once(Inputs::from_args(args)) {
        DynCall::Ready(Ok(out)) => Started::Done(Ok(kind_raw(kind, out))),
        DynCall::Ready(Err(e)) => Started::Done(Err(LeafError::Failed(Box::new(Message(e.to_string()))))),
        DynCall::Pending(fut) => Started::Pending(fut),
        _ => Started::Done(Err(LeafError::BadOutput(
            "the kind answered with a call shape this pipeline does not know".into(),
        ))),
    }
}

/// Runs a sync kind to its end on this thread (the offload pool); an async kind is an error
/// here (give it `Exec::Loop`).
pub(crate) fn run_kind_blocking(kind: &dyn Kind, values: Vec<Value>) -> Result<Raw, LeafError> {
    match start_kind(kind, values.into_iter().map(DynArg::Value).collect()) {
        Started::Done(r) => r,
        Started::Pending(_) => Err(LeafError::BadOutput(format!(
            "kind `{}` is async and cannot run on the offload pool (use Exec::Loop)",
            kind.spec().name
        ))),
    }
}
