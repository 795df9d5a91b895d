//! Branch regions of lazy kinds: which nodes only feed the lazy inputs of a kind such as
//! `flow.if` or `flow.switch`, so that batch and push evaluation may skip them when the kind
//! does not [need](crate::kind::Kind::needed) those inputs.
//!
//! A node is *owned* by lazy node `L` with mask `m` (bit `p` for lazy input `p` of `L`) when
//! every edge leaving it ends at a lazy input of `L` or at a node owned by `L`; `m` is the union
//! of the inputs it reaches. It runs only when `L` itself would run and `L` needs one of the
//! inputs in `m`. The analysis is conservative: a node that streams, a node with no consumer,
//! and a node in or upstream of a cycle is never owned (it always runs), as is anything
//! feeding lazy inputs past the 64th.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use flowloop::flow::{DynArgs, DynBody, DynCall, DynId, DynInput, DynNode, DynSource, InputCell, Outputs};
use rustc_hash::FxHashMap;

use crate::Value;
use crate::compile::{Lookup, Plan, input_for};
use crate::graph::{Graph, GraphError, GraphNode};
use crate::kind::{InputMode, Kind};

/// Who decides whether a node runs: lazy node `lazy` (graph position), through the lazy
/// inputs in `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) lazy: usize,
    pub(crate) mask: u64,
}

/// The owner of every node (by graph position), see the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct Regions {
    pub(crate) owner: Vec<Option<Owner>>,
}

/// Every edge by positions: (producer, consumer, consumer's input).
fn indexed_edges(graph: &Graph) -> Vec<(usize, usize, usize)> {
    graph
        .edges()
        .filter_map(|(from, to)| {
            let p = graph.position(&from.node).ok()?;
            let c = graph.position(&to.node).ok()?;
            let port = graph.nodes_slice()[c].spec().input_index(&to.port)?;
            Some((p, c, port))
        })
        .collect()
}

fn streams(n: &GraphNode) -> bool {
    let spec = n.spec();
    spec.stream.is_some() || spec.inputs.iter().any(|p| p.mode == InputMode::Stream)
}

fn is_lazy(n: &GraphNode, port: usize) -> bool {
    n.spec().inputs.get(port).is_some_and(|p| p.mode == InputMode::Lazy)
}

impl Regions {
    /// The regions of `graph` (empty, at no cost, when no node has a lazy input).
    pub(crate) fn of(graph: &Graph) -> Regions {
        let nodes = graph.nodes_slice();
        if !nodes.iter().any(|n| n.spec().lazy_inputs().next().is_some()) {
            return Regions::default();
        }
        let edges = indexed_edges(graph);
        let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nodes.len()];
        let mut inn: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for &(p, c, port) in &edges {
            out[p].push((c, port));
            inn[c].push(p);
        }
        let mut left: Vec<usize> = out.iter().map(Vec::len).collect();
        let mut stack: Vec<usize> = (0..nodes.len()).filter(|&i| left[i] == 0).collect();
        let mut owner = vec![None; nodes.len()];
        // Consumers before producers (Kahn's algorithm on the reversed edges): nodes in or
        // upstream of a cycle are never reached, and stay unowned.
        while let Some(x) = stack.pop() {
            owner[x] = Self::owner_of(nodes, &owner, x, &out[x]);
            for &p in &inn[x] {
                left[p] -= 1;
                if left[p] == 0 {
                    stack.push(p);
                }
            }
        }
        Regions { owner }
    }

    fn owner_of(nodes: &[GraphNode], owner: &[Option<Owner>], x: usize, out: &[(usize, usize)]) -> Option<Owner> {
        if out.is_empty() || streams(&nodes[x]) {
            return None;
        }
        let mut found: Option<Owner> = None;
        for &(c, port) in out {
            let via = if is_lazy(&nodes[c], port) {
                Owner {
                    lazy: c,
                    mask: 1u64.checked_shl(port as u32)?,
                }
            } else {
                owner[c]?
            };
            found = match found {
                None => Some(via),
                Some(o) if o.lazy == via.lazy => Some(Owner {
                    lazy: o.lazy,
                    mask: o.mask | via.mask,
                }),
                Some(_) => return None,
            };
        }
        found
    }

    /// The lazy nodes that own at least one node, in graph order.
    pub(crate) fn deciders(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.owner.iter().flatten().map(|o| o.lazy).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The lazy inputs `kind` needs given its eager values (`None` at lazy positions), as a mask.
pub(crate) fn needed_mask(kind: &dyn Kind, eager: &[Option<Value>]) -> u64 {
    kind.needed(eager)
        .into_iter()
        .filter_map(|i| 1u64.checked_shl(i as u32))
        .fold(0, |m, b| m | b)
}

/// How many runs a guard skipped (shared with the guard's test).
pub(crate) type Skips = Rc<Cell<u64>>;

/// The gates of one compile: per lazy node that owns something, a node appended after the
/// members that reads the lazy node's eager inputs (and its own gate's decision, when it is
/// owned in turn) and publishes the mask of lazy inputs needed this run; every owned node
/// is guarded by its owner's gate. See the [module docs](self).
pub(crate) struct Gates {
    /// The gate of each lazy node, by its graph position.
    ids: FxHashMap<usize, DynId>,
    /// The lazy nodes' unconnected input cells, shared with their gates so a live set
    /// reaches both.
    cells: FxHashMap<(usize, usize), InputCell<Value>>,
}

impl Gates {
    /// Gate ids for `regions`, numbered after `members` member nodes.
    pub(crate) fn new(regions: &Regions, members: usize) -> Gates {
        let ids = regions
            .deciders()
            .into_iter()
            .enumerate()
            .map(|(k, l)| (l, DynId::from(members + k)))
            .collect();
        Gates {
            ids,
            cells: FxHashMap::default(),
        }
    }

    /// Remembers the cell of input `port` of node `node` if that node has a gate.
    pub(crate) fn keep_cell(&mut self, node: usize, port: usize, cell: &InputCell<Value>) {
        if self.ids.contains_key(&node) {
            self.cells.insert((node, port), cell.clone());
        }
    }

    /// Guards member `member` (owned by `owner`), counting its skipped runs in `skipped`.
    pub(crate) fn guard(
        &self,
        node: DynNode<Value>,
        owner: Owner,
        member: usize,
        skipped: &mut Vec<(usize, Skips)>,
    ) -> DynNode<Value> {
        let Some(&gate) = self.ids.get(&owner.lazy) else {
            return node;
        };
        let skips = Skips::default();
        skipped.push((member, Rc::clone(&skips)));
        node.guard(gate, 0, move |decision: &Value| {
            let pass = runs_under(decision, owner.mask);
            if !pass {
                skips.set(skips.get() + 1);
            }
            pass
        })
    }

    /// The gate nodes, in id order.
    pub(crate) fn nodes(
        &self,
        graph: &Graph,
        regions: &Regions,
        look: &Lookup<'_>,
        plan: &Plan<'_>,
    ) -> Result<Vec<DynNode<Value>>, GraphError> {
        let mut order: Vec<(&usize, &DynId)> = self.ids.iter().collect();
        order.sort_by_key(|(_, id)| **id);
        order
            .into_iter()
            .map(|(&l, _)| self.gate(graph, l, regions.owner[l], look, plan))
            .collect()
    }

    fn gate(
        &self,
        graph: &Graph,
        l: usize,
        parent: Option<Owner>,
        look: &Lookup<'_>,
        plan: &Plan<'_>,
    ) -> Result<DynNode<Value>, GraphError> {
        let n = &graph.nodes_slice()[l];
        let spec = n.spec();
        let eager: Vec<usize> = (0..spec.inputs.len())
            .filter(|&p| spec.inputs[p].mode != InputMode::Lazy)
            .collect();
        let body = gate_body(
            Arc::clone(n.kind()),
            eager.clone(),
            spec.inputs.len(),
            parent.map(|o| o.mask),
        );
        let mut node = DynNode::new(&format!("{}.lazy", n.id()), body);
        for p in eager {
            let name = &spec.inputs[p].name;
            let input = match self.cells.get(&(l, p)) {
                Some(cell) => DynInput::cell(name, cell.clone()),
                None => {
                    let (input, _) = input_for(graph, n, p, name, look, plan)?;
                    // A producer skipped in this run never published: read null, never fail.
                    if n.input_value(p).is_none() {
                        input.or(Value::Null)
                    } else {
                        input
                    }
                }
            };
            node = node.input(input);
        }
        if let Some(o) = parent {
            if let Some(&gate) = self.ids.get(&o.lazy) {
                node = node.input(DynInput::connect("parent", DynSource::output(gate, 0)));
            }
        }
        Ok(node)
    }
}

/// Whether a node owned through `mask` runs under gate decision `decision`.
fn runs_under(decision: &Value, mask: u64) -> bool {
    decision.as_int().is_some_and(|d| (d as u64) & mask != 0)
}

/// A gate's body: the eager values (positions `eager` of `inputs` inputs), then the parent
/// gate's decision if `parent` (the mask the lazy node is owned through) is set.
fn gate_body(kind: Arc<dyn Kind>, eager: Vec<usize>, inputs: usize, parent: Option<u64>) -> impl DynBody<Value> {
    move |args: DynArgs<Value>| {
        let mut values = args.into_values();
        let decided_to_run = match parent {
            Some(mask) => values.pop().is_some_and(|d| runs_under(&d, mask)),
            None => true,
        };
        let mask = if decided_to_run {
            let mut at: Vec<Option<Value>> = vec![None; inputs];
            for (k, v) in eager.iter().zip(values) {
                at[*k] = Some(v);
            }
            needed_mask(&*kind, &at)
        } else {
            0
        };
        DynCall::Ready(Ok(Outputs::One(Value::Int(mask as i64))))
    }
}
