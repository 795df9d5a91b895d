//! The live edits that turn one graph into another: how a live run takes an undo, a redo or
//! a load as one edit batch (nodes it does not touch keep their state) instead of restarting.
//!
//! A node counts as kept when both graphs have its id with the same kind; any other node of
//! the old graph is removed (with its edges) and any other node of the new one added. Kept
//! nodes get the constants that changed, then edges are disconnected and connected until
//! every input has the new graph's source. Layout is left out (it never changes a result).

use flowloop_graph::live::Edit;
use flowloop_graph::{Graph, GraphNode, OnConnected, PortRef};

/// The edits that take `from` to `to` for a live run, in the order removals, additions,
/// constants, disconnections, connections.
///
/// # Errors
/// A message naming the input when a kept input loses its constant (no live edit clears a
/// constant): the caller restarts the run on `to` instead.
pub(crate) fn live_edits_between(from: &Graph, to: &Graph) -> Result<Vec<Edit>, String> {
    let kept = |id: &str| is_kept(from, to, id);
    let mut edits: Vec<Edit> = from
        .nodes()
        .filter(|n| !kept(n.id()))
        .map(|n| Edit::Remove { id: n.id().to_string() })
        .collect();
    for n in to.nodes() {
        let old = from.node(n.id()).filter(|_| kept(n.id()));
        if old.is_none() {
            edits.push(Edit::Add {
                kind: n.spec().name.clone(),
                id: n.id().to_string(),
            });
        }
        constant_edits(old, n, &mut edits)?;
    }
    edge_edits(from, to, &mut edits);
    Ok(edits)
}

/// Whether node `id` is in both graphs with the same kind.
fn is_kept(from: &Graph, to: &Graph, id: &str) -> bool {
    match (from.node(id), to.node(id)) {
        (Some(a), Some(b)) => a.spec().name == b.spec().name,
        _ => false,
    }
}

/// Sets for every constant of `new` that `old` (the same node before, if kept) lacks or has
/// with another value.
fn constant_edits(old: Option<&GraphNode>, new: &GraphNode, edits: &mut Vec<Edit>) -> Result<(), String> {
    for (input, value) in new.constants() {
        if old.and_then(|o| o.constants().get(input)) != Some(value) {
            edits.push(Edit::Set {
                to: PortRef::new(new.id(), input),
                value: value.clone(),
            });
        }
    }
    let lost = old.and_then(|o| o.constants().keys().find(|k| !new.constants().contains_key(*k)));
    match lost {
        Some(input) => Err(format!(
            "input `{}.{input}` loses its constant, which no live edit can do",
            new.id()
        )),
        None => Ok(()),
    }
}

/// Disconnects the kept edges `to` lacks and connects every edge of `to` whose input does not
/// have that source already (edges of removed nodes are gone with them).
fn edge_edits(from: &Graph, to: &Graph, edits: &mut Vec<Edit>) {
    let kept = |id: &str| is_kept(from, to, id);
    let survives = |src: &PortRef, dst: &PortRef| kept(&src.node) && kept(&dst.node);
    for (src, dst) in from.edges() {
        if survives(src, dst) && to.source_of(&dst.node, &dst.port).is_none() {
            edits.push(Edit::Disconnect { to: dst.clone() });
        }
    }
    for (src, dst) in to.edges() {
        let before = from.source_of(&dst.node, &dst.port).filter(|old| survives(old, dst));
        if before != Some(src) {
            edits.push(Edit::Connect {
                from: src.clone(),
                to: dst.clone(),
                on_connected: OnConnected::Replace,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use flowloop_graph::{Registry, Value};

    use super::*;

    /// a = math.add(1, 2) → n = math.neg(a.out); c = math.add(5, 5) on its own.
    fn base() -> Graph {
        let mut g = Graph::new(Registry::with_std());
        for (kind, id) in [("math.add", "a"), ("math.neg", "n"), ("math.add", "c")] {
            g.add(kind, Some(id)).expect("adds");
        }
        for (id, input, v) in [("a", "a", 1), ("a", "b", 2), ("c", "a", 5), ("c", "b", 5)] {
            g.set_constant(id, input, Value::Int(v)).expect("sets");
        }
        g.connect("a", "out", "n", "x").expect("connects");
        g
    }

    /// Applies `edits` to a copy of `from` the way a live run does, as one batch.
    fn applied(from: &Graph, edits: &[Edit]) -> Graph {
        let live = flowloop_graph::live::LiveGraph::new(from.clone()).expect("runs live");
        live.apply(edits).expect("the batch applies");
        live.graph()
    }

    fn same_graph(a: &Graph, b: &Graph) -> bool {
        let strip = |g: &Graph| {
            let mut s = g.to_spec();
            s.layout.clear();
            s.nodes.sort_by(|x, y| x.id.cmp(&y.id));
            serde_json::to_value(s).expect("spec serializes")
        };
        strip(a) == strip(b)
    }

    #[test]
    fn identical_graphs_need_no_edit() {
        assert!(live_edits_between(&base(), &base()).expect("diffs").is_empty());
    }

    #[test]
    fn a_changed_constant_is_one_set_and_untouched_nodes_get_nothing() {
        let mut to = base();
        to.set_constant("a", "b", Value::Int(40)).expect("sets");
        let edits = live_edits_between(&base(), &to).expect("diffs");
        assert_eq!(edits.len(), 1, "{edits:?}");
        assert!(matches!(&edits[0], Edit::Set { to, value: Value::Int(40) } if to.to_string() == "a.b"));
    }

    #[test]
    fn nodes_and_edges_added_removed_and_rewired_reach_the_target() {
        let mut to = base();
        to.remove("c").expect("removes");
        to.add("math.neg", Some("m")).expect("adds");
        to.connect("n", "out", "m", "x").expect("connects");
        to.disconnect("n", "x").expect("disconnects");
        to.add("math.add", Some("d")).expect("adds");
        to.set_constant("d", "a", Value::Int(7)).expect("sets");
        to.set_constant("d", "b", Value::Int(8)).expect("sets");
        to.connect("d", "out", "n", "x").expect("connects");
        let edits = live_edits_between(&base(), &to).expect("diffs");
        assert!(same_graph(&applied(&base(), &edits), &to), "{edits:?}");
        let back = live_edits_between(&to, &base()).expect("diffs back");
        assert!(same_graph(&applied(&to, &back), &base()), "{back:?}");
    }

    #[test]
    fn a_node_whose_kind_changed_is_replaced() {
        let mut to = base();
        to.remove("n").expect("removes");
        to.add("math.abs", Some("n")).expect("adds");
        to.connect("a", "out", "n", "x").expect("connects");
        let edits = live_edits_between(&base(), &to).expect("diffs");
        assert!(matches!(&edits[0], Edit::Remove { id } if id == "n"), "{edits:?}");
        assert!(same_graph(&applied(&base(), &edits), &to), "{edits:?}");
    }

    #[test]
    fn a_lost_constant_is_refused_naming_the_input() {
        let mut to = base();
        to.clear_constant("c", "b").expect("clears");
        let err = live_edits_between(&base(), &to).expect_err("no live edit clears a constant");
        assert!(err.contains("c.b"), "{err}");
    }
}
