//! [`RunArgs`]: the options of `flowloop run` and of every deployed graph binary, and how they
//! apply to a [`Graph`].

use flowloop::flow::Generation;
use flowloop_graph::{Graph, Value};

use crate::error::RunFailure;
use crate::report::Format;

/// The run options shared by `flowloop run` and deployed binaries.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct RunArgs {
    /// Stop once NODE reached generation GEN (`4` for run 4, `0,2` for chunk 2 of run 0);
    /// repeatable; wins over --limit-all for that node.
    #[arg(long = "limit", value_name = "NODE=GEN", value_parser = parse_limit)]
    pub limits: Vec<NodeLimit>,
    /// Stop once any node reached generation GEN.
    #[arg(long = "limit-all", value_name = "GEN", value_parser = parse_generation)]
    pub limit_all: Option<Generation>,
    /// Set input PORT of NODE to a JSON value before running (the value of an unconnected
    /// input, the default of a connected one); repeatable.
    #[arg(long = "set", value_name = "NODE.PORT=JSON", value_parser = parse_set)]
    pub sets: Vec<InputSet>,
    /// Keep running the parts of the graph that do not depend on a failed node, and report
    /// every failure at the end (default: stop at the first failure).
    #[arg(long)]
    pub no_terminate_on_error: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl RunArgs {
    /// The output format these options ask for.
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { Format::Table }
    }
}

/// `--limit NODE=GEN`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLimit {
    /// The node's id.
    pub node: String,
    /// The generation.
    pub generation: Generation,
}

/// `--set NODE.PORT=JSON`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSet {
    /// The node's id.
    pub node: String,
    /// The input's name.
    pub input: String,
    /// The value.
    pub value: Value,
}

/// Parses a generation: `4`, `4,1`, `(4,)`, `(4,1)` or `[4, 1]`.
///
/// # Errors
/// Anything else, with a message saying what is accepted.
pub fn parse_generation(text: &str) -> Result<Generation, String> {
    let inner = text
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']'])
        .trim();
    let parts: Vec<&str> = inner.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let number = |p: &str| p.parse::<u64>().map_err(|_| bad_generation(text));
    match parts.as_slice() {
        [run] => Ok(Generation::finished(number(run)?)),
        [run, chunk] => Ok(Generation::chunk(number(run)?, number(chunk)?)),
        _ => Err(bad_generation(text)),
    }
}

fn bad_generation(text: &str) -> String {
    format!("`{text}` is not a generation: write RUN (like 4) or RUN,CHUNK (like 0,2)")
}

/// Parses `NODE=GEN`.
///
/// # Errors
/// No `=`, an empty node, or a bad generation.
pub fn parse_limit(text: &str) -> Result<NodeLimit, String> {
    let Some((node, generation)) = text.split_once('=') else {
        return Err(format!("`{text}` is not NODE=GEN (like count=4)"));
    };
    if node.trim().is_empty() {
        return Err(format!("`{text}` names no node: write NODE=GEN (like count=4)"));
    }
    Ok(NodeLimit {
        node: node.trim().to_string(),
        generation: parse_generation(generation)?,
    })
}

/// Parses `NODE.PORT=JSON`.
///
/// # Errors
/// No `=`, no `.` in the target, or malformed JSON.
pub fn parse_set(text: &str) -> Result<InputSet, String> {
    let Some((target, json)) = text.split_once('=') else {
        return Err(format!("`{text}` is not NODE.PORT=JSON (like count.b=2)"));
    };
    let Some((node, input)) = target
        .trim()
        .split_once('.')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
    else {
        return Err(format!("`{target}` is not NODE.PORT (like count.b)"));
    };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| format!("the value for {target} is not JSON ({e}); quote strings, e.g. {target}='\"text\"'"))?;
    Ok(InputSet {
        node: node.to_string(),
        input: input.to_string(),
        value,
    })
}

/// Applies every `--set` to `graph` (each checked like an edit: the node and input must exist
/// and the value must fit the input's type).
///
/// # Errors
/// [`RunFailure::Usage`] naming the option, node and input.
pub fn apply_sets(graph: &mut Graph, sets: &[InputSet]) -> Result<(), RunFailure> {
    for s in sets {
        graph
            .set_constant(&s.node, &s.input, s.value.clone())
            .map_err(|e| RunFailure::Usage(format!("--set {}.{}: {e}", s.node, s.input)))?;
    }
    Ok(())
}

/// Every limit to apply: the graph file's own `limits`, then `--limit` options (which win).
///
/// # Errors
/// [`RunFailure::Usage`] for a `--limit` naming a node the graph does not have.
pub fn limits(graph: &Graph, args: &RunArgs) -> Result<Vec<NodeLimit>, RunFailure> {
    let mut all: Vec<NodeLimit> = graph
        .to_spec()
        .limits
        .into_iter()
        .filter_map(|(node, parts)| {
            let generation = match parts.as_slice() {
                [r] => Generation::finished(*r),
                [r, c] => Generation::chunk(*r, *c),
                _ => return None,
            };
            Some(NodeLimit { node, generation })
        })
        .collect();
    for l in &args.limits {
        if graph.node(&l.node).is_none() {
            let known: Vec<&str> = graph.nodes().map(|n| n.id()).collect();
            return Err(RunFailure::Usage(format!(
                "--limit {}={}: the graph has no node `{}` (nodes: {})",
                l.node,
                l.generation
                    .to_vec()
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                l.node,
                known.join(", ")
            )));
        }
        all.push(l.clone());
    }
    Ok(all)
}
