//! Forwarding flow events to the loop's [`Instrument`](crate::runtime::Instrument), if one is
//! installed, and (feature `tracing`) to `tracing` with target `flowloop::flow`, naming nodes
//! like `inc#0`. Callers check `Graph::instrumented` first, so an uninstrumented run pays one
//! branch per event.

use super::state::Graph;
use crate::runtime::{FlowNode, Instrument, context};

fn with_node(g: &Graph, n: u32, f: impl FnOnce(&mut dyn Instrument, FlowNode<'_>)) {
    let node = &g.nodes[n as usize];
    let mut buf = [0u64; 2];
    let generation = node.generation.map(|gn| gn.as_slice(&mut buf));
    let name = g.node_name(n).to_string();
    let info = FlowNode::new(n as usize, &name, generation);
    context::try_with_core(|c| {
        if let Some(i) = c.instrument.as_mut() {
            f(i.as_mut(), info);
        }
    });
}

/// Emits one `tracing` event about node `$n` at `$level`, with its name and generation.
#[cfg(feature = "tracing")]
macro_rules! node_event {
    ($level:ident, $g:expr, $n:expr, $what:literal $(, $k:ident = $v:expr)*) => {{
        let node = &$g.nodes[$n as usize];
        let generation = GenerationText(node.generation);
        let name = $g.node_name($n);
        tracing::$level!(
            target: "flowloop::flow",
            node = %name,
            %generation,
            $($k = %$v,)*
            concat!("node {} ", $what),
            name
        );
    }};
}

#[cfg(not(feature = "tracing"))]
macro_rules! node_event {
    ($($t:tt)*) => {};
}

/// A generation as `(k,)`, `(k,j)` or `None`.
#[cfg(feature = "tracing")]
struct GenerationText(Option<super::generation::Generation>);

#[cfg(feature = "tracing")]
impl std::fmt::Display for GenerationText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(g) => g.fmt(f),
            None => f.write_str("None"),
        }
    }
}

pub(crate) fn queued(g: &Graph, n: u32) {
    node_event!(trace, g, n, "queued");
    with_node(g, n, |i, node| i.flow_node_queued(node));
}

pub(crate) fn started(g: &Graph, n: u32) {
    node_event!(debug, g, n, "started", run = g.nodes[n as usize].run);
    with_node(g, n, |i, node| i.flow_node_started(node));
}

pub(crate) fn finished(g: &Graph, n: u32) {
    node_event!(debug, g, n, "finished");
    with_node(g, n, |i, node| i.flow_node_finished(node));
}

pub(crate) fn stalled(g: &Graph, n: u32, port: u32) {
    let input = (port - g.nodes[n as usize].ports.0) as usize;
    node_event!(trace, g, n, "waits for a chunk", input = input);
    with_node(g, n, |i, node| i.flow_node_stalled(node, input));
}

pub(crate) fn errored(g: &Graph, n: u32, error: &str) {
    node_event!(warn, g, n, "failed", error = error);
    with_node(g, n, |i, node| i.flow_node_errored(node, error));
}

pub(crate) fn chunk(g: &Graph, n: u32) {
    node_event!(trace, g, n, "emitted a chunk");
    with_node(g, n, |i, node| i.flow_stream_chunk(node));
}

pub(crate) fn cycle_broken(g: &Graph, n: u32, inputs: &[usize]) {
    node_event!(
        debug,
        g,
        n,
        "broke a cycle with defaults",
        inputs = format!("{inputs:?}")
    );
    with_node(g, n, |i, node| i.flow_cycle_broken(node, inputs));
}

pub(crate) fn limit_reached(g: &Graph, n: u32) {
    node_event!(info, g, n, "reached its generation limit; the run stops");
    with_node(g, n, |i, node| i.flow_limit_reached(node));
}

/// Whether flow events are wanted: the running loop has an instrument, or (feature `tracing`)
/// the current subscriber listens to `flowloop::flow` events.
pub(crate) fn installed() -> bool {
    #[cfg(feature = "tracing")]
    if tracing::enabled!(target: "flowloop::flow", tracing::Level::WARN) {
        return true;
    }
    context::try_with_core(|c| c.instrument.is_some()).unwrap_or(false)
}
