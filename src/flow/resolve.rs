//! The resolver: from a queued node, walk stale inputs upstream, condense what was reached into
//! strongly connected components, and resume one node of every leaf component
//! (FLOW_SEMANTICS §3–4).

use super::error::{CycleMember, Failure};
use super::state::{Action, Graph, Status};

/// Reusable scratch space for Tarjan's algorithm (no allocation once warmed up).
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    stamp: Vec<u32>,
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    comp: Vec<u32>,
    epoch: u32,
    stack: Vec<u32>,
    /// DFS frames: (node, next edge position).
    frames: Vec<(u32, u32)>,
    /// Components in the order Tarjan closes them (leaves first), as ranges into `members`.
    comps: Vec<(u32, u32)>,
    members: Vec<u32>,
    edges: Vec<u32>,
}

/// How far resolving a queued node may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Start idle leaves (breaking cycles with defaults) and resume suspended ones.
    Full,
    /// The node already ran in this run and has no fresh input: only resume work that is
    /// already under way (a producer waiting to be pulled, a consumer whose stream moved on).
    /// Starting idle producers again would create generations nobody asked for.
    ResumeOnly,
}

impl Resolver {
    /// Resolves queued node `n`: makes every resumable leaf ready. Every cycle without a usable
    /// default that was reached is appended to `failures` (all of them, not only the last).
    pub(crate) fn resolve(&mut self, g: &mut Graph, n: u32, failures: &mut Vec<Failure>) {
        let reach = if nothing_new(g, n) {
            Reach::ResumeOnly
        } else {
            Reach::Full
        };
        if let Some(action) = fast_path(g, n, reach) {
            if let Some(a) = action {
                g.make_ready(n, a);
            }
            return;
        }
        self.tarjan(g, n);
        for c in 0..self.comps.len() {
            let (a, b) = self.comps[c];
            if !self.is_leaf(g, c as u32, a, b) {
                continue;
            }
            if let Some(failure) = self.resume_leaf(g, a, b, reach) {
                failures.push(failure);
            }
        }
    }

    fn grow(&mut self, len: usize) {
        if self.stamp.len() < len {
            self.stamp.resize(len, 0);
            self.index.resize(len, 0);
            self.low.resize(len, 0);
            self.on_stack.resize(len, false);
            self.comp.resize(len, 0);
        }
    }

    fn seen(&self, x: u32) -> bool {
        self.stamp[x as usize] == self.epoch
    }

    /// Iterative Tarjan from `root` over stale edges.
    fn tarjan(&mut self, g: &Graph, root: u32) {
        self.start_epoch(g);
        self.explore(g, root, &mut 0);
    }

    /// Forgets the previous search (O(1): nodes are marked with an epoch).
    fn start_epoch(&mut self, g: &Graph) {
        self.grow(g.nodes.len());
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.fill(0);
            self.epoch = 1;
        }
        self.comps.clear();
        self.members.clear();
        self.stack.clear();
        self.frames.clear();
    }

    /// Tarjan's depth-first search from `root`, adding the components it closes to `comps`.
    fn explore(&mut self, g: &Graph, root: u32, counter: &mut u32) {
        self.visit(root, counter);
        while let Some(&(x, pos)) = self.frames.last() {
            match nth_edge(g, x, pos) {
                Some((next_pos, y)) => {
                    self.frames.last_mut().expect("frame").1 = next_pos;
                    if !self.seen(y) {
                        self.visit(y, counter);
                    } else if self.on_stack[y as usize] {
                        self.low[x as usize] = self.low[x as usize].min(self.index[y as usize]);
                    }
                }
                None => {
                    self.frames.pop();
                    if let Some(&(parent, _)) = self.frames.last() {
                        self.low[parent as usize] = self.low[parent as usize].min(self.low[x as usize]);
                    }
                    if self.low[x as usize] == self.index[x as usize] {
                        self.close_component(x);
                    }
                }
            }
        }
    }

    fn visit(&mut self, x: u32, counter: &mut u32) {
        let i = x as usize;
        self.stamp[i] = self.epoch;
        self.index[i] = *counter;
        self.low[i] = *counter;
        *counter += 1;
        self.on_stack[i] = true;
        self.stack.push(x);
        self.frames.push((x, 0));
    }

    fn close_component(&mut self, root: u32) {
        let c = self.comps.len() as u32;
        let start = self.members.len() as u32;
        while let Some(y) = self.stack.pop() {
            self.on_stack[y as usize] = false;
            self.comp[y as usize] = c;
            self.members.push(y);
            if y == root {
                break;
            }
        }
        let end = self.members.len() as u32;
        self.members[start as usize..end as usize].sort_unstable();
        self.comps.push((start, end));
    }

    /// A leaf component has no stale edge to another component.
    fn is_leaf(&self, g: &Graph, c: u32, a: u32, b: u32) -> bool {
        (a..b).all(|m| {
            let x = self.members[m as usize];
            let mut pos = 0;
            while let Some((next, y)) = nth_edge(g, x, pos) {
                if self.comp[y as usize] != c {
                    return false;
                }
                pos = next;
            }
            true
        })
    }

    fn resume_leaf(&mut self, g: &mut Graph, a: u32, b: u32, reach: Reach) -> Option<Failure> {
        let first = self.members[a as usize];
        let self_loop = b - a == 1 && has_edge_to(g, first, first);
        if b - a == 1 && !self_loop {
            if let Some(action) = resumable(g, first, reach) {
                g.make_ready(first, action);
            }
            return None;
        }
        if reach == Reach::ResumeOnly {
            return None;
        }
        let comp = self.comp[first as usize];
        for m in a..b {
            let x = self.members[m as usize];
            if g.nodes[x as usize].status == Status::Idle && self.defaults_cover(g, x, comp) {
                g.make_ready(x, Action::Start);
                return None;
            }
        }
        if (a..b).any(|m| g.nodes[self.members[m as usize] as usize].status != Status::Idle) {
            // A member is busy or stalled: the cycle moves once it publishes.
            return None;
        }
        Some(self.missing_default(g, a, b, comp))
    }

    /// Whether every stale input of `x` from inside component `comp` has a default.
    fn defaults_cover(&mut self, g: &Graph, x: u32, comp: u32) -> bool {
        self.edges.clear();
        let (pa, pb) = g.nodes[x as usize].ports;
        (pa..pb).all(|pi| {
            let port = &g.ports[pi as usize];
            match port.producer {
                Some(p) if self.seen(p) && self.comp[p as usize] == comp && g.port_stale(pi) => port.has_default,
                _ => true,
            }
        })
    }

    /// Every cycle of a freshly built graph (all nodes idle, every connected input stale) that
    /// no member can start: the resolver would report each of them on the first run.
    pub(crate) fn unstartable_cycles(&mut self, g: &Graph) -> Vec<Vec<CycleMember>> {
        // One search over the whole graph: O(nodes + edges), also for a million-node chain.
        self.start_epoch(g);
        let mut counter = 0;
        for root in 0..g.nodes.len() as u32 {
            if !self.seen(root) {
                self.explore(g, root, &mut counter);
            }
        }
        let mut cycles = Vec::new();
        for c in 0..self.comps.len() {
            let (a, b) = self.comps[c];
            let first = self.members[a as usize];
            let is_cycle = b - a > 1 || has_edge_to(g, first, first);
            if is_cycle && !(a..b).any(|m| self.defaults_cover(g, self.members[m as usize], c as u32)) {
                cycles.push(self.cycle_members(g, a, b, c as u32));
            }
        }
        cycles
    }

    fn missing_default(&self, g: &mut Graph, a: u32, b: u32, comp: u32) -> Failure {
        let cycle = self.cycle_members(g, a, b, comp);
        for m in a..b {
            g.nodes[self.members[m as usize] as usize].status = Status::Failed;
        }
        Failure::MissingDefault { cycle }
    }

    fn cycle_members(&self, g: &Graph, a: u32, b: u32, comp: u32) -> Vec<CycleMember> {
        let mut cycle = Vec::new();
        for m in a..b {
            let x = self.members[m as usize];
            let node = &g.nodes[x as usize];
            let (pa, pb) = node.ports;
            let inputs = (pa..pb)
                .filter(|&pi| {
                    let port = &g.ports[pi as usize];
                    port.producer
                        .is_some_and(|p| self.seen(p) && self.comp[p as usize] == comp)
                        && g.port_stale(pi)
                        && !port.has_default
                })
                .map(|pi| input_name(g, x, (pi - pa) as usize))
                .collect();
            cycle.push(CycleMember {
                node: super::handles::NodeId(x),
                name: g.node_name(x).to_string(),
                inputs,
            });
        }
        cycle
    }
}

/// The name of input `i` of node `n`: its given name, else its position.
pub(crate) fn input_name(g: &Graph, n: u32, i: usize) -> String {
    match g.input_names_of(n).get(i) {
        Some(name) => name.clone(),
        None => format!("#{i}"),
    }
}

/// A node that already ran in this run and has no fresh input has nothing new to start: it was
/// queued by a publication it had already consumed (for example a stream's final value after
/// the consumer finished), or by a chunk of a producer it reads only the final value of. Its
/// stale inputs are still walked (FLOW_SEMANTICS §3), but only to resume suspended work.
fn nothing_new(g: &Graph, n: u32) -> bool {
    let node = &g.nodes[n as usize];
    if node.status != Status::Idle || node.visited != g.epoch {
        return false;
    }
    !g.has_fresh_input(n)
}

/// `Some(Some(action))`: resume directly; `Some(None)`: nothing to do; `None`: walk.
fn fast_path(g: &Graph, n: u32, reach: Reach) -> Option<Option<Action>> {
    match g.nodes[n as usize].status {
        Status::Idle => match (g.has_stale_input(n), reach) {
            (true, _) => None,
            (false, Reach::Full) => Some(Some(Action::Start)),
            (false, Reach::ResumeOnly) => Some(None),
        },
        Status::Stalled(pi) => {
            if g.stream_port_ready(pi) {
                Some(Some(Action::Resume))
            } else {
                None
            }
        }
        Status::EmitPull => Some(Some(Action::Resume)),
        _ => Some(None),
    }
}

/// How the resolver resumes a leaf node, if it can.
fn resumable(g: &Graph, n: u32, reach: Reach) -> Option<Action> {
    match g.nodes[n as usize].status {
        Status::Idle if reach == Reach::Full => Some(Action::Start),
        Status::EmitPull => Some(Action::Resume),
        Status::Stalled(pi) if g.stream_port_ready(pi) => Some(Action::Resume),
        _ => None,
    }
}

/// The stale edge of `x` at or after position `pos`: (position after it, producer).
fn nth_edge(g: &Graph, x: u32, pos: u32) -> Option<(u32, u32)> {
    let node = &g.nodes[x as usize];
    match node.status {
        Status::Idle => {
            let (a, b) = node.ports;
            let mut pi = a + pos;
            while pi < b {
                if g.port_stale(pi) {
                    let p = g.ports[pi as usize].producer.expect("stale ports are connected");
                    return Some((pi - a + 1, p));
                }
                pi += 1;
            }
            None
        }
        Status::Stalled(pi) if pos == 0 && !g.stream_port_ready(pi) => g.ports[pi as usize].producer.map(|p| (1, p)),
        _ => None,
    }
}

fn has_edge_to(g: &Graph, x: u32, target: u32) -> bool {
    let mut pos = 0;
    while let Some((next, y)) = nth_edge(g, x, pos) {
        if y == target {
            return true;
        }
        pos = next;
    }
    false
}
