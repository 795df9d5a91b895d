//! `flowloop nodes`: the registered node kinds, with ports and docs.

use std::fmt::Write as _;
use std::process::ExitCode;

use flowloop_graph::Registry;
use flowloop_graph::kind::{InputMode, KindSpec};

use crate::input;

const EXAMPLES: &str = "\
Examples:
  flowloop nodes
  flowloop nodes math
  flowloop nodes --json streams

Each kind is printed as `name(input: type = default, ...) -> output: type`, followed by its
doc; `stream<type>` marks a stream input, `lazy` an input computed only when needed, and
`streams type` a kind whose `stream` output emits chunks of that type. --json prints the
registry listing: {\"shelves\": [{\"name\", \"doc\", \"kinds\": [...]}]}.";

/// `flowloop nodes [--json] [SHELF]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Only this shelf (namespace), e.g. `math`.
    shelf: Option<String>,
    /// Print the JSON listing instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    let registry = input::registry();
    if let Some(shelf) = &args.shelf {
        if !registry.shelves().any(|s| s == shelf) {
            let known: Vec<&str> = registry.shelves().collect();
            eprintln!(
                "error: no shelf `{shelf}` (shelves: {}); run `flowloop nodes` to list them all",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    if args.json {
        println!("{}", json(&registry, args.shelf.as_deref()));
    } else {
        print!("{}", text(&registry, args.shelf.as_deref()));
    }
    ExitCode::SUCCESS
}

/// The registry listing, reduced to one shelf if asked.
fn json(registry: &Registry, shelf: Option<&str>) -> serde_json::Value {
    let mut listing = registry.to_json();
    if let (Some(shelf), Some(shelves)) = (shelf, listing.get_mut("shelves").and_then(|s| s.as_array_mut())) {
        shelves.retain(|s| s.get("name").and_then(|n| n.as_str()) == Some(shelf));
    }
    listing
}

fn text(registry: &Registry, only: Option<&str>) -> String {
    let listing = registry.to_json();
    let mut out = String::new();
    for shelf in registry.shelves().filter(|s| only.is_none_or(|o| o == *s)) {
        let doc = listing["shelves"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == shelf))
            .and_then(|s| s["doc"].as_str())
            .unwrap_or("");
        let _ = writeln!(out, "{shelf} — {doc}");
        for kind in registry.kinds().filter(|k| k.spec().shelf() == shelf) {
            out.push_str(&describe(kind.spec()));
        }
        out.push('\n');
    }
    out
}

/// `  name(inputs) -> outputs` and the doc, indented.
fn describe(spec: &KindSpec) -> String {
    let inputs: Vec<String> = spec
        .inputs
        .iter()
        .map(|p| {
            let ty = match p.mode {
                InputMode::Stream => format!("stream<{}>", p.ty),
                InputMode::Lazy => format!("lazy {}", p.ty),
                _ => p.ty.to_string(),
            };
            match &p.default {
                Some(d) => format!("{}: {ty} = {}", p.name, d.preview(20)),
                None => format!("{}: {ty}", p.name),
            }
        })
        .collect();
    let outputs: Vec<String> = spec.outputs.iter().map(|o| format!("{}: {}", o.name, o.ty)).collect();
    let streams = spec.stream.map(|t| format!(", streams {t}")).unwrap_or_default();
    let mut out = format!(
        "  {}({}) -> {}{streams}\n",
        spec.name,
        inputs.join(", "),
        outputs.join(", ")
    );
    for line in spec.doc.lines() {
        let _ = writeln!(out, "      {line}");
    }
    out
}
