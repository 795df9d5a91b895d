//! [`Inputs`]: the gathered inputs of one run, taken by position with errors naming the port.

use std::rc::Rc;
use std::sync::Arc;

use flowloop::flow::{DynArg, DynArgs, Emitter, Stream};

use super::{FromPort, KindError, KindSpec};
use crate::Value;

/// The inputs of one run of a kind, in port order, plus the emitter of a streaming kind.
#[derive(Debug)]
pub struct Inputs {
    /// The arguments; a taken one is replaced by a null value and marked in `taken`.
    args: Vec<DynArg<Value>>,
    taken: u64,
    emitter: Option<Emitter<Value>>,
    /// Names the ports in errors (shared by every run of one instance, without atomics).
    spec: Option<Rc<PortNames>>,
}

/// A kind's spec as the runs of one instance share it: a plain reference count per run
/// instead of an atomic one.
#[derive(Debug)]
pub(crate) struct PortNames(pub(crate) Arc<KindSpec>);

impl Inputs {
    /// Wraps the executor's arguments.
    pub fn new(args: DynArgs<Value>) -> Inputs {
        let (args, emitter) = args.into_parts();
        Inputs {
            args,
            taken: 0,
            emitter,
            spec: None,
        }
    }

    /// Inputs made of plain values (pull evaluation, tests).
    pub fn from_values(values: Vec<Value>) -> Inputs {
        Inputs {
            args: values.into_iter().map(DynArg::Value).collect(),
            taken: 0,
            emitter: None,
            spec: None,
        }
    }

    /// Inputs made of gathered arguments (the live graph's direct engine).
    pub(crate) fn from_args(args: Vec<DynArg<Value>>) -> Inputs {
        Inputs {
            args,
            taken: 0,
            emitter: None,
            spec: None,
        }
    }

    pub(crate) fn set_spec(&mut self, spec: Arc<KindSpec>) {
        self.spec = Some(Rc::new(PortNames(spec)));
    }

    /// Like [`set_spec`](Inputs::set_spec) with a spec shared by an instance's runs.
    pub(crate) fn set_port_names(&mut self, names: Rc<PortNames>) {
        self.spec = Some(names);
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether there is no input.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Takes argument `i` out (`None` if missing or already taken; inputs past the 64th can
    /// be taken more than once, reading null the second time).
    #[inline]
    fn take_arg(&mut self, i: usize) -> Option<DynArg<Value>> {
        let bit = 1u64.checked_shl(i as u32).unwrap_or(0);
        if self.taken & bit != 0 {
            return None;
        }
        let slot = self.args.get_mut(i)?;
        self.taken |= bit;
        Some(std::mem::replace(slot, DynArg::Value(Value::Null)))
    }

    #[cold]
    fn name(&self, i: usize) -> String {
        self.spec
            .as_ref()
            .and_then(|s| s.0.inputs.get(i))
            .map_or_else(|| format!("#{i}"), |p| p.name.clone())
    }

    /// Takes input `i` as a plain value.
    ///
    /// # Errors
    /// The input is missing, already taken, or a stream.
    #[inline]
    pub fn value(&mut self, i: usize) -> Result<Value, KindError> {
        // Read in place: moving the whole argument out first costs a store-to-load stall on
        // every run of the hot path.
        let bit = 1u64.checked_shl(i as u32).unwrap_or(0);
        if self.taken & bit == 0 {
            if let Some(DynArg::Value(v)) = self.args.get_mut(i) {
                self.taken |= bit;
                return Ok(std::mem::take(v));
            }
        }
        Err(self.value_error(i))
    }

    /// Why input `i` gave no value.
    #[cold]
    #[inline(never)]
    fn value_error(&mut self, i: usize) -> KindError {
        match self.take_arg(i) {
            Some(DynArg::Stream(_)) => self.shape(i, "is a stream, not a value"),
            _ => self.shape(i, "is missing"),
        }
    }

    /// The error of input `i` whose value did not convert.
    #[cold]
    #[inline(never)]
    fn convert_error(&self, i: usize, source: crate::ConvertError) -> KindError {
        KindError::Convert {
            input: self.name(i),
            source,
        }
    }

    /// Takes input `i` converted to `T`.
    ///
    /// # Errors
    /// As [`value`](Inputs::value), or the value does not convert (the error names the port).
    #[inline]
    pub fn take<T: FromPort>(&mut self, i: usize) -> Result<T, KindError> {
        let v = self.value(i)?;
        T::from_port(v).map_err(|source| self.convert_error(i, source))
    }

    /// Takes input `i` as a stream of chunks.
    ///
    /// # Errors
    /// The input is missing or a plain value.
    pub fn stream(&mut self, i: usize) -> Result<Stream<Value>, KindError> {
        match self.take_arg(i) {
            Some(DynArg::Stream(s)) => Ok(s),
            Some(_) => Err(self.shape(i, "is a value, not a stream (connect a streaming output)")),
            None => Err(self.shape(i, "is missing")),
        }
    }

    /// The emitter of a streaming kind.
    ///
    /// # Errors
    /// The kind was not installed as streaming.
    pub fn emitter(&mut self) -> Result<Emitter<Value>, KindError> {
        self.emitter.take().ok_or(KindError::Shape {
            input: "<emitter>".into(),
            problem: "this node does not stream",
        })
    }

    #[cold]
    #[inline(never)]
    fn shape(&self, i: usize, problem: &'static str) -> KindError {
        KindError::Shape {
            input: self.name(i),
            problem,
        }
    }
}
