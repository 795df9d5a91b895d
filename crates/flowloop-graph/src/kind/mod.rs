//! Node kinds: what a node of a dynamic graph does, described by a [`KindSpec`] (ports, types,
//! defaults, outputs, docs) and run by an [`Instance`] per node.
//!
//! Most kinds come from the [`#[kind]`](macro@crate::kind) attribute on a plain function; a kind
//! with state or lazy inputs implements [`Kind`] by hand, or uses [`FnKind`] with a closure.

mod inputs;
mod port;
mod spec;

use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use flowloop::flow::{BoxError, DynCall, Outputs};

pub use inputs::Inputs;
use inputs::PortNames;
pub use port::{FromPort, IntoPort, Number};
pub use spec::BodyKind;
pub use spec::{InputMode, KindSpec, OutputSpec, PortSpec};

use crate::Value;

/// What an [`Instance`] returns for one run (ready at once, or a future).
pub type Call = DynCall<Value>;

/// A finished run with these outputs.
pub fn ready(outputs: Result<Outputs<Value>, BoxError>) -> Call {
    DynCall::Ready(outputs)
}

/// A run that continues as `fut` (awaiting timers, sockets, streams or emits).
pub fn pending(fut: impl Future<Output = Result<Outputs<Value>, BoxError>> + 'static) -> Call {
    DynCall::Pending(Box::pin(fut))
}

/// A node kind: its description and how to make the per-node [`Instance`] that runs it.
///
/// Kinds are shared by every graph that uses them (`Send + Sync`); instances belong to one
/// node of one graph and may keep state between runs.
pub trait Kind: Send + Sync + 'static {
    /// The description: name, doc, ports, outputs.
    fn spec(&self) -> &KindSpec;

    /// A fresh instance for one node.
    fn instance(&self) -> Box<dyn Instance>;

    /// Runs the kind once on `inputs`, keeping no instance (how pipelines call a kind step).
    /// The default calls a fresh [`instance`](Kind::instance); a stateless kind may override it
    /// to skip making one.
    fn call_once(&self, inputs: Inputs) -> Call {
        self.instance().call(inputs)
    }

    /// For kinds with [lazy](InputMode::Lazy) inputs: given the values of the eager inputs
    /// (`None` at lazy positions), the lazy inputs this run needs. The default needs all of them.
    fn needed(&self, eager: &[Option<Value>]) -> Vec<usize> {
        let _ = eager;
        self.spec().lazy_inputs().collect()
    }

    /// The names of the composite kinds this kind is built from, itself included,
    /// transitively (empty for kinds written in Rust). Used to refuse a composite that
    /// includes itself.
    fn includes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// One node's runner of a [`Kind`], called once per run with the gathered inputs.
pub trait Instance: 'static {
    /// Runs the node.
    fn call(&mut self, inputs: Inputs) -> Call;
}

/// The function type behind a [`FnKind`].
pub type KindFn = dyn Fn(Inputs) -> Call + Send + Sync;

/// A stateless kind made of a [`KindSpec`] and a function (what `#[kind]` generates).
#[derive(Clone)]
pub struct FnKind {
    spec: Arc<KindSpec>,
    f: Arc<KindFn>,
}

impl fmt::Debug for FnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnKind").field("name", &self.spec.name).finish()
    }
}

impl FnKind {
    /// A kind described by `spec` whose runs call `f`.
    pub fn new(spec: KindSpec, f: impl Fn(Inputs) -> Call + Send + Sync + 'static) -> FnKind {
        FnKind {
            spec: Arc::new(spec),
            f: Arc::new(f),
        }
    }
}

struct FnInstance {
    /// Handed to every run's [`Inputs`] (a plain reference count, no atomics per run).
    spec: Rc<PortNames>,
    f: Arc<KindFn>,
}

impl Instance for FnInstance {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        inputs.set_port_names(Rc::clone(&self.spec));
        (self.f)(inputs)
    }
}

impl Kind for FnKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(FnInstance {
            spec: Rc::new(PortNames(Arc::clone(&self.spec))),
            f: Arc::clone(&self.f),
        })
    }

    fn call_once(&self, mut inputs: Inputs) -> Call {
        inputs.set_spec(Arc::clone(&self.spec));
        (self.f)(inputs)
    }
}

/// A node input that did not convert, or was not where the kind expected it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KindError {
    /// The value has the wrong type.
    #[error("input `{input}`: {source}")]
    Convert {
        /// The input's name.
        input: String,
        /// What did not convert.
        source: crate::ConvertError,
    },
    /// The input is missing or is a stream where a value was expected (or the reverse).
    #[error("input `{input}`: {problem}")]
    Shape {
        /// The input's name.
        input: String,
        /// What was wrong.
        problem: &'static str,
    },
    /// The kind rejected the value (division by zero, an index out of range, ...).
    #[error("input `{input}`: {problem}")]
    Invalid {
        /// The input's name.
        input: String,
        /// What was wrong.
        problem: String,
    },
}

/// A [`KindError::Invalid`] for input `input` (for kind bodies that reject a value).
pub fn kind_error(input: &str, problem: &str) -> KindError {
    KindError::Invalid {
        input: input.to_string(),
        problem: problem.to_string(),
    }
}
