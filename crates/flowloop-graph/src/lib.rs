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
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]

pub mod value;

pub use value::{ConvertError, Map, Type, Value, from_value, to_value};
