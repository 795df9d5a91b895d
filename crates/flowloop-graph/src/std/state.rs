//! The `state` shelf: nodes that remember values between runs. Each node of a graph has its
//! own state, kept for as long as its graph runs (a live graph keeps it across edits that do
//! not touch the node); a fresh [`Batch`](crate::Batch) starts from the initial state.
//!
//! State machine of every kind here: *empty* (before the first run) → *holding* (after each
//! run); a `reset` input moves it back to the initial state before the run's own update.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use flowloop::flow::Outputs;

use crate::kind::{Call, Inputs, Instance, Kind, KindError, KindSpec, PortSpec, ready};
use crate::{Shelf, Type, Value};

/// One run's update: reads the inputs, changes the state, returns the output.
type Step<S> = fn(&mut S, &mut Inputs) -> Result<Value, KindError>;

/// A kind whose instances keep a state `S` between runs.
pub struct StateKind<S> {
    spec: Arc<KindSpec>,
    step: Step<S>,
    state: PhantomData<fn() -> S>,
}

impl<S> fmt::Debug for StateKind<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateKind").field("name", &self.spec.name).finish()
    }
}

impl<S: Default + 'static> StateKind<S> {
    fn new(spec: KindSpec, step: Step<S>) -> StateKind<S> {
        StateKind {
            spec: Arc::new(spec),
            step,
            state: PhantomData,
        }
    }
}

struct StateInstance<S> {
    spec: Arc<KindSpec>,
    step: Step<S>,
    state: S,
}

impl<S: 'static> Instance for StateInstance<S> {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        inputs.set_spec(Arc::clone(&self.spec));
        ready(
            (self.step)(&mut self.state, &mut inputs)
                .map(Outputs::One)
                .map_err(Into::into),
        )
    }
}

impl<S: Default + 'static> Kind for StateKind<S> {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(StateInstance {
            spec: Arc::clone(&self.spec),
            step: self.step,
            state: S::default(),
        })
    }
}

fn reset_port() -> PortSpec {
    PortSpec::new("reset", Type::Bool).default(false)
}

/// `state.variable`: holds a value; a non-null `set` replaces it, and the output is the value
/// held (`initial` until the first set).
pub fn variable() -> StateKind<Option<Value>> {
    let spec = KindSpec::new("state.variable")
        .doc("Holds a value between runs: a non-null `set` replaces it; outputs the value held (`initial` until set, again after `reset`).")
        .input(PortSpec::new("set", Type::Any).default(Value::Null))
        .input(PortSpec::new("initial", Type::Any).default(Value::Null))
        .input(reset_port())
        .output("out", Type::Any);
    StateKind::new(spec, |held, inputs| {
        let set = inputs.value(0)?;
        let initial = inputs.value(1)?;
        if inputs.take::<bool>(2)? {
            *held = None;
        }
        if !set.is_null() {
            *held = Some(set);
        }
        Ok(held.clone().unwrap_or(initial))
    })
}

/// `state.counter`: counts runs, by `step` each (after `reset`, from zero again).
pub fn counter() -> StateKind<i64> {
    let spec = KindSpec::new("state.counter")
        .doc("Counts its runs: adds `step` (default 1) each run and outputs the total; `reset` starts again from zero.")
        .input(PortSpec::new("step", Type::Int).default(1))
        .input(reset_port())
        .output("out", Type::Int);
    StateKind::new(spec, |count, inputs| {
        let step: i64 = inputs.take(0)?;
        if inputs.take::<bool>(1)? {
            *count = 0;
        }
        *count = count
            .checked_add(step)
            .ok_or_else(|| crate::kind::kind_error("step", "the count overflows an int"))?;
        Ok(Value::Int(*count))
    })
}

/// `state.accumulate`: the list of every `value` seen so far (the last `keep` when `keep` > 0).
pub fn accumulate() -> StateKind<Vec<Value>> {
    let spec = KindSpec::new("state.accumulate")
        .doc("Collects each run's `value` into a list and outputs it; `keep` > 0 keeps only the latest `keep` values; `reset` empties it first.")
        .input(PortSpec::new("value", Type::Any))
        .input(PortSpec::new("keep", Type::Int).default(0))
        .input(reset_port())
        .output("out", Type::List);
    StateKind::new(spec, |all, inputs| {
        let value = inputs.value(0)?;
        let keep: i64 = inputs.take(1)?;
        let keep = usize::try_from(keep)
            .map_err(|_| crate::kind::kind_error("keep", &format!("{keep} is negative (0 keeps everything)")))?;
        if inputs.take::<bool>(2)? {
            all.clear();
        }
        all.push(value);
        if keep > 0 && all.len() > keep {
            all.drain(..all.len() - keep);
        }
        Ok(Value::from(all.clone()))
    })
}

/// The `state` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("state", "Values kept between runs: variable, counter, accumulate")
        .with(variable())
        .with(counter())
        .with(accumulate())
}
