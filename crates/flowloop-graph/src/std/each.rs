//! Higher-order kinds: `map`, `filter`, `reduce` and `find` over a list, running a nested graph
//! (a [`CompositeKind`]) once per item, in order, on the flow executor.
//!
//! The body graph declares input `item` (and `acc` for reduce) and output `out`; it is named
//! like any composite, and the higher-order kind takes its own name:
//!
//! ```
//! use std::sync::Arc;
//! use flowloop_graph::std::each::{Each, EachKind};
//! use flowloop_graph::{Graph, Registry, Value};
//! let mut body = Graph::new(Registry::with_std());
//! body.add("math.mul", Some("twice")).unwrap();
//! body.set_constant("twice", "b", Value::Int(2)).unwrap();
//! body.declare_input("item", "twice", "a").unwrap();
//! body.declare_output("out", "twice", "out").unwrap();
//! body.set_name("my.twice", "Doubles a number.");
//! let mut reg = Registry::with_std();
//! reg.register_kind(Arc::new(EachKind::new(Each::Map, "my.double_all", body).unwrap())).unwrap();
//!
//! let mut g = Graph::new(reg);
//! g.add("my.double_all", Some("d")).unwrap();
//! g.set_constant("d", "items", Value::list([1, 2, 3])).unwrap();
//! let mut run = g.batch().unwrap();
//! run.run().unwrap();
//! assert_eq!(run.value("d", "out"), Some(Value::list([2, 4, 6])));
//! ```

use std::fmt;
use std::sync::Arc;

use flowloop::flow::{BoxError, DynCall, Outputs};

use crate::composite::CompositeKind;
use crate::kind::{Call, Inputs, Instance, Kind, KindSpec, PortSpec, kind_error, pending};
use crate::{Graph, GraphError, Type, Value};

/// What a higher-order kind does with the body's `out` per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Each {
    /// The list of every `out`.
    Map,
    /// The items whose `out` is true.
    Filter,
    /// `acc` starts as `initial`; each item's `out` becomes the next `acc`; the last is output.
    Reduce,
    /// The first item whose `out` is true (null if none).
    Find,
}

/// A higher-order kind over a body graph.
pub struct EachKind {
    spec: Arc<KindSpec>,
    op: Each,
    body: Arc<CompositeKind>,
    /// Positions of `item` and (reduce) `acc` among the body's inputs.
    item: usize,
    acc: Option<usize>,
}

impl fmt::Debug for EachKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EachKind")
            .field("name", &self.spec.name)
            .field("op", &self.op)
            .finish()
    }
}

fn bad_body(name: &str, problem: &str) -> GraphError {
    GraphError::BadDeclaration {
        what: "graph",
        name: name.to_string(),
        problem: problem.to_string(),
    }
}

impl EachKind {
    /// A kind named `name` that applies `op` with `body` per item.
    ///
    /// # Errors
    /// The body is not a valid composite, or lacks input `item`, input `acc` (reduce), or
    /// output `out`; or has other inputs.
    pub fn new(op: Each, name: &str, body: Graph) -> Result<EachKind, GraphError> {
        let body = CompositeKind::new(body)?;
        let bspec = body.spec();
        let item = bspec
            .input_index("item")
            .ok_or_else(|| bad_body(name, "the body must declare input `item`"))?;
        let acc = bspec.input_index("acc");
        let wanted = if op == Each::Reduce { 2 } else { 1 };
        if (op == Each::Reduce) != acc.is_some() || bspec.inputs.len() != wanted {
            let problem = if op == Each::Reduce {
                "inputs `acc` and `item`"
            } else {
                "only input `item`"
            };
            return Err(bad_body(name, &format!("the body must declare {problem}")));
        }
        let out = bspec
            .output_index("out")
            .ok_or_else(|| bad_body(name, "the body must declare output `out`"))?;
        let out_ty = bspec.outputs[out].ty;
        let mut spec = KindSpec::new(name)
            .doc(&format!(
                "{op:?} over `items`, running `{}` per item: {}",
                bspec.name, bspec.doc
            ))
            .input(PortSpec::new("items", Type::List));
        if op == Each::Reduce {
            spec = spec.input(PortSpec::new("initial", Type::Any).default(Value::Null));
        }
        let result = match op {
            Each::Map | Each::Filter => Type::List,
            Each::Reduce => out_ty,
            Each::Find => Type::Any,
        };
        spec = spec.output("out", result);
        Ok(EachKind {
            spec: Arc::new(spec),
            op,
            body: Arc::new(body),
            item,
            acc,
        })
    }
}

/// Runs the body once with `item` (and `acc`); its `out`.
async fn run_body(
    body: &mut dyn Instance,
    shape: (usize, Option<usize>),
    item: Value,
    acc: Value,
) -> Result<Value, BoxError> {
    let mut values = vec![Value::Null; 1 + usize::from(shape.1.is_some())];
    values[shape.0] = item;
    if let Some(a) = shape.1 {
        values[a] = acc;
    }
    let outputs = match body.call(Inputs::from_values(values)) {
        DynCall::Ready(r) => r?,
        DynCall::Pending(f) => f.await?,
        _ => return Err("the body returned an unknown call".into()),
    };
    match outputs {
        Outputs::One(v) => Ok(v),
        Outputs::Many(mut vs) if !vs.is_empty() => Ok(vs.remove(0)),
        _ => Err("the body produced no `out`".into()),
    }
}

fn truth(v: &Value, index: usize) -> Result<bool, BoxError> {
    v.as_bool().ok_or_else(|| {
        kind_error(
            "items",
            &format!("the body's `out` for item {index} is {}, not a bool", v.type_of()),
        )
        .into()
    })
}

struct EachInstance {
    op: Each,
    body: Box<dyn Instance>,
    shape: (usize, Option<usize>),
}

impl EachInstance {
    async fn apply(mut self, items: Vec<Value>, initial: Value) -> Result<Outputs<Value>, BoxError> {
        let mut acc = initial;
        let mut kept = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let out = run_body(&mut *self.body, self.shape, item.clone(), acc.clone())
                .await
                .map_err(|e| kind_error("items", &format!("item {i}: {e}")))?;
            match self.op {
                Each::Map => kept.push(out),
                Each::Filter if truth(&out, i)? => kept.push(item),
                Each::Find if truth(&out, i)? => return Ok(Outputs::One(item)),
                Each::Reduce => acc = out,
                _ => {}
            }
        }
        Ok(Outputs::One(match self.op {
            Each::Reduce => acc,
            Each::Find => Value::Null,
            _ => Value::from(kept),
        }))
    }
}

struct EachNode {
    spec: Arc<KindSpec>,
    op: Each,
    body: Arc<CompositeKind>,
    shape: (usize, Option<usize>),
}

impl Instance for EachNode {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        inputs.set_spec(Arc::clone(&self.spec));
        let items = inputs.take::<Vec<Value>>(0);
        let initial = if self.op == Each::Reduce {
            inputs.value(1)
        } else {
            Ok(Value::Null)
        };
        let run = EachInstance {
            op: self.op,
            body: self.body.instance(),
            shape: self.shape,
        };
        pending(async move { run.apply(items?, initial?).await })
    }
}

impl Kind for EachKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(EachNode {
            spec: Arc::clone(&self.spec),
            op: self.op,
            body: Arc::clone(&self.body),
            shape: (self.item, self.acc),
        })
    }

    fn includes(&self) -> Vec<String> {
        self.body.includes()
    }
}
