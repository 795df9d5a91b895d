//! Dynamic dataflow graphs for flowloop: build a graph by name at run time, save it as JSON,
//! load it, and evaluate it on the same flow executor as typed flows.
//!
//! # Tutorial
//!
//! 1. Values. Every edge of a dynamic graph carries a [`Value`]: null, bool, int, float,
//!    string, bytes, list or map. Clones share their payload.
//!
//! ```
//! use flowloop_graph::Value;
//! let v = Value::list([1, 2, 3]);
//! assert_eq!(v.to_string(), "[1, 2, 3]");
//! let n: i64 = Value::from(7).try_into().unwrap();
//! assert_eq!(n, 7);
//! ```
//!
//! 2. Kinds. A plain function becomes a node kind with [`macro@kind`]; kinds are grouped in
//!    [`Shelf`]s and registered in a [`Registry`], which lists them as JSON.
//!
//! ```
//! use flowloop_graph::{Registry, Shelf, kind};
//!
//! /// Repeats a text.
//! #[kind(name = "demo.repeat")]
//! fn repeat(text: String, #[default(2)] times: i64) -> String {
//!     text.repeat(times.max(0) as usize)
//! }
//!
//! let mut reg = Registry::with_std();
//! reg.register(Shelf::new("demo", "Demo kinds").with(repeat_kind())).unwrap();
//! let spec = reg.get("demo.repeat").unwrap().spec();
//! assert_eq!(spec.doc, "Repeats a text.");
//! assert_eq!(spec.inputs[1].name, "times");
//! ```
//!
//! 3. Graphs. A [`Graph`] holds nodes of registered kinds, wired by port name; every edit is
//!    checked at once. It saves to and loads from a canonical JSON spec ([`spec`],
//!    `docs/graph-spec.md`), and compiles onto the flow executor for a batch run.
//!
//! ```
//! use flowloop_graph::{Graph, Registry, Value};
//! let mut g = Graph::new(Registry::with_std());
//! g.add("math.mul", Some("area")).unwrap();
//! g.set_constant("area", "a", Value::Int(6)).unwrap();
//! g.set_constant("area", "b", Value::Int(7)).unwrap();
//! let text = g.to_json();
//! let loaded = Graph::from_json(&text, Registry::with_std()).unwrap();
//! let mut run = loaded.batch().unwrap();
//! run.run().unwrap();
//! assert_eq!(run.value("area", "out"), Some(Value::Int(42)));
//! ```
//!
//! 4. Pull and push. [`pull::Pull`] resolves one output, running only what it needs and only
//!    the branch a lazy kind takes (batch and live runs skip untaken branches too);
//!    [`live::LiveGraph`] re-runs what depends on an input when
//!    it is set (sets in one tick coalesce) and applies edit batches between runs.
//!    [`composite`] turns a graph with declared inputs and outputs into a kind.
//!
//! Batch and pull runs go through the flow executor of `flowloop::flow` (its runtime-arity
//! node API, `flowloop::flow::DynamicBuilder`): same generations, cycles broken by defaults,
//! streams, limits and errors as typed flows. A live graph without cycles and streams ticks on
//! an incremental engine that calls the same node instances directly, running only the nodes
//! downstream of what changed; with a cycle or a stream it ticks on the flow executor too.
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

extern crate self as flowloop_graph;

mod compile;
pub mod composite;
pub mod diagram;
mod graph;
pub mod kind;
mod lazy;
pub mod live;
pub mod pipeline;
pub mod pull;
mod registry;
pub mod spec;
pub mod std;
pub mod typed;
mod unwind;
pub mod value;

pub use compile::Batch;
pub use flowloop_macros::kind;
pub use graph::{Graph, GraphError, GraphNode, Layout, OnConnected, PortRef, STREAM_OUTPUT};
pub use registry::{Registry, RegistryError, Shelf};
pub use spec::{GraphSpec, KindDecl, SpecError};
pub use value::{ConvertError, Map, Type, Value, from_value, to_value};

/// Paths used by the code `#[kind]` generates; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::kind::BodyKind;
    pub use crate::kind::{FnKind, FromPort, InputMode, Inputs, IntoPort, KindSpec, PortSpec, pending, ready};
    pub use crate::typed::TypedFn;
    pub use crate::{Type, Value};
    pub use flowloop::flow::{FlowBuilder, IntoArgs, Node, Outputs};
}
