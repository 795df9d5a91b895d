//! The `flow` shelf: choosing between values. `flow.if` and `flow.switch` have lazy branch
//! inputs: pull, batch and push evaluation all run only the branch taken (a node that feeds
//! nothing but a branch is skipped when the branch is not taken; see
//! [`InputMode::Lazy`]).

use flowloop::flow::Outputs;

use crate::kind::{FnKind, InputMode, Inputs, Kind, KindSpec, PortSpec, ready};
use crate::{Shelf, Type, Value};

/// The branch `flow.if` takes for `cond`: input 1 (`then`) or 2 (`else`).
fn if_branch(cond: Option<&Value>) -> usize {
    if cond.and_then(Value::as_bool).unwrap_or(false) {
        1
    } else {
        2
    }
}

/// `flow.if`: `then` when `cond` is true, else `else`.
#[derive(Debug)]
pub struct If(FnKind);

impl If {
    /// The kind.
    pub fn new() -> If {
        let spec = KindSpec::new("flow.if")
            .doc("`then` when `cond` is true, else `else`; only the branch taken is pulled.")
            .input(PortSpec::new("cond", Type::Bool))
            .input(
                PortSpec::new("then", Type::Any)
                    .mode(InputMode::Lazy)
                    .default(Value::Null),
            )
            .input(
                PortSpec::new("else", Type::Any)
                    .mode(InputMode::Lazy)
                    .default(Value::Null),
            )
            .output("out", Type::Any);
        If(FnKind::new(spec, |mut inputs: Inputs| {
            let cond = match inputs.take::<bool>(0) {
                Ok(c) => c,
                Err(e) => return ready(Err(e.into())),
            };
            let branch = if cond { 1 } else { 2 };
            ready(inputs.value(branch).map(Outputs::One).map_err(Into::into))
        }))
    }
}

impl Default for If {
    fn default() -> Self {
        If::new()
    }
}

impl Kind for If {
    fn spec(&self) -> &KindSpec {
        self.0.spec()
    }

    fn instance(&self) -> Box<dyn crate::kind::Instance> {
        self.0.instance()
    }

    fn needed(&self, eager: &[Option<Value>]) -> Vec<usize> {
        vec![if_branch(eager.first().and_then(Option::as_ref))]
    }
}

/// Number of case inputs of `flow.switch`.
pub const SWITCH_CASES: usize = 4;

/// `flow.switch`: case `index` (0 to 3) or `default`.
#[derive(Debug)]
pub struct Switch(FnKind);

/// The input `flow.switch` takes for `index`: `case{index}`, or `default` (input 5).
fn switch_input(index: Option<&Value>) -> usize {
    match index.and_then(Value::as_int) {
        Some(i) if (0..SWITCH_CASES as i64).contains(&i) => 1 + i as usize,
        _ => 1 + SWITCH_CASES,
    }
}

impl Switch {
    /// The kind.
    pub fn new() -> Switch {
        let mut spec = KindSpec::new("flow.switch")
            .doc("Input `case<index>` for `index` 0 to 3, else `default`; only the input taken is pulled.")
            .input(PortSpec::new("index", Type::Int));
        for i in 0..SWITCH_CASES {
            spec = spec.input(
                PortSpec::new(&format!("case{i}"), Type::Any)
                    .mode(InputMode::Lazy)
                    .default(Value::Null),
            );
        }
        spec = spec
            .input(
                PortSpec::new("default", Type::Any)
                    .mode(InputMode::Lazy)
                    .default(Value::Null),
            )
            .output("out", Type::Any);
        Switch(FnKind::new(spec, |mut inputs: Inputs| {
            let index = match inputs.value(0) {
                Ok(v) => v,
                Err(e) => return ready(Err(e.into())),
            };
            let taken = switch_input(Some(&index));
            ready(inputs.value(taken).map(Outputs::One).map_err(Into::into))
        }))
    }
}

impl Default for Switch {
    fn default() -> Self {
        Switch::new()
    }
}

impl Kind for Switch {
    fn spec(&self) -> &KindSpec {
        self.0.spec()
    }

    fn instance(&self) -> Box<dyn crate::kind::Instance> {
        self.0.instance()
    }

    fn needed(&self, eager: &[Option<Value>]) -> Vec<usize> {
        vec![switch_input(eager.first().and_then(Option::as_ref))]
    }
}

/// Passes its input on unchanged.
#[crate::kind(name = "flow.passthrough")]
pub fn passthrough(value: Value) -> Value {
    value
}

/// `value` while `open` is true, else `closed` (null unless given).
#[crate::kind(name = "flow.gate")]
pub fn gate(open: bool, value: Value, #[default(Value::Null)] closed: Value) -> Value {
    if open { value } else { closed }
}

/// Item `index` of `items` (negative counts from the end); out of range is an error.
#[crate::kind(name = "flow.select")]
pub fn select(items: Vec<Value>, index: i64) -> Result<Value, crate::kind::KindError> {
    let len = items.len() as i64;
    let i = if index < 0 { len + index } else { index };
    usize::try_from(i)
        .ok()
        .and_then(|i| items.get(i).cloned())
        .ok_or_else(|| crate::kind::kind_error("index", &format!("{index} is out of range for {len} items")))
}

/// The first of `a`, `b` that is not null (null if both are).
#[crate::kind(name = "flow.merge")]
pub fn merge(#[default(Value::Null)] a: Value, #[default(Value::Null)] b: Value) -> Value {
    if a.is_null() { b } else { a }
}

/// The `flow` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "flow",
        "Choosing between values: if, switch, gate, select, merge, passthrough",
    )
    .with(If::new())
    .with(Switch::new())
    .with(passthrough_kind())
    .with(gate_kind())
    .with(select_kind())
    .with(merge_kind())
}
