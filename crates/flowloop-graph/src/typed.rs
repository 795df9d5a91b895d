//! [`TypedFn`]: where the typed Rust function behind a `#[kind]` kind lives, so that code
//! generators (`flowloop deploy`) can build a graph from the typed functions directly and let
//! the Rust compiler check every edge.

/// The typed function behind a kind made with [`#[kind]`](macro@crate::kind).
///
/// For a plain kind, `{path}_node(&mut builder, args)` adds a typed-flow node (inputs in port
/// order); for a streaming kind, `path` itself is the producer to pass to
/// `FlowBuilder::try_stream` / `FlowBuilder::stream` (its first parameter is the emitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedFn {
    /// The function's full path, `crate::module::name` (the crate as Rust spells it).
    pub path: &'static str,
    /// Whether the kind streams (the function's first parameter is an `Emitter<Value>`).
    pub streaming: bool,
    /// Whether the function returns `Result<_, _>`.
    pub fallible: bool,
}

impl TypedFn {
    /// The path of the function that adds a typed-flow node: `{path}_node` for a plain kind,
    /// the function itself for a streaming one.
    pub fn node_path(&self) -> String {
        if self.streaming {
            self.path.to_string()
        } else {
            format!("{}_node", self.path)
        }
    }
}
