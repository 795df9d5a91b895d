//! [`Report`]: what a run printed — each output's value and generation, how the run ended —
//! as a table for people or one JSON object for programs. `flowloop run` and deployed graph
//! binaries print through this module, so their outputs match byte for byte.

use std::fmt::Write as _;
use std::io;

use flowloop::flow::Generation;
use flowloop_graph::Value;
use serde::ser::{SerializeMap, Serializer};

/// One printed output: `node.output`, its latest value and the node's generation.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRow {
    /// The node's id.
    pub node: String,
    /// The output's name.
    pub output: String,
    /// The latest value; `None` if the node never produced one.
    pub value: Option<Value>,
    /// The node's generation; `None` if it never produced anything.
    pub generation: Option<Generation>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Ending {
    /// Nothing was left to do.
    Completed,
    /// A node reached its generation limit.
    LimitReached {
        /// The node's id.
        node: String,
        /// The generation it reached.
        generation: Generation,
    },
    /// One or more nodes failed; each message names its node.
    Failed(Vec<String>),
    /// Ctrl-C stopped the run.
    Interrupted,
}

impl Ending {
    /// The word used in the table and in the JSON `outcome` field.
    pub fn label(&self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::LimitReached { .. } => "limit_reached",
            Ending::Failed(_) => "failed",
            Ending::Interrupted => "interrupted",
        }
    }

    /// The process exit code: 0 when the run completed or reached a limit, 1 when a node
    /// failed, 130 when interrupted (the shell convention for Ctrl-C).
    pub fn exit_code(&self) -> u8 {
        match self {
            Ending::Completed | Ending::LimitReached { .. } => 0,
            Ending::Failed(_) => 1,
            Ending::Interrupted => 130,
        }
    }
}

/// The result of one run, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// How the run ended.
    pub ending: Ending,
    /// The outputs, in graph order.
    pub outputs: Vec<OutputRow>,
    /// Node runs over the whole run (all nodes).
    pub node_runs: u64,
}

/// A generation as a JSON array: `[k]` or `[k, j]`.
fn generation_json(g: Option<Generation>) -> serde_json::Value {
    g.map_or(serde_json::Value::Null, |g| serde_json::json!(g.to_vec()))
}

struct Outputs<'a>(&'a [OutputRow]);

impl serde::Serialize for Outputs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for row in self.0 {
            let entry = serde_json::json!({
                "value": row.value,
                "generation": generation_json(row.generation),
            });
            map.serialize_entry(&format!("{}.{}", row.node, row.output), &entry)?;
        }
        map.end()
    }
}

impl serde::Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("outcome", self.ending.label())?;
        if let Ending::LimitReached { node, generation } = &self.ending {
            let limit = serde_json::json!({ "node": node, "generation": generation.to_vec() });
            map.serialize_entry("limit", &limit)?;
        }
        if let Ending::Failed(errors) = &self.ending {
            map.serialize_entry("errors", errors)?;
        }
        map.serialize_entry("node_runs", &self.node_runs)?;
        map.serialize_entry("outputs", &Outputs(&self.outputs))?;
        map.end()
    }
}

/// How wide a table cell may get before its value is shortened (the JSON form never shortens).
const VALUE_WIDTH: usize = 60;

impl Report {
    /// The report as one line of JSON: `{"outcome", ["limit"], ["errors"], "node_runs",
    /// "outputs": {"node.output": {"value", "generation"}}}`; outputs in graph order, a node
    /// that never ran has `null` for both.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report is plain JSON data (strings, numbers, values)")
    }

    /// The report as an aligned table followed by one status line.
    pub fn to_table(&self) -> String {
        let rows: Vec<[String; 3]> = self
            .outputs
            .iter()
            .map(|r| {
                let value = r
                    .value
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |v| v.preview(VALUE_WIDTH));
                let generation = r.generation.map_or_else(|| "-".to_string(), |g| g.to_string());
                [format!("{}.{}", r.node, r.output), value, generation]
            })
            .collect();
        let header = ["OUTPUT".to_string(), "VALUE".to_string(), "GENERATION".to_string()];
        let width = |i: usize| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1) = (width(0), width(1));
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line = format!("{:<w0$}  {:<w1$}  {}", row[0], row[1], row[2]);
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out, "{}", self.status_line());
        out
    }

    fn status_line(&self) -> String {
        let runs = self.node_runs;
        match &self.ending {
            Ending::Completed => format!("completed ({runs} node runs)"),
            Ending::LimitReached { node, generation } => {
                format!("limit reached: node `{node}` at generation {generation} ({runs} node runs)")
            }
            Ending::Failed(errors) => format!("failed ({runs} node runs): {}", errors.join("; ")),
            Ending::Interrupted => format!("interrupted by Ctrl-C ({runs} node runs)"),
        }
    }

    /// Writes the table, or the JSON line when `format` is [`Format::Json`].
    ///
    /// # Errors
    /// Writing to `out` failed.
    pub fn write(&self, format: Format, out: &mut impl io::Write) -> io::Result<()> {
        match format {
            Format::Table => out.write_all(self.to_table().as_bytes()),
            Format::Json => writeln!(out, "{}", self.to_json()),
        }
    }
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An aligned table and a status line.
    Table,
    /// One JSON object on one line.
    Json,
}
