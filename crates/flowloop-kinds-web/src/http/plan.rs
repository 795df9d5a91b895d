//! What the server runs per request: the routing tree of the graph's `http.route` nodes and,
//! per route, the graph pruned to the branch that route takes — compiled once and reused.
//!
//! A branch graph keeps the `http.listen` node as its entry: every edge that carried the
//! routed request (an output `r<i>` of a router on the way) comes from the listener instead,
//! and the listener's body hands out the request of the current run (see
//! [`CurrentRequest`](super::kinds::CurrentRequest)). Routers are not part of any branch; the
//! server matches routes itself before a branch runs.

use std::cell::RefCell;
use std::collections::BTreeSet;

use flowloop_graph::{Batch, Graph, Map, PortRef, Value};

use super::ServerError;
use super::kinds::{LISTEN, RESPONDERS, ROUTE, parse_routes};
use super::route::Route;

/// At most this many compiled copies of a branch wait idle for the next request.
const IDLE_COPIES: usize = 256;

/// The index of a [`Branch`] in [`Plans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BranchId(usize);

/// The index of a [`Router`] in [`Plans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RouterId(usize);

/// Where a request goes next: a branch to run, or another router to consult.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Branch(BranchId),
    Router(RouterId),
}

/// One `http.route` node: its routes and, per route, where the request goes.
#[derive(Debug)]
struct Router {
    routes: Vec<Route>,
    targets: Vec<Target>,
}

/// A branch compiled onto the flow executor, with the number of runs it has finished (run
/// `k` gives every node generation `(k,)`).
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) batch: Batch,
    pub(crate) runs: u64,
}

/// The graph of one branch (only the nodes its responders need) and its idle compiled copies.
#[derive(Debug)]
pub(crate) struct Branch {
    pub(crate) graph: Graph,
    pub(crate) responders: Vec<String>,
    idle: RefCell<Vec<Compiled>>,
}

impl Branch {
    /// An idle compiled copy, or a new one.
    ///
    /// # Errors
    /// The graph does not compile.
    pub(crate) fn take(&self) -> Result<Compiled, flowloop_graph::GraphError> {
        if let Some(c) = self.idle.borrow_mut().pop() {
            return Ok(c);
        }
        Ok(Compiled {
            batch: self.graph.batch()?,
            runs: 0,
        })
    }

    /// Keeps a copy whose last run completed for the next request.
    pub(crate) fn give_back(&self, compiled: Compiled) {
        let mut idle = self.idle.borrow_mut();
        if idle.len() < IDLE_COPIES {
            idle.push(compiled);
        }
    }
}

/// Where the routing tree sends a request.
#[derive(Debug)]
pub(crate) enum Routed {
    /// Run this branch, with these path parameters.
    Branch(BranchId, Map),
    /// No route matches.
    NotFound,
}

/// The plans of a graph: the routing tree from its listener and one branch per leaf.
#[derive(Debug)]
pub(crate) struct Plans {
    pub(crate) listen: String,
    /// The name of the front flow's node after the listener: the router the listener feeds,
    /// or `<listener>.dispatch` when it feeds one branch directly.
    pub(crate) front: String,
    pub(crate) addr: String,
    root: Target,
    routers: Vec<Router>,
    branches: Vec<Branch>,
}

impl Plans {
    /// Finds the listener (exactly one), follows its requests through every router, and
    /// plans every branch.
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
        let mut planner = Planner {
            graph,
            listen,
            routers: Vec::new(),
            branches: Vec::new(),
        };
        let source = PortRef::new(listen, "request");
        let root = planner.target(&[source], format!("listener `{listen}`"))?;
        let front = match root {
            Target::Router(_) => consumers(graph, &PortRef::new(listen, "request"))
                .into_iter()
                .next()
                .map(|(router, _)| router)
                .expect("a root router is fed by the listener"),
            Target::Branch(_) => format!("{listen}.dispatch"),
        };
        Ok(Plans {
            listen: listen.to_string(),
            front,
            addr,
            root,
            routers: planner.routers,
            branches: planner.branches,
        })
    }

    /// The branch a request for `method` and `path` runs, with the path parameters of every
    /// router on the way (a later router's win).
    pub(crate) fn route(&self, method: &str, path: &str) -> Routed {
        let mut params = Map::new();
        let mut at = self.root;
        loop {
            match at {
                Target::Branch(b) => return Routed::Branch(b, params),
                Target::Router(RouterId(r)) => {
                    let router = &self.routers[r];
                    let found = router
                        .routes
                        .iter()
                        .enumerate()
                        .find_map(|(i, route)| route.matches(method, path).map(|p| (i, p)));
                    let Some((i, found)) = found else {
                        return Routed::NotFound;
                    };
                    for (k, v) in found.iter() {
                        params.insert(k, v.clone());
                    }
                    at = router.targets[i];
                }
            }
        }
    }

    /// Branch `id`.
    pub(crate) fn branch(&self, id: BranchId) -> &Branch {
        &self.branches[id.0]
    }
}

/// Walks the graph from the listener, making routers and branches.
struct Planner<'g> {
    graph: &'g Graph,
    listen: &'g str,
    routers: Vec<Router>,
    branches: Vec<Branch>,
}

impl Planner<'_> {
    /// What the requests leaving `path`'s last port go to. `path` is every port that carried
    /// the request from the listener here.
    fn target(&mut self, path: &[PortRef], what: String) -> Result<Target, ServerError> {
        let source = path.last().expect("a path starts at the listener's port");
        let fed = consumers(self.graph, source);
        let routers: Vec<&String> = fed
            .iter()
            .filter(|(n, input)| input == "request" && kind_of(self.graph, n) == ROUTE)
            .map(|(n, _)| n)
            .collect();
        match routers[..] {
            [] => self.branch(path, &what),
            [router] if fed.len() == 1 => self.router(router, path),
            _ => Err(ServerError::Routers {
                output: source.to_string(),
            }),
        }
    }

    /// Plans router `node` (reached along `path`). Routers form a tree: a router's `request`
    /// input has one source, so no walk comes back to a router it passed.
    fn router(&mut self, node: &str, path: &[PortRef]) -> Result<Target, ServerError> {
        let routes_value =
            constant(self.graph, node, "routes").ok_or_else(|| ServerError::RoutesNotConstant { node: node.into() })?;
        let routes = parse_routes(&routes_value).map_err(|e| ServerError::Routes {
            node: node.to_string(),
            problem: e.to_string(),
        })?;
        let mut targets = Vec::with_capacity(routes.len());
        for (i, r) in routes.iter().enumerate() {
            let port = PortRef::new(node, &format!("r{i}"));
            let what = format!("route `{}` (output {port})", r.text());
            let mut next = path.to_vec();
            next.push(port);
            targets.push(self.target(&next, what)?);
        }
        self.routers.push(Router { routes, targets });
        Ok(Target::Router(RouterId(self.routers.len() - 1)))
    }

    fn branch(&mut self, path: &[PortRef], what: &str) -> Result<Target, ServerError> {
        let source = path.last().expect("a path starts at the listener's port");
        let responders: Vec<String> = downstream_of_port(self.graph, source)
            .into_iter()
            .filter(|n| RESPONDERS.contains(&kind_of(self.graph, n)))
            .collect();
        if responders.is_empty() {
            return Err(ServerError::NoResponder { what: what.to_string() });
        }
        let graph = branch_graph(self.graph, self.listen, path, &responders)?;
        let first = Compiled {
            batch: graph.batch()?, // a branch that cannot compile fails here, not per request
            runs: 0,
        };
        self.branches.push(Branch {
            graph,
            responders,
            idle: RefCell::new(vec![first]),
        });
        Ok(Target::Branch(BranchId(self.branches.len() - 1)))
    }
}

/// `graph` cut down to what `responders` need, with the request coming from the listener.
fn branch_graph(graph: &Graph, listen: &str, path: &[PortRef], responders: &[String]) -> Result<Graph, ServerError> {
    let mut g = graph.clone();
    let carried: Vec<PortRef> = g
        .edges()
        .filter(|(from, _)| from.node != listen && path.contains(from))
        .map(|(_, to)| to.clone())
        .collect();
    for to in carried {
        g.disconnect(&to.node, &to.port)?;
        g.connect(listen, "request", &to.node, &to.port)?;
    }
    let mut keep = upstream_closure(&g, responders);
    keep.insert(listen.to_string());
    let cut: Vec<PortRef> = g
        .edges()
        .filter(|(from, to)| !keep.contains(&from.node) && keep.contains(&to.node))
        .map(|(_, to)| to.clone())
        .collect();
    for to in cut {
        // Another route's output: it never carries this branch's request.
        g.disconnect(&to.node, &to.port)?;
        g.set_constant(&to.node, &to.port, Value::Null)?;
    }
    let drop: Vec<String> = g
        .nodes()
        .map(|n| n.id().to_string())
        .filter(|n| !keep.contains(n))
        .collect();
    for n in drop {
        g.remove(&n)?;
    }
    Ok(g)
}

fn kind_of<'g>(graph: &'g Graph, node: &str) -> &'g str {
    graph.node(node).map_or("", |n| n.spec().name.as_str())
}

fn constant(graph: &Graph, node: &str, input: &str) -> Option<Value> {
    graph.node(node)?.constants().get(input).cloned()
}

/// The `(node, input)` pairs fed by `source`.
fn consumers(graph: &Graph, source: &PortRef) -> Vec<(String, String)> {
    graph
        .edges()
        .filter(|(from, _)| *from == source)
        .map(|(_, to)| (to.node.clone(), to.port.clone()))
        .collect()
}

/// Which way [`reach`] follows edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// From a node to its consumers.
    Down,
    /// From a node to its producers.
    Up,
}

/// `start` and every node reached from it along edges in `direction`, not passing through
/// (nor keeping) nodes `admit` refuses.
fn reach(graph: &Graph, start: Vec<String>, direction: Direction, admit: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = start;
    while let Some(n) = stack.pop() {
        if admit(&n) && seen.insert(n.clone()) {
            stack.extend(graph.edges().filter_map(|(from, to)| match direction {
                Direction::Down => (from.node == n).then(|| to.node.clone()),
                Direction::Up => (to.node == n).then(|| from.node.clone()),
            }));
        }
    }
    seen
}

/// Nodes reached from `source` (all outputs of the nodes after it).
fn downstream_of_port(graph: &Graph, source: &PortRef) -> BTreeSet<String> {
    let start = consumers(graph, source).into_iter().map(|(n, _)| n).collect();
    reach(graph, start, Direction::Down, |_| true)
}

/// `targets` and every node upstream of them, except routers (they never run in a branch).
fn upstream_closure(graph: &Graph, targets: &[String]) -> BTreeSet<String> {
    reach(graph, targets.to_vec(), Direction::Up, |n| kind_of(graph, n) != ROUTE)
}

/// Nodes of `graph` that produced nothing in the current run although every node feeding
/// them did: where a run that ran out of time was held.
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

impl From<flowloop_graph::GraphError> for ServerError {
    fn from(e: flowloop_graph::GraphError) -> Self {
        ServerError::Graph(e)
    }
}
