//! What the server runs per request: the graph pruned to the branch a route takes.

use std::collections::{BTreeSet, HashSet};

use flowloop_graph::{Graph, GraphError, Value};

use super::ServerError;
use super::kinds::{LISTEN, RESPONDERS, ROUTE, parse_routes};
use super::route::Route;

/// The graph of one branch: only the nodes its responders need.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) graph: Graph,
    pub(crate) responders: Vec<String>,
}

/// The plans of a graph: one per route of its router, or one for all requests.
#[derive(Debug)]
pub(crate) struct Plans {
    pub(crate) listen: String,
    pub(crate) addr: String,
    pub(crate) routes: Option<Vec<Route>>,
    pub(crate) plans: Vec<Plan>,
}

fn kind_of<'g>(graph: &'g Graph, node: &str) -> &'g str {
    graph.node(node).map_or("", |n| n.spec().name.as_str())
}

/// Nodes reached from output `port` of `node` (all outputs of the nodes after it).
fn downstream_of_port(graph: &Graph, node: &str, port: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = graph
        .edges()
        .filter(|(from, _)| from.node == node && from.port == port)
        .map(|(_, to)| to.node.clone())
        .collect();
    while let Some(n) = stack.pop() {
        if seen.insert(n.clone()) {
            stack.extend(
                graph
                    .edges()
                    .filter(|(from, _)| from.node == n)
                    .map(|(_, to)| to.node.clone()),
            );
        }
    }
    seen
}

/// `targets` and every node upstream of them.
fn upstream_closure(graph: &Graph, targets: &[String]) -> HashSet<String> {
    let mut keep = HashSet::new();
    let mut stack = targets.to_vec();
    while let Some(n) = stack.pop() {
        if keep.insert(n.clone()) {
            stack.extend(
                graph
                    .edges()
                    .filter(|(_, to)| to.node == n)
                    .map(|(from, _)| from.node.clone()),
            );
        }
    }
    keep
}

fn plan_for(graph: &Graph, reached: &BTreeSet<String>, what: &str) -> Result<Plan, ServerError> {
    let responders: Vec<String> = reached
        .iter()
        .filter(|n| RESPONDERS.contains(&kind_of(graph, n)))
        .cloned()
        .collect();
    if responders.is_empty() {
        return Err(ServerError::NoResponder { what: what.to_string() });
    }
    let keep = upstream_closure(graph, &responders);
    let mut pruned = graph.clone();
    let drop: Vec<String> = graph
        .nodes()
        .map(|n| n.id().to_string())
        .filter(|n| !keep.contains(n))
        .collect();
    for n in drop {
        pruned.remove(&n).map_err(ServerError::Graph)?;
    }
    Ok(Plan {
        graph: pruned,
        responders,
    })
}

fn constant(graph: &Graph, node: &str, input: &str) -> Option<Value> {
    graph.node(node)?.constants().get(input).cloned()
}

impl Plans {
    /// Finds the listener (exactly one) and its router (at most one, fed by the listener),
    /// and plans every branch.
    ///
    /// # Errors
    /// [`ServerError`] naming what is missing or ambiguous.
    pub(crate) fn new(graph: &Graph) -> Result<Plans, ServerError> {
        let listeners: Vec<&str> = graph
            .nodes()
            .filter(|n| n.spec().name == LISTEN)
            .map(|n| n.id())
            .collect();
        let [listen] = listeners[..] else {
            return Err(ServerError::Listeners { count: listeners.len() });
        };
        let addr = constant(graph, listen, "addr")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "127.0.0.1:0".to_string());
        let fed = downstream_of_port(graph, listen, "request");
        let routers: Vec<&String> = fed
            .iter()
            .filter(|n| kind_of(graph, n) == ROUTE && graph.source_of(n, "request").is_some_and(|s| s.node == listen))
            .collect();
        let Some(router) = routers.first().map(|s| s.to_string()) else {
            let plan = plan_for(graph, &fed, &format!("listener `{listen}`"))?;
            return Ok(Plans {
                listen: listen.to_string(),
                addr,
                routes: None,
                plans: vec![plan],
            });
        };
        if routers.len() > 1 {
            return Err(ServerError::Routers {
                listen: listen.to_string(),
            });
        }
        let routes_value = constant(graph, &router, "routes")
            .ok_or_else(|| ServerError::RoutesNotConstant { node: router.clone() })?;
        let routes = parse_routes(&routes_value).map_err(|e| ServerError::Routes {
            node: router.clone(),
            problem: e.to_string(),
        })?;
        let plans = routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let reached = downstream_of_port(graph, &router, &format!("r{i}"));
                plan_for(
                    graph,
                    &reached,
                    &format!("route `{}` (output r{i} of node `{router}`)", r.text()),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Plans {
            listen: listen.to_string(),
            addr,
            routes: Some(routes),
            plans,
        })
    }
}

/// Nodes of `graph` that produced nothing although every node feeding them did: where a
/// run that ran out of time was held.
pub(crate) fn holding_nodes(graph: &Graph, produced: impl Fn(&str) -> bool) -> Vec<String> {
    graph
        .nodes()
        .map(|n| n.id())
        .filter(|n| !produced(n))
        .filter(|n| {
            graph
                .edges()
                .filter(|(_, to)| to.node == *n)
                .all(|(from, _)| produced(&from.node))
        })
        .map(str::to_string)
        .collect()
}

impl From<GraphError> for ServerError {
    fn from(e: GraphError) -> Self {
        ServerError::Graph(e)
    }
}
