//! [`Step`]: a function, a [`Group`] (`seq`/`par`) or a [`Dispatch`], with its name, mapper,
//! timeout and missing-argument option.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{DefinitionError, StepFailure};
use super::leaf::{self, Exec, Leaf};
use super::mapper::Mapper;
use crate::kind::Kind;

/// Which arguments the steps of a `seq` see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Visibility {
    /// The seq's arguments reach only its first step; each later step sees exactly what the
    /// step before it produced (the default).
    #[default]
    None,
    /// Every step sees the seq's arguments, overlaid by what the step before it produced.
    Initial,
    /// Every step sees the seq's arguments and everything produced before it (later values
    /// win).
    All,
}

/// What a `par` does when one of its members fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ParPolicy {
    /// Cancel the members still running and fail at once (the default); the error lists them.
    #[default]
    CancelSiblings,
    /// Let the other members finish, then fail with the first error and any later ones.
    Finish,
}

/// What a function step does when one of its arguments is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Missing {
    /// The run fails with [`RunError::MissingArgument`](super::RunError::MissingArgument)
    /// (the default).
    #[default]
    Fail,
    /// The step is skipped: it passes its arguments through unchanged, and the run's
    /// [`Report::skipped`](super::Report::skipped) lists it with the missing names.
    Skip,
}

/// Sequential or concurrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupKind {
    Seq,
    Par,
}

impl GroupKind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            GroupKind::Seq => "seq",
            GroupKind::Par => "par",
        }
    }
}

/// A `seq` (steps one after another, each one's outputs becoming the next one's arguments) or
/// a `par` (steps at once on the same arguments, their outputs merged). Made by
/// [`seq!`](crate::seq)/[`par!`](crate::par) or [`Group::seq`]/[`Group::par`]; becomes a
/// [`Step`] with `into()`.
#[derive(Clone)]
pub struct Group {
    pub(crate) kind: GroupKind,
    pub(crate) members: Vec<Step>,
    pub(crate) visibility: Option<Visibility>,
    pub(crate) policy: ParPolicy,
    pub(crate) name: Option<String>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("kind", &self.kind.word())
            .field("members", &self.members)
            .finish()
    }
}

impl Group {
    /// Steps run one after another; the seq's outputs are its last step's outputs (what the
    /// steps see on the way is set by [`visibility`](Group::visibility)).
    pub fn seq(members: impl IntoIterator<Item = Step>) -> Group {
        Group::new(GroupKind::Seq, members)
    }

    /// Steps run concurrently on the same arguments, each as its own task; their outputs are
    /// merged in member order (a key two members produce with different values is a
    /// [`RunError::Conflict`](super::RunError::Conflict)).
    pub fn par(members: impl IntoIterator<Item = Step>) -> Group {
        Group::new(GroupKind::Par, members)
    }

    fn new(kind: GroupKind, members: impl IntoIterator<Item = Step>) -> Group {
        Group {
            kind,
            members: members.into_iter().collect(),
            visibility: None,
            policy: ParPolicy::default(),
            name: None,
        }
    }

    /// Sets the visibility of this seq and of every seq inside it that does not set its own
    /// (on a par: of the seqs inside it).
    pub fn visibility(mut self, visibility: Visibility) -> Group {
        self.visibility = Some(visibility);
        self
    }

    /// Sets what a par does when a member fails (ignored by a seq).
    pub fn on_error(mut self, policy: ParPolicy) -> Group {
        self.policy = policy;
        self
    }

    /// Names the group (it shows in step paths; default `seq` or `par`).
    pub fn named(mut self, name: &str) -> Group {
        self.name = Some(name.to_string());
        self
    }
}

/// A family of steps under keys; the value of one argument picks the step that runs.
///
/// ```
/// use flowloop_graph::pipeline::{Dispatch, Step};
/// # use flowloop_graph::Map;
/// # let csv = Step::sync_fn("csv", |m: Map| Ok::<_, String>(m));
/// # let json = csv.clone().named("json");
/// let parse = Dispatch::on("format").case("csv", csv).case("json", json);
/// assert_eq!(parse.keys().collect::<Vec<_>>(), ["csv", "json"]);
/// let err = parse.select("xml").unwrap_err();
/// assert_eq!(err.to_string(), "dispatch `dispatch` has no case `xml` (known keys: csv, json)");
/// ```
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub(crate) argument: String,
    pub(crate) cases: Vec<(String, Step)>,
    pub(crate) name: Option<String>,
}

impl Dispatch {
    /// A dispatch on argument `argument` (a string, or an int used as its decimal text).
    pub fn on(argument: &str) -> Dispatch {
        Dispatch {
            argument: argument.to_string(),
            cases: Vec::new(),
            name: None,
        }
    }

    /// Adds the step run for `key`.
    pub fn case(mut self, key: &str, step: impl Into<Step>) -> Dispatch {
        self.cases.push((key.to_string(), step.into()));
        self
    }

    /// Names the dispatch (default `dispatch`).
    pub fn named(mut self, name: &str) -> Dispatch {
        self.name = Some(name.to_string());
        self
    }

    /// The keys, in the order they were added.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().map(|(k, _)| k.as_str())
    }

    /// The step for `key`, chosen now rather than at run time.
    ///
    /// # Errors
    /// [`DefinitionError::UnknownKey`] listing the known keys.
    pub fn select(&self, key: &str) -> Result<Step, DefinitionError> {
        self.cases
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| DefinitionError::UnknownKey {
                step: self.name.clone().unwrap_or_else(|| "dispatch".into()),
                key: key.to_string(),
                known: self.keys().map(str::to_string).collect(),
            })
    }
}

/// What a step is.
#[derive(Clone)]
pub(crate) enum Body {
    Leaf(Leaf),
    Group(Group),
    Dispatch(Dispatch),
}

/// One step of a pipeline: a function with named parameters, a group, or a dispatch. Cheap to
/// clone (functions are shared), `Send + Sync`.
///
/// Function steps come from a node kind ([`Step::kind`], e.g. made by
/// [`#[kind]`](macro@crate::kind): its parameter names are the argument names), or from a closure
/// taking a serde struct ([`Step::async_fn`], [`Step::sync_fn`]: the struct's fields are the
/// argument names). A step returns named outputs: a map, a serde struct, or positional values
/// named by the kind's outputs or by [`Mapper::returns`].
#[derive(Clone)]
pub struct Step {
    pub(crate) name: String,
    pub(crate) body: Body,
    pub(crate) mapper: Mapper,
    pub(crate) timeout: Option<Duration>,
    pub(crate) missing: Missing,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step").field("name", &self.name).finish()
    }
}

impl Step {
    fn with_body(name: &str, body: Body) -> Step {
        Step {
            name: name.to_string(),
            body,
            mapper: Mapper::new(),
            timeout: None,
            missing: Missing::Fail,
        }
    }

    /// A step running a node kind, named after the kind's last name segment (`demo.add` →
    /// `add`). Sync `#[kind]` functions run on the offload pool, async ones on the loop.
    pub fn kind(kind: impl Kind) -> Step {
        Step::kind_arc(Arc::new(kind))
    }

    /// [`Step::kind`] for a shared kind (from a [`Registry`](crate::Registry)).
    pub fn kind_arc(kind: Arc<dyn Kind>) -> Step {
        let full = kind.spec().name.clone();
        let name = full.rsplit('.').next().unwrap_or(&full).to_string();
        Step::with_body(&name, Body::Leaf(Leaf::kind(kind)))
    }

    /// A step calling the async function `f` on the loop. `A` is a serde struct (its fields
    /// are the parameters), or a [`Map`](crate::Map)/[`Value`](crate::Value) (it sees every
    /// visible argument); `R` is a serde struct or map (named outputs) or a value for
    /// [`Mapper::returns`] to name.
    pub fn async_fn<A, R, E, F, Fut>(name: &str, f: F) -> Step
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
        E: Into<StepFailure> + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + 'static,
    {
        Step::with_body(name, Body::Leaf(leaf::async_leaf(f)))
    }

    /// A step calling the blocking function `f` on the offload pool (see
    /// [`async_fn`](Step::async_fn) for `A` and `R`).
    pub fn sync_fn<A, R, E, F>(name: &str, f: F) -> Step
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
        E: Into<StepFailure> + 'static,
        F: Fn(A) -> Result<R, E> + Send + Sync + 'static,
    {
        Step::with_body(name, Body::Leaf(leaf::sync_leaf(f)))
    }

    /// Renames the step (it shows in step paths and errors).
    pub fn named(mut self, name: &str) -> Step {
        self.name = name.to_string();
        self
    }

    /// Fails the step with [`RunError::Timeout`](super::RunError::Timeout) when it runs longer
    /// than `after`.
    pub fn timeout(mut self, after: Duration) -> Step {
        self.timeout = Some(after);
        self
    }

    /// Renames inputs and outputs, or names positional results (see [`Mapper`]).
    pub fn map(mut self, mapper: Mapper) -> Step {
        self.mapper = mapper;
        self
    }

    /// Names the positional values the function returns (shorthand for
    /// `map(Mapper::new().returns(names))`, keeping other renames).
    pub fn returns<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Step {
        self.mapper = self.mapper.returns(names);
        self
    }

    /// Skips the step, visibly, when an argument is missing (see [`Missing::Skip`]). Only for
    /// function steps; on a group it is a definition error.
    pub fn skip_if_missing(mut self) -> Step {
        self.missing = Missing::Skip;
        self
    }

    /// Where a function step runs (sync steps default to [`Exec::Pool`]; async steps always
    /// run on the loop).
    pub fn exec(mut self, exec: Exec) -> Step {
        if let Body::Leaf(leaf) = &mut self.body {
            leaf.exec = exec;
        }
        self
    }

    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl From<Group> for Step {
    fn from(group: Group) -> Step {
        let name = group.name.clone().unwrap_or_else(|| group.kind.word().to_string());
        Step::with_body(&name, Body::Group(group))
    }
}

impl From<Dispatch> for Step {
    fn from(dispatch: Dispatch) -> Step {
        let name = dispatch.name.clone().unwrap_or_else(|| "dispatch".to_string());
        Step::with_body(&name, Body::Dispatch(dispatch))
    }
}

impl<K: Kind> From<K> for Step {
    fn from(kind: K) -> Step {
        Step::kind(kind)
    }
}

impl From<Arc<dyn Kind>> for Step {
    fn from(kind: Arc<dyn Kind>) -> Step {
        Step::kind_arc(kind)
    }
}
