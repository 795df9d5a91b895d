//! `flowloop check`: every problem of a graph file, with node, port and position.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_graph::Graph;

use crate::diagnose::{Problem, diagnose};
use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop check examples/graphs/counter.json
  flowloop check my-graph.json --json | jq '.problems[].message'

Reports every problem, not just the first: malformed JSON, unknown kinds, duplicate or bad
ids, constants of the wrong type, edges to unknown nodes or ports, type mismatches, stream
outputs into plain inputs (and the reverse), inputs left without a value, bad declarations
and limits, and cycles in which no node has a value to start with. Each line reads
FILE:LINE:COLUMN: MESSAGE. Exit code 0 when the graph is fine, 1 when problems were found,
2 when the file cannot be read. --json prints {\"file\", \"ok\", \"problems\": [{\"line\",
\"column\", \"node\", \"port\", \"message\"}]}.";

/// `flowloop check GRAPH.json [--json]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file.
    graph: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let text = match input::read(&args.graph) {
        Ok(text) => text,
        Err(e) => return input::fail(&args.graph, &e),
    };
    let file = input::display(&args.graph);
    let problems = diagnose(&text, input::registry());
    if args.json {
        let report = serde_json::json!({ "file": file, "ok": problems.is_empty(), "problems": problems });
        println!("{report}");
    } else {
        print_text(&file, &problems);
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_text(file: &str, problems: &[Problem]) {
    if problems.is_empty() {
        println!("{file}: ok");
        return;
    }
    for p in problems {
        println!("{file}:{}:{}: {}", p.line, p.column, p.message);
    }
    let s = if problems.len() == 1 { "" } else { "s" };
    println!("{} problem{s} found", problems.len());
}

/// The cycles of a graph: strongly connected components with more than one node, or a node
/// feeding itself. Members in graph order; components ordered by their first member.
pub fn components(g: &Graph) -> Vec<Vec<String>> {
    let ids: Vec<&str> = g.nodes().map(|n| n.id()).collect();
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut succ = vec![Vec::new(); ids.len()];
    for (from, to) in g.edges() {
        if let (Some(&a), Some(&b)) = (index.get(from.node.as_str()), index.get(to.node.as_str())) {
            succ[a].push(b);
        }
    }
    let mut found = Tarjan::new(&succ).run();
    found.retain(|c| c.len() > 1 || succ[c[0]].contains(&c[0]));
    for c in &mut found {
        c.sort_unstable();
    }
    found.sort_unstable();
    found
        .into_iter()
        .map(|c| c.into_iter().map(|i| ids[i].to_string()).collect())
        .collect()
}

/// Tarjan's strongly connected components, iterative (no recursion depth limit).
struct Tarjan<'a> {
    succ: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    out: Vec<Vec<usize>>,
}

impl<'a> Tarjan<'a> {
    fn new(succ: &'a [Vec<usize>]) -> Tarjan<'a> {
        let n = succ.len();
        Tarjan {
            succ,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Vec<usize>> {
        for v in 0..self.succ.len() {
            if self.index[v].is_none() {
                self.visit(v);
            }
        }
        self.out
    }

    fn enter(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
    }

    /// Depth-first from `root` with an explicit stack of (node, next successor position).
    fn visit(&mut self, root: usize) {
        self.enter(root);
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if let Some(&w) = self.succ[v].get(*pos) {
                *pos += 1;
                match self.index[w] {
                    None => {
                        self.enter(w);
                        work.push((w, 0));
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                self.low[parent] = self.low[parent].min(self.low[v]);
            }
            if Some(self.low[v]) == self.index[v] {
                self.pop_component(v);
            }
        }
    }

    fn pop_component(&mut self, v: usize) {
        let mut component = Vec::new();
        while let Some(w) = self.stack.pop() {
            self.on_stack[w] = false;
            component.push(w);
            if w == v {
                break;
            }
        }
        self.out.push(component);
    }
}
