//! Lazy branches in the direct push engine (see [`crate::lazy`] for which nodes are owned).
//!
//! An owned node decides when it is ready whether its owner needs it this tick (reading the
//! owner's eager inputs, which is why it waits for the producers of those: its *followers*
//! edges order it after them without feeding it). A node it does not need is skipped and keeps
//! its outputs; a node skipped while its inputs changed is *stale* and runs as soon as it is
//! needed again, even if nothing it reads changed since.
//!
//! Per owned node and tick: unaffected → affected (by an input, a producer that ran — it is
//! then *touched* — or only by a follower edge or a changed condition constant) → skipped
//! (not needed; stale if touched) or run (needed, and touched or stale) or kept (needed,
//! untouched and not stale: its outputs are current).

use rustc_hash::FxHashMap;

use super::direct::Slot;
use crate::graph::Graph;
use crate::kind::InputMode;
use crate::lazy::{Owner, Regions};

/// What the direct engine knows about lazy branches.
#[derive(Default)]
pub(crate) struct Branches {
    /// Each node's owner (by position).
    pub(crate) owner: Vec<Option<Owner>>,
    /// Per node: the owned nodes that decide after it (ordering only).
    pub(crate) followers: Vec<Vec<Slot>>,
    /// Per lazy node: every node whose decision reads its inputs.
    dependents: FxHashMap<usize, Vec<Slot>>,
    /// Per node: its outputs do not reflect its inputs.
    pub(crate) stale: Vec<bool>,
}

impl Branches {
    /// The branches of `graph`; `producers(l)` lists the nodes feeding each input of `l`
    /// (by input position, `None` for an unconnected input).
    pub(crate) fn of(graph: &Graph, producers: impl Fn(usize) -> Vec<Option<Slot>>) -> Branches {
        let regions = Regions::of(graph);
        let n = graph.len();
        let mut b = Branches {
            owner: regions.owner,
            followers: vec![Vec::new(); n],
            dependents: FxHashMap::default(),
            stale: vec![true; n],
        };
        if b.owner.is_empty() {
            b.owner = vec![None; n];
        }
        for x in 0..n {
            let mut chain = b.owner[x].map(|o| o.lazy);
            while let Some(l) = chain {
                let spec = graph.nodes_slice()[l].spec();
                for (k, p) in producers(l).into_iter().enumerate() {
                    let eager = spec.inputs.get(k).is_some_and(|port| port.mode != InputMode::Lazy);
                    if let (Some(p), true) = (p, eager) {
                        if !b.followers[p.at()].contains(&Slot::of(x)) {
                            b.followers[p.at()].push(Slot::of(x));
                        }
                    }
                }
                b.dependents.entry(l).or_default().push(Slot::of(x));
                chain = b.owner[l].map(|o| o.lazy);
            }
        }
        b
    }

    /// The nodes to re-decide when an input of `node` is set.
    pub(crate) fn dependents(&self, node: Slot) -> &[Slot] {
        self.dependents.get(&node.at()).map_or(&[], Vec::as_slice)
    }
}
