//! The pipeline error hierarchy: [`DefinitionError`] (found by [`Pipeline::new`](super::Pipeline::new)
//! before anything runs) and [`RunError`] (found while running), joined in [`PipelineError`].
//! Every message names the step by its path (`etl/par/fetch`).

use std::fmt;
use std::time::Duration;

use crate::Value;

/// The error a step's own function returned (or a kind's error, as text).
pub type StepFailure = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A mistake in how a pipeline is put together, found before it runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// A `seq` or `par` without members.
    #[error("step `{step}` is an empty {group}: give it at least one step")]
    EmptyGroup {
        /// The group's path.
        step: String,
        /// `seq` or `par`.
        group: &'static str,
    },
    /// A dispatch without cases.
    #[error("dispatch `{step}` has no cases: add one with Dispatch::case")]
    EmptyDispatch {
        /// The dispatch's path.
        step: String,
    },
    /// Two dispatch cases under one key.
    #[error("dispatch `{step}` has two cases for key `{key}`: keep one")]
    DuplicateKey {
        /// The dispatch's path.
        step: String,
        /// The key.
        key: String,
    },
    /// A key asked of a dispatch by [`Dispatch::select`](super::Dispatch::select) that it lacks.
    #[error("dispatch `{step}` has no case `{key}` (known keys: {})", known.join(", "))]
    UnknownKey {
        /// The dispatch's name.
        step: String,
        /// The key asked for.
        key: String,
        /// Every known key, in the order they were added.
        known: Vec<String>,
    },
    /// A mapper renames a parameter the step does not have.
    #[error("the mapper of step `{step}` renames input `{input}`, but the step has no such parameter (it has: {})", params.join(", "))]
    UnknownInput {
        /// The step's path.
        step: String,
        /// The parameter named in the mapper.
        input: String,
        /// The step's parameters.
        params: Vec<String>,
    },
    /// A mapper renames an output the step does not produce.
    #[error("the mapper of step `{step}` renames output `{output}`, but the step produces only: {}", outputs.join(", "))]
    UnknownOutput {
        /// The step's path.
        step: String,
        /// The output named in the mapper.
        output: String,
        /// What the step produces.
        outputs: Vec<String>,
    },
    /// `returns` names a different number of outputs than the step's function returns.
    #[error("the mapper of step `{step}` names {given} outputs, but the step returns {expected} values")]
    ReturnCount {
        /// The step's path.
        step: String,
        /// Names given.
        given: usize,
        /// Values the function returns.
        expected: usize,
    },
    /// Under visibility `None`, a step needs an argument its predecessor never produces.
    #[error(
        "step `{step}` needs argument `{argument}`, but the step before it, `{previous}`, produces only: {} \
         (rename an output with a Mapper, or widen the visibility)", produces.join(", ")
    )]
    NotProduced {
        /// The step's path.
        step: String,
        /// The argument.
        argument: String,
        /// The previous step's path.
        previous: String,
        /// What the previous step produces.
        produces: Vec<String>,
    },
    /// `skip_if_missing` on a group or dispatch (it only applies to a function step).
    #[error("step `{step}` is a group: skip_if_missing applies only to function steps")]
    SkipOnGroup {
        /// The group's path.
        step: String,
    },
    /// A kind with a stream input or a streaming output cannot be a pipeline step.
    #[error("step `{step}`: kind `{kind}` streams (`{port}`); pipeline steps pass plain values")]
    Streaming {
        /// The step's path.
        step: String,
        /// The kind's name.
        kind: String,
        /// The streaming port.
        port: String,
    },
}

/// What went wrong while a pipeline ran. Each variant names the step (its path).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A step's argument is neither visible nor defaulted.
    #[error(
        "step `{step}` is missing argument `{argument}` (visible: {}); pass it, give it a default, \
         or mark the step skip_if_missing",
        fmt_list(available)
    )]
    MissingArgument {
        /// The step's path.
        step: String,
        /// The missing argument.
        argument: String,
        /// The argument names the step could see.
        available: Vec<String>,
    },
    /// The step's function returned an error.
    #[error("step `{step}` failed: {source}")]
    Failed {
        /// The step's path.
        step: String,
        /// The function's error.
        source: StepFailure,
    },
    /// The step's function panicked.
    #[error("step `{step}` panicked: {message}")]
    Panicked {
        /// The step's path.
        step: String,
        /// The panic message.
        message: String,
    },
    /// The step took longer than its timeout (it was cancelled; a blocking function on the
    /// offload pool runs to its end, its value discarded).
    #[error("step `{step}` timed out after {after:?}")]
    Timeout {
        /// The step's path.
        step: String,
        /// The timeout.
        after: Duration,
    },
    /// The step's result cannot be turned into named outputs.
    #[error("step `{step}`: {problem}")]
    BadOutput {
        /// The step's path.
        step: String,
        /// What was wrong, and what to do.
        problem: String,
    },
    /// Two members of a `par` produced different values for one key.
    #[error("{0}")]
    Conflict(Box<Conflict>),
    /// A dispatch key with no case.
    #[error("dispatch `{step}`: no case for key `{key}` (argument `{argument}`); known keys: {}", known.join(", "))]
    UnknownKey {
        /// The dispatch's path.
        step: String,
        /// The argument holding the key.
        argument: String,
        /// The key found.
        key: String,
        /// Every known key.
        known: Vec<String>,
    },
    /// A member of a `par` failed; the siblings were cancelled or left to finish, per its policy.
    #[error("par `{step}`: {failed}{}{}", fmt_cancelled(cancelled), fmt_others(others))]
    Par {
        /// The par's path.
        step: String,
        /// The first failure.
        failed: Box<RunError>,
        /// Members cancelled because of it (empty under `ParPolicy::Finish`).
        cancelled: Vec<String>,
        /// Later failures of other members (under `ParPolicy::Finish`).
        others: Vec<RunError>,
    },
}

impl RunError {
    /// The path of the step the error is about (for `Par`, the member that failed first,
    /// followed down nested groups).
    pub fn step(&self) -> &str {
        match self {
            RunError::Par { failed, .. } => failed.step(),
            RunError::Conflict(c) => &c.step,
            RunError::MissingArgument { step, .. }
            | RunError::Failed { step, .. }
            | RunError::Panicked { step, .. }
            | RunError::Timeout { step, .. }
            | RunError::BadOutput { step, .. }
            | RunError::UnknownKey { step, .. } => step,
        }
    }
}

/// Two members of a `par` produced different values for one key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "par `{step}`: steps `{first}` and `{second}` both produce `{key}`, with different values ({first_value} vs \
     {second_value})"
)]
#[non_exhaustive]
pub struct Conflict {
    /// The par's path.
    pub step: String,
    /// The key.
    pub key: String,
    /// The earlier member (in member order).
    pub first: String,
    /// The later member.
    pub second: String,
    /// The earlier member's value.
    pub first_value: Value,
    /// The later member's value.
    pub second_value: Value,
}

fn fmt_list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_string()
    } else {
        items.join(", ")
    }
}

fn fmt_cancelled(cancelled: &[String]) -> String {
    if cancelled.is_empty() {
        String::new()
    } else {
        format!("; cancelled: {}", cancelled.join(", "))
    }
}

fn fmt_others(others: &[RunError]) -> String {
    others.iter().map(|e| format!("; also: {e}")).collect()
}

/// Either kind of pipeline error, for calls that both define and run (a pipeline used as a
/// graph node kind, [`run_once`](super::run_once)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The pipeline is badly put together.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// A failure as text, for errors that cannot cross threads (kind errors).
#[derive(Debug)]
pub(crate) struct Message(pub(crate) String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
