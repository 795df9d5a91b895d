//! The `#[kind]` attribute: turns a plain function into a node kind of `flowloop-graph`, with
//! its real parameter names, per-parameter defaults, doc comment, port types and output names.
//!
//! ```ignore
//! use flowloop_graph::kind;
//!
//! /// Adds two numbers.
//! #[kind(name = "math.add")]
//! fn add(a: f64, #[default(1.0)] b: f64) -> f64 {
//!     a + b
//! }
//! // Generated beside `add`:
//! //   fn add_kind() -> flowloop_graph::kind::FnKind      (register it on a shelf)
//! //   fn add_node(b: &mut FlowBuilder, args) -> Node<f64> (a typed-flow node whose inputs
//! //                                                        are named `a` and `b` in errors)
//! ```
//!
//! Attribute arguments: `name = "shelf.kind"` (required), `outputs("q", "r")` (names of the
//! elements of a tuple result; one result is called `out`), `chunk = "int"` (the chunk type
//! of a streaming kind). A function is streaming when its first parameter is an
//! `Emitter<Value>`; a parameter of type `Stream<Value>` is a stream input; `#[default(expr)]`
//! on a parameter gives its default; `#[lazy]` marks an input that pull evaluation computes
//! only when needed. Results may be `T`, a tuple, or `Result<_, E>` with `E: Into<BoxError>`.
//! The function may be `async`.
#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms)]

mod expand;

use proc_macro::TokenStream;

/// Makes a node kind from a function; see the [crate docs](crate).
#[proc_macro_attribute]
pub fn kind(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand::expand(attr.into(), item.into()) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
