//! Pull evaluation: `resolve(node, port)` runs only what that output needs, and only the
//! branch a lazy kind (`flow.if`, `flow.switch`) takes; optionally memoised across calls.
//!
//! Every computation runs on the flow executor: the nodes an output needs (up to lazy kinds)
//! are compiled into one flow and run; a lazy kind first resolves its eager inputs, asks its
//! kind which lazy inputs it [needs](crate::kind::Kind::needed), resolves those, and then runs
//! alone with the values as constants.

use std::collections::{HashMap, HashSet};
use std::fmt;

use flowloop::EventLoop;
use flowloop::flow::{FlowError, Outputs, RunOptions};

use crate::Value;
use crate::compile::{Handles, Plan, compile};
use crate::graph::{Graph, GraphError, ports_output};
use crate::kind::InputMode;

/// Whether a [`Pull`] keeps results between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memo {
    /// Every call computes what it needs from scratch.
    Off,
    /// Results are kept until a constant or an upstream node changes.
    On,
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The node or port does not exist, or the graph is incomplete.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A node failed while running (the error names it).
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// The event loop could not start.
    #[error("event loop: {0}")]
    Loop(String),
    /// A cycle passes through a lazy kind (pull resolves lazy inputs before running a node).
    #[error("node `{node}`: pull cannot resolve a cycle through a lazy input")]
    LazyCycle {
        /// A node of the cycle.
        node: String,
    },
    /// The port is a chunk stream, which has no single value to pull.
    #[error("`{node}.{port}` is a chunk stream; pull a final value (or a stream consumer's output)")]
    StreamPort {
        /// The node.
        node: String,
        /// The port.
        port: String,
    },
    /// The node finished without producing the output (a limit stopped the run first).
    #[error("node `{node}` produced no value (a limit stopped the run before it)")]
    NoValue {
        /// The node.
        node: String,
    },
}

/// Pull evaluation of a graph; see the [module docs](self).
///
/// # Examples
/// ```
/// use flowloop_graph::pull::{Memo, Pull};
/// use flowloop_graph::{Graph, Registry, Value};
/// let mut g = Graph::new(Registry::with_std());
/// g.add("flow.if", Some("pick")).unwrap();
/// g.set_constant("pick", "cond", Value::Bool(true)).unwrap();
/// g.add("math.div", Some("bad")).unwrap(); // would fail: 1 / 0
/// g.set_constant("bad", "a", Value::Int(1)).unwrap();
/// g.set_constant("bad", "b", Value::Int(0)).unwrap();
/// g.add("flow.passthrough", Some("good")).unwrap();
/// g.set_constant("good", "value", Value::str("yes")).unwrap();
/// g.connect("good", "out", "pick", "then").unwrap();
/// g.connect("bad", "out", "pick", "else").unwrap();
/// let mut pull = Pull::new(g, Memo::Off);
/// assert_eq!(pull.resolve("pick", "out").unwrap(), Value::str("yes"));
/// assert_eq!(pull.runs("bad"), 0, "the branch not taken never ran");
/// ```
pub struct Pull {
    graph: Graph,
    memo_mode: Memo,
    memo: HashMap<String, Outputs<Value>>,
    runs: HashMap<String, u64>,
}

impl fmt::Debug for Pull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pull")
            .field("memo", &self.memo_mode)
            .field("memoised", &self.memo.len())
            .finish()
    }
}

impl Pull {
    /// Pull evaluation of `graph`.
    pub fn new(graph: Graph, memo: Memo) -> Pull {
        Pull {
            graph,
            memo_mode: memo,
            memo: HashMap::new(),
            runs: HashMap::new(),
        }
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// How many times `node` ran over all pulls.
    pub fn runs(&self, node: &str) -> u64 {
        self.runs.get(node).copied().unwrap_or(0)
    }

    /// Sets a constant and forgets the memoised results of that node and everything
    /// downstream of it.
    ///
    /// # Errors
    /// As [`Graph::set_constant`].
    pub fn set_constant(&mut self, node: &str, input: &str, value: Value) -> Result<(), GraphError> {
        self.graph.set_constant(node, input, value)?;
        for n in self.graph.downstream(node) {
            self.memo.remove(&n);
        }
        Ok(())
    }

    /// Edits the graph; every memoised result is forgotten.
    ///
    /// # Errors
    /// Whatever `edit` returns (the graph keeps the edits made before the error).
    pub fn edit<T>(&mut self, edit: impl FnOnce(&mut Graph) -> Result<T, GraphError>) -> Result<T, GraphError> {
        self.memo.clear();
        edit(&mut self.graph)
    }

    /// The value of output `port` of `node`, computing only what it needs.
    ///
    /// # Errors
    /// [`PullError`] naming the node (unknown node or port, a failed node, a lazy cycle).
    pub fn resolve(&mut self, node: &str, port: &str) -> Result<Value, PullError> {
        if self.memo_mode == Memo::Off {
            self.memo.clear();
        }
        let n = self.graph.position(node)?;
        let out = ports_output(&self.graph.nodes_slice()[n], port)?.ok_or_else(|| PullError::StreamPort {
            node: node.to_string(),
            port: port.to_string(),
        })?;
        let mut lp = EventLoop::new().map_err(|e| PullError::Loop(e.to_string()))?;
        self.eval(&mut lp, n, &mut Vec::new())?;
        self.memo
            .get(node)
            .and_then(|o| o.get(out).cloned())
            .ok_or_else(|| PullError::NoValue { node: node.to_string() })
    }

    fn is_lazy(&self, n: usize) -> bool {
        self.graph.nodes_slice()[n].spec().lazy_inputs().next().is_some()
    }

    fn id(&self, n: usize) -> String {
        self.graph.nodes_slice()[n].id().to_string()
    }

    fn eval(&mut self, lp: &mut EventLoop, n: usize, active: &mut Vec<usize>) -> Result<(), PullError> {
        if self.memo.contains_key(&self.id(n)) {
            return Ok(());
        }
        if active.contains(&n) {
            return Err(PullError::LazyCycle { node: self.id(n) });
        }
        active.push(n);
        let result = if self.is_lazy(n) {
            self.eval_lazy(lp, n, active)
        } else {
            self.eval_region(lp, n, active)
        };
        active.pop();
        result
    }

    /// The producer (graph index) of each connected input of `n`, with the input's mode.
    fn producers(&self, n: usize) -> Vec<(usize, InputMode, usize)> {
        let node = &self.graph.nodes_slice()[n];
        let mut out = Vec::new();
        for (i, p) in node.spec().inputs.iter().enumerate() {
            if let Some(src) = self.graph.source_of(node.id(), &p.name) {
                if let Ok(k) = self.graph.position(&src.node) {
                    out.push((i, p.mode, k));
                }
            }
        }
        out
    }

    fn eval_lazy(&mut self, lp: &mut EventLoop, n: usize, active: &mut Vec<usize>) -> Result<(), PullError> {
        let producers = self.producers(n);
        for &(_, mode, k) in &producers {
            if mode != InputMode::Lazy {
                self.eval(lp, k, active)?;
            }
        }
        let node = &self.graph.nodes_slice()[n];
        let mut eager: Vec<Option<Value>> = (0..node.spec().inputs.len())
            .map(|i| node.input_value(i).cloned())
            .collect();
        for (i, p) in node.spec().inputs.iter().enumerate() {
            if p.mode == InputMode::Lazy {
                eager[i] = None;
            } else if let Some(src) = self.graph.source_of(node.id(), &p.name) {
                let producer = self
                    .graph
                    .node(&src.node)
                    .ok_or_else(|| GraphError::UnknownNode { node: src.node.clone() })?;
                let out = ports_output(producer, &src.port)?;
                eager[i] = out.and_then(|o| self.memo.get(&src.node).and_then(|v| v.get(o).cloned()));
            }
        }
        let needed = node.kind().needed(&eager);
        for &(i, mode, k) in &producers {
            if mode == InputMode::Lazy && needed.contains(&i) {
                self.eval(lp, k, active)?;
            }
        }
        self.run_members(lp, &[n])
    }

    fn eval_region(&mut self, lp: &mut EventLoop, n: usize, active: &mut Vec<usize>) -> Result<(), PullError> {
        loop {
            let (members, lazy_boundary) = self.region(n);
            if lazy_boundary.is_empty() {
                return self.run_members(lp, &members);
            }
            for k in lazy_boundary {
                self.eval(lp, k, active)?;
            }
        }
    }

    /// `n` and its upstream nodes that are not memoised and not lazy (stream producers are
    /// always included), in graph order; and the unmemoised lazy producers at the border.
    fn region(&self, n: usize) -> (Vec<usize>, Vec<usize>) {
        let mut members = HashSet::from([n]);
        let mut lazy = Vec::new();
        let mut stack = vec![n];
        while let Some(x) = stack.pop() {
            for (_, mode, k) in self.producers(x) {
                let memoised = self.memo.contains_key(&self.id(k));
                if members.contains(&k) || (memoised && mode != InputMode::Stream) {
                    continue;
                }
                if self.is_lazy(k) {
                    if !memoised && !lazy.contains(&k) {
                        lazy.push(k);
                    }
                    continue;
                }
                members.insert(k);
                stack.push(k);
            }
        }
        let mut members: Vec<usize> = members.into_iter().collect();
        members.sort_unstable();
        (members, lazy)
    }

    fn run_members(&mut self, lp: &mut EventLoop, members: &[usize]) -> Result<(), PullError> {
        let reuse = HashMap::new();
        let mut compiled = compile(
            &self.graph,
            &Plan {
                members: Some(members),
                boundary: &self.memo,
                reuse: &reuse,
                handles: Handles::Skip,
            },
        )?;
        let options = self
            .graph
            .meta
            .limits
            .iter()
            .filter_map(|(node, g)| compiled.ids.get(node).map(|&id| (id, *g)))
            .fold(RunOptions::new(), |o, (id, g)| o.limit(id, g));
        let result = compiled.flow.run_on(lp, options);
        for (node, &id) in &compiled.ids {
            *self.runs.entry(node.clone()).or_default() += compiled.flow.stats(id).runs;
        }
        result?;
        for (node, &id) in &compiled.ids {
            if let Some(out) = compiled.flow.dyn_outputs::<Value>(id) {
                self.memo.insert(node.clone(), out);
            }
        }
        Ok(())
    }
}
