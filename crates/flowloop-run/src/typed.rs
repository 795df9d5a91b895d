//! Support for the `main.rs` that `flowloop deploy` generates: a typed flow built from a
//! graph's `#[kind]` functions, read back by node id like a dynamic batch.
//!
//! The generated code calls the kinds' typed functions (`add_node(&mut b, (x, y))`), so the
//! Rust compiler checks every edge. Where an edge joins two different port types (an `int`
//! output into a `number` input, anything into or out of `any`), [`TypedBuilder::convert`]
//! puts a conversion node in between that fails, naming the consumer and input, when a value
//! does not fit — as the dynamic graph does.

use std::collections::HashMap;
use std::fmt;

use flowloop::flow::{AsNode, Flow, FlowBuilder, Forward, IntoInput, Node, NodeId, Output, RunOptions, StreamNode};
use flowloop_graph::kind::{FromPort, IntoPort, KindError};
use flowloop_graph::{Graph, Value};

use crate::{RunFailure, RunFuture, Target};

type Reader = Box<dyn Fn(&Flow) -> Option<Value>>;

/// A typed flow built from a graph, with its nodes known by graph id.
pub struct TypedGraph {
    flow: Flow,
    ids: HashMap<String, NodeId>,
    readers: HashMap<(String, String), Reader>,
}

impl fmt::Debug for TypedGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedGraph")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

impl Target for TypedGraph {
    fn flow(&self) -> &Flow {
        &self.flow
    }

    fn start(&mut self, options: RunOptions) -> RunFuture {
        Box::pin(self.flow.run(options))
    }

    fn node_id(&self, node: &str) -> Option<NodeId> {
        self.ids.get(node).copied()
    }

    fn value(&self, node: &str, output: &str) -> Option<Value> {
        let read = self.readers.get(&(node.to_string(), output.to_string()))?;
        read(&self.flow)
    }
}

/// A source a conversion node can read: a node's output, a node, a forward reference.
pub trait Source<T>: IntoInput<T> + 'static {}

impl<T: 'static> Source<T> for Output<T> {}
impl<T: Clone + 'static> Source<T> for Node<T> {}
impl<T: 'static> Source<T> for Forward<T> {}
impl<C: Clone + 'static, T: Clone + 'static> Source<T> for StreamNode<C, T> {}

/// Builds a [`TypedGraph`]: the generated code adds each node with its kind's typed function on
/// [`builder`](TypedBuilder::builder), then names it with [`node`](TypedBuilder::node).
pub struct TypedBuilder<'g> {
    graph: &'g Graph,
    b: FlowBuilder,
    ids: HashMap<String, NodeId>,
    readers: HashMap<(String, String), Reader>,
}

impl fmt::Debug for TypedBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedBuilder")
            .field("nodes", &self.b.len())
            .finish_non_exhaustive()
    }
}

impl<'g> TypedBuilder<'g> {
    /// A builder for `graph` (its constants, after `--set`, are what [`constant`] reads).
    ///
    /// [`constant`]: TypedBuilder::constant
    pub fn new(graph: &'g Graph) -> TypedBuilder<'g> {
        TypedBuilder {
            graph,
            b: FlowBuilder::new(),
            ids: HashMap::new(),
            readers: HashMap::new(),
        }
    }

    /// The flow builder the typed node functions add to.
    pub fn builder(&mut self) -> &mut FlowBuilder {
        &mut self.b
    }

    /// The value of input `input` of `node` without a connection (its constant, else the
    /// kind's default), converted to the typed function's parameter type.
    ///
    /// # Errors
    /// The graph has no such node or input, the input has no value, or it does not convert.
    pub fn constant<T: FromPort>(&self, node: &str, input: &str) -> Result<T, RunFailure> {
        let value = self
            .graph
            .node(node)
            .and_then(|n| n.spec().input_index(input).and_then(|i| n.input_value(i)))
            .ok_or_else(|| {
                RunFailure::Graph(format!(
                    "input `{input}` of node `{node}` has no value in this graph; regenerate the program with `flowloop deploy`"
                ))
            })?;
        T::from_port(value.clone()).map_err(|e| RunFailure::Usage(format!("input `{input}` of node `{node}`: {e}")))
    }

    /// Names `node` after graph node `id` (errors and limits use it) and sets its input names.
    pub fn node(&mut self, id: &str, node: impl AsNode, inputs: &[&str]) {
        let nid = node.node_id();
        self.b.set_name(nid, id);
        self.b.set_input_names(nid, inputs);
        self.ids.insert(id.to_string(), nid);
    }

    /// Makes output `output` of node `id` readable after a run (as a [`Value`]).
    pub fn output<T: IntoPort + Clone + 'static>(&mut self, id: &str, output: &str, out: Output<T>) {
        let read: Reader = Box::new(move |flow: &Flow| flow.value(out).map(IntoPort::into_port));
        self.readers.insert((id.to_string(), output.to_string()), read);
    }

    /// A conversion node feeding input `input` of `consumer` from `source`: passes each value
    /// on converted through [`Value`]; a value that does not fit fails as node `consumer`
    /// would ("input `x`: expected ...").
    pub fn convert<A, B>(&mut self, consumer: &str, input: &str, source: impl Source<A>) -> Node<B>
    where
        A: IntoPort + Clone + 'static,
        B: FromPort + Clone + 'static,
    {
        let port = input.to_string();
        let node = self.b.try_node(
            move |a: A| {
                let port = port.clone();
                async move { B::from_port(a.into_port()).map_err(|source| KindError::Convert { input: port, source }) }
            },
            (source,),
        );
        self.b.set_name(node, consumer);
        self.b.set_input_names(node, &[input]);
        node
    }

    /// Builds the flow.
    ///
    /// # Errors
    /// The flow builder refused the graph (an input without connection or default).
    pub fn finish(self) -> Result<Box<dyn Target>, RunFailure> {
        let flow = self.b.build().map_err(|e| RunFailure::Graph(e.to_string()))?;
        Ok(Box::new(TypedGraph {
            flow,
            ids: self.ids,
            readers: self.readers,
        }))
    }
}
