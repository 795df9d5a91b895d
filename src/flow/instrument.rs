//! Forwarding flow events to the loop's [`Instrument`](crate::runtime::Instrument), if one is
//! installed. Callers check `Graph::instrumented` first, so an uninstrumented run pays one
//! branch per event.

use super::state::Graph;
use crate::runtime::{FlowNode, Instrument, context};

fn with_node(g: &Graph, n: u32, f: impl FnOnce(&mut dyn Instrument, FlowNode<'_>)) {
    let node = &g.nodes[n as usize];
    let mut buf = [0u64; 2];
    let generation = node.generation.map(|gn| gn.as_slice(&mut buf));
    let info = FlowNode::new(n as usize, &node.name, generation);
    context::try_with_core(|c| {
        if let Some(i) = c.instrument.as_mut() {
            f(i.as_mut(), info);
        }
    });
}

pub(crate) fn queued(g: &Graph, n: u32) {
    with_node(g, n, |i, node| i.flow_node_queued(node));
}

pub(crate) fn started(g: &Graph, n: u32) {
    with_node(g, n, |i, node| i.flow_node_started(node));
}

pub(crate) fn finished(g: &Graph, n: u32) {
    with_node(g, n, |i, node| i.flow_node_finished(node));
}

pub(crate) fn stalled(g: &Graph, n: u32, port: u32) {
    let input = (port - g.nodes[n as usize].ports.0) as usize;
    with_node(g, n, |i, node| i.flow_node_stalled(node, input));
}

pub(crate) fn errored(g: &Graph, n: u32, error: &str) {
    with_node(g, n, |i, node| i.flow_node_errored(node, error));
}

pub(crate) fn chunk(g: &Graph, n: u32) {
    with_node(g, n, |i, node| i.flow_stream_chunk(node));
}

pub(crate) fn cycle_broken(g: &Graph, n: u32, inputs: &[usize]) {
    with_node(g, n, |i, node| i.flow_cycle_broken(node, inputs));
}

pub(crate) fn limit_reached(g: &Graph, n: u32) {
    with_node(g, n, |i, node| i.flow_limit_reached(node));
}

/// Whether the running loop has an instrument.
pub(crate) fn installed() -> bool {
    context::try_with_core(|c| c.instrument.is_some()).unwrap_or(false)
}
