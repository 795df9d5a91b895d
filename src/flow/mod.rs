//! Dataflow graphs on the event loop: typed nodes, forward references, cycles, streams and
//! generations.
//!
//! A node is a plain `async fn`: its parameters are inputs, its return value the output (a
//! tuple gives several outputs, [`Node::output`]). [`FlowBuilder`] creates nodes from
//! arguments that are constants, outputs of other nodes, or [forward
//! references](FlowBuilder::forward) (so cycles can be written), checks the graph, and builds a
//! [`Flow`]. [`Flow::run_until_complete`] runs it: a node runs when its inputs have newer data
//! than its own generation, producers run in lockstep with their consumers, cycles are broken
//! by input defaults, and streaming nodes hand chunks to [`Stream`] inputs one at a time. The
//! rules are written out in `docs/flow.md`.
//!
//! # Examples
//! ```
//! use flowloop::flow::{Emitter, FlowBuilder, RunOptions, Stream};
//!
//! async fn numbers(out: Emitter<i64>, n: i64) -> i64 {
//!     for i in 0..n {
//!         if out.emit(i).await.is_err() { break; }
//!     }
//!     n
//! }
//! async fn sum(mut s: Stream<i64>) -> i64 {
//!     let mut total = 0;
//!     while let Some(x) = s.next().await { total += x; }
//!     total
//! }
//! async fn add(x: i64, y: i64) -> i64 { x + y }
//!
//! let mut b = FlowBuilder::new();
//! let src = b.stream(numbers, (4,));
//! let total = b.node(sum, (src.stream(),));
//! let both = b.node(add, (total, src)); // `src` as a plain input: its final value
//! let mut flow = b.build().unwrap();
//! assert!(flow.run_until_complete(RunOptions::new()).unwrap().is_completed());
//! assert_eq!(flow.value(both), Some(6 + 4));
//! ```

mod args;
mod builder;
mod current;
mod dynamic;
mod error;
mod export;
mod fuse;
mod generation;
mod handles;
mod inspect;
mod instrument;
mod pair;
mod resolve;
mod run;
mod runner;
mod scheduler;
mod state;
#[cfg(test)]
mod state_tests;
mod stream;

pub use args::{ArgList, IntoArgs, NodeFn, StateFn, StreamFn};
pub use builder::FlowBuilder;
pub use current::{NodeInfo, context, current_node};
pub use dynamic::{
    DynArg, DynArgs, DynBody, DynBuildError, DynCall, DynFuture, DynId, DynInput, DynNode, DynSource, DynamicBuilder,
    InputCell, Outputs,
};
pub use error::{BoxError, BuildError, CycleMember, Failure, FlowError, NodeFault, StreamCancelled};
pub use generation::{Generation, clip, inc, stitch};
pub use handles::{
    AsNode, Forward, IntoInput, Node, NodeId, Output, StreamNode, TupleField, Unconnected, WithDefault, unconnected,
    unconnected_or, unconnected_stream,
};
pub use inspect::{BeaconMark, FlowEdge, NodeStatus, NodeView, PackedView, RunBeacon};
pub use run::{Flow, Outcome, RunOptions, Suspended, Waiting};
pub use scheduler::NodeStats;
pub use stream::{Emit, Emitter, Fold, Next, Stream};
