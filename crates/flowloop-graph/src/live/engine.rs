//! [`Engine`]: what runs a live graph's ticks — the incremental [`Direct`] engine for
//! acyclic, stream-free graphs, the flow executor for everything else.

use std::collections::HashMap;

use flowloop::flow::{NodeView, Outputs};

use super::direct::Direct;
use crate::Value;
use crate::compile::{Compiled, Handles, Plan, SharedInstance, compile};
use crate::graph::{Graph, GraphError, PortRef};

/// The engine of one version of a live graph (edits build a new one).
pub(crate) enum Engine {
    /// Cycles or streams: every tick is a run of the whole flow.
    Flow(Compiled),
    /// A tick runs what changed and everything downstream of it.
    Direct(Direct),
}

/// One node's carried-over state: id, latest outputs, run count.
pub(crate) type NodeState = (String, Option<Outputs<Value>>, u64);

impl Engine {
    /// The engine for `graph`, keeping the instances in `reuse` (by node id).
    ///
    /// # Errors
    /// An input with neither edge nor value.
    pub(crate) fn build(graph: &Graph, reuse: &HashMap<String, SharedInstance>) -> Result<Engine, GraphError> {
        if let Some(direct) = Direct::build(graph, reuse)? {
            return Ok(Engine::Direct(direct));
        }
        let empty = HashMap::new();
        let plan = Plan {
            members: None,
            boundary: &empty,
            reuse,
            handles: Handles::Keep,
        };
        compile(graph, &plan).map(Engine::Flow)
    }

    /// Sets an unconnected input's value for the next tick (the graph checked the port).
    pub(crate) fn set(&mut self, port: &PortRef, value: &Value) {
        match self {
            Engine::Flow(c) => {
                if let Some(cell) = c.cells.get(port) {
                    cell.set(Some(value.clone()));
                }
            }
            Engine::Direct(d) => {
                if let Some(cell) = d.cell(port) {
                    cell.set(Some(value.clone()));
                    d.touch(port);
                }
            }
        }
    }

    /// Output `i` of `node`, if it produced one in this engine.
    pub(crate) fn value(&self, node: &str, i: usize) -> Option<Value> {
        match self {
            Engine::Flow(c) => c.ids.get(node).and_then(|&id| c.flow.dyn_value::<Value>(id, i)),
            Engine::Direct(d) => d.outputs(node)?.get(i).cloned(),
        }
    }

    /// How many times `node` ran in this engine.
    pub(crate) fn runs(&self, node: &str) -> u64 {
        match self {
            Engine::Flow(c) => c.ids.get(node).map_or(0, |&id| c.runs(id)),
            Engine::Direct(d) => d.runs(node),
        }
    }

    /// The instance running `node`.
    pub(crate) fn instance(&self, node: &str) -> Option<SharedInstance> {
        match self {
            Engine::Flow(c) => c.instances.get(node).cloned(),
            Engine::Direct(d) => d.instance(node).cloned(),
        }
    }

    /// Every node's state, to carry over into the engine an edit builds.
    pub(crate) fn states(&self) -> Vec<NodeState> {
        match self {
            Engine::Flow(c) => c
                .ids
                .iter()
                .map(|(node, &id)| (node.clone(), c.flow.dyn_outputs::<Value>(id), c.runs(id)))
                .collect(),
            Engine::Direct(d) => d
                .states()
                .map(|(node, out, runs)| (node.to_string(), out.cloned(), runs))
                .collect(),
        }
    }

    /// What `node` is doing, its generation and its runs in this engine.
    pub(crate) fn view(&self, node: &str) -> Option<NodeView> {
        match self {
            Engine::Flow(c) => {
                let id = *c.ids.get(node)?;
                let mut view = c.flow.node_views().get(id.index()).copied()?;
                view.runs = c.runs(id);
                Some(view)
            }
            Engine::Direct(d) => d.view(node),
        }
    }

    /// Every connected stream input's lag, as its flow reports it (see
    /// [`LiveGraph::stream_lags`](super::LiveGraph::stream_lags)).
    pub(crate) fn stream_lags(&self) -> Vec<(PortRef, u64)> {
        // The direct engine only takes stream-free graphs: it has no stream to lag.
        let Engine::Flow(c) = self else {
            return Vec::new();
        };
        let mut lags = Vec::new();
        c.flow.stream_lags_into(&mut lags);
        if lags.is_empty() {
            return Vec::new();
        }
        let mut names: Vec<Option<&str>> = vec![None; c.flow.len()];
        for (id, n) in &c.ids {
            if let Some(slot) = names.get_mut(n.index()) {
                *slot = Some(id);
            }
        }
        let name = |n: flowloop::flow::NodeId| names.get(n.index()).copied().flatten();
        // `stream_lags_into` lists the stream edges in `edges` order; edges of the nodes the
        // compiler adds (lazy-branch gates) have no graph node and are left out.
        c.flow
            .edges()
            .into_iter()
            .filter(|e| e.stream)
            .zip(lags)
            .filter_map(|(e, lag)| {
                name(e.from)?;
                Some((PortRef::new(name(e.to)?, &e.input_name), lag))
            })
            .collect()
    }

    /// Node ids by the index a run beacon records.
    pub(crate) fn keys(&self) -> Vec<String> {
        match self {
            Engine::Flow(c) => {
                let mut keys = vec![String::new(); c.flow.len()];
                for (id, n) in &c.ids {
                    if let Some(slot) = keys.get_mut(n.index()) {
                        slot.clone_from(id);
                    }
                }
                keys
            }
            Engine::Direct(d) => d.keys(),
        }
    }
}
