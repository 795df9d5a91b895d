//! Pipelines of named-argument steps: `seq`s that feed each step's outputs to the next as
//! arguments, `par`s that run steps at once and merge their outputs, dispatch by key, and
//! none of the silent failures of the Python model this comes from.
//!
//! # Tutorial
//!
//! A step is a function whose parameters are *named arguments*: a [`#[kind]`](macro@crate::kind)
//! function (its parameter names), or a closure taking a serde struct (its field names). It
//! returns named outputs: a map or serde struct, or a value named by the kind's outputs or
//! by a [`Mapper`]. Sync `#[kind]` functions and [`Step::sync_fn`] closures run on the
//! offload pool; async ones on the loop.
//!
//! ```
//! use flowloop_graph::pipeline::{Pipeline, Step};
//! use flowloop_graph::{Map, kind, par, seq};
//!
//! /// Parses a number.
//! #[kind(name = "demo.parse", outputs("n"))]
//! async fn parse(text: String) -> Result<(i64,), String> {
//!     text.trim().parse::<i64>().map(|n| (n,)).map_err(|e| format!("`{text}`: {e}"))
//! }
//! #[kind(name = "demo.double")]
//! async fn double(n: i64) -> i64 { 2 * n }
//! #[kind(name = "demo.square")]
//! async fn square(n: i64) -> i64 { n * n }
//!
//! #[derive(serde::Deserialize)]
//! struct Both { doubled: i64, squared: i64 }
//! #[derive(serde::Serialize)]
//! struct Sum { total: i64 }
//!
//! let pipeline = Pipeline::new(seq![
//!     parse_kind(),
//!     par![
//!         Step::kind(double_kind()).returns(["doubled"]),
//!         Step::kind(square_kind()).returns(["squared"]),
//!     ],
//!     Step::sync_fn("sum", |b: Both| Ok::<_, String>(Sum { total: b.doubled + b.squared })),
//! ])
//! .unwrap();
//! let args = Map::from_iter([("text", "7")]);
//! let report = flowloop::run(pipeline.run(args)).unwrap().unwrap();
//! assert_eq!(report.outputs.to_string(), r#"{"total": 63}"#);
//! ```
//!
//! What goes wrong is an error naming the step, never a silent skip: a missing argument
//! ([`RunError::MissingArgument`]; skipping is opt-in with [`Step::skip_if_missing`] and listed
//! in [`Report::skipped`]), two `par` members disagreeing on a key ([`RunError::Conflict`]),
//! an unknown dispatch key ([`RunError::UnknownKey`], listing the known keys), a timeout, a
//! failure inside a `par` (its siblings are cancelled, or left to finish: [`ParPolicy`]).
//! Mistakes visible before running are [`DefinitionError`]s from [`Pipeline::new`].
//!
//! A pipeline is itself a step (`Step::from(pipeline)`), a node kind for graphs
//! ([`Pipeline::into_kind`]) and a typed-flow node ([`Pipeline::flow_node`]).

mod error;
mod fields;
mod kind;
mod leaf;
mod mapper;
mod plan;
mod run;
mod step;

use std::future::Future;
use std::sync::Arc;

pub use error::{Conflict, DefinitionError, PipelineError, RunError, StepFailure};
pub use kind::PipelineKind;
pub use leaf::Exec;
pub use mapper::Mapper;
pub use run::{Report, Skipped};
pub use step::{Dispatch, Group, Missing, ParPolicy, Step, Visibility};

#[doc(inline)]
pub use crate::{par, seq};

use crate::{Map, Value};
use plan::Plan;

/// Steps run one after another: `seq![a, b, c]`, each member anything that converts
/// `Into<Step>` (a kind, a [`Step`], a [`Group`], a [`Dispatch`], a [`Pipeline`]). Gives a
/// [`Group`]; set its [`Visibility`] with [`Group::visibility`].
#[macro_export]
macro_rules! seq {
    ($($step:expr),* $(,)?) => {
        $crate::pipeline::Group::seq([$($crate::pipeline::Step::from($step)),*])
    };
}

/// Steps run concurrently on the same arguments, outputs merged: `par![a, b]`. Gives a
/// [`Group`]; set its error policy with [`Group::on_error`].
#[macro_export]
macro_rules! par {
    ($($step:expr),* $(,)?) => {
        $crate::pipeline::Group::par([$($crate::pipeline::Step::from($step)),*])
    };
}

/// A checked pipeline, ready to run any number of times. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Pipeline {
    plan: Arc<Plan>,
    root: Step,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("root", &self.root.name).finish()
    }
}

impl Pipeline {
    /// Checks `root` (empty groups, mapper names, dispatch keys, arguments a step can never
    /// receive under visibility `None`, ...) and makes it runnable.
    ///
    /// # Errors
    /// The first [`DefinitionError`] found, naming the step.
    pub fn new(root: impl Into<Step>) -> Result<Pipeline, DefinitionError> {
        let root = root.into();
        let plan = Plan::build(&root)?;
        Ok(Pipeline {
            plan: Arc::new(plan),
            root,
        })
    }

    /// Runs the pipeline on `args` on the current loop (call it inside
    /// [`flowloop::run`] or a task).
    ///
    /// # Errors
    /// The first [`RunError`], naming the step.
    pub fn run(&self, args: Map) -> impl Future<Output = Result<Report, RunError>> + 'static + use<> {
        run::run_plan(Arc::clone(&self.plan), args)
    }

    /// The arguments the pipeline reads from its caller, in first-use order, with the
    /// default of each that has one.
    pub fn inputs(&self) -> Vec<(String, Option<Value>)> {
        self.plan
            .entry_needs()
            .into_iter()
            .map(|(name, need)| match need {
                leaf::Need::Default(v) => (name, Some(v)),
                leaf::Need::Required | leaf::Need::ByDecoder => (name, None),
            })
            .collect()
    }

    /// The output names, when they are known before running.
    pub fn outputs(&self) -> Option<Vec<String>> {
        self.plan.node(self.plan.root()).declared.clone()
    }

    /// The root step (a pipeline nested in another is this step).
    pub fn step(&self) -> &Step {
        &self.root
    }
}

impl From<Pipeline> for Step {
    fn from(pipeline: Pipeline) -> Step {
        pipeline.root
    }
}

/// Checks and runs `root` once.
///
/// # Errors
/// [`PipelineError::Definition`] before running, or [`PipelineError::Run`].
pub async fn run_once(root: impl Into<Step>, args: Map) -> Result<Report, PipelineError> {
    let pipeline = Pipeline::new(root)?;
    Ok(pipeline.run(args).await?)
}
