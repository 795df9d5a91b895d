//! `flowloop serve`: the graph editor and dashboard in the browser (`flowloop-web`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use flowloop_run::RunFailure;
use flowloop_web::{Access, GraphEditor, ServerConfig};

use crate::input;
use crate::signal::{Stop, announce};

const EXAMPLES: &str = "\
Examples:
  flowloop serve examples/graphs/diamond.json
  flowloop serve my-graph.json --addr 127.0.0.1:8080
  flowloop serve my-graph.json --read-only
  flowloop serve my-graph.json --addr 0.0.0.0:8080 --token s3cret-token

Prints the page's URL as the first line of standard output (with ?token=... when --token is
given), then serves until Ctrl-C or SIGTERM (exit code 0). Edits stay in the server until the
page's Save writes them back to GRAPH.json; with --read-only every change is refused (403) and
the file is never written. An address other than loopback needs --token.";

/// `flowloop serve GRAPH.json [--addr ADDR] [--read-only] [--token TOKEN]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The graph file (Save on the page writes it back).
    graph: PathBuf,
    /// Where to listen (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Serve the page and the graph, refuse every change and never write the file.
    #[arg(long)]
    read_only: bool,
    /// Require this token (letters, digits, `-`, `_`, `.`, `~`): as `Authorization: Bearer
    /// TOKEN` or `?token=TOKEN`. Required for an address other than loopback.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    token: Option<String>,
}

/// Accepts a token that can go into a URL unchanged.
fn parse_token(text: &str) -> Result<String, String> {
    let url_safe = |c: char| c.is_ascii_alphanumeric() || "-_.~".contains(c);
    if text.is_empty() || !text.chars().all(url_safe) {
        return Err("a token is one or more letters, digits, `-`, `_`, `.` or `~`".into());
    }
    Ok(text.to_string())
}

impl Args {
    fn config(&self) -> Result<ServerConfig, RunFailure> {
        let mut config = ServerConfig::new().bind(self.addr);
        match &self.token {
            Some(token) => config = config.token(token.clone()),
            None if !self.addr.ip().is_loopback() => {
                return Err(RunFailure::Usage(format!(
                    "--addr {}: this address is reachable from other machines, and anyone reaching \
                     it could edit and run the graph; add --token TOKEN, or listen on 127.0.0.1",
                    self.addr
                )));
            }
            None => {}
        }
        if self.read_only {
            config = config.access(Access::ReadOnly);
        }
        Ok(config)
    }

    /// The file Save writes: none when read-only.
    fn save_to(&self) -> Option<PathBuf> {
        (!self.read_only).then(|| self.graph.clone())
    }

    fn url(&self, editor: &GraphEditor) -> String {
        match &self.token {
            Some(token) => format!("{}?token={token}", editor.url()),
            None => editor.url(),
        }
    }
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => input::fail(&args.graph, &e),
    }
}

fn serve(args: &Args) -> Result<(), RunFailure> {
    let config = args.config()?;
    let graph = input::graph(&args.graph)?;
    let stop = Stop::install()?;
    let editor = GraphEditor::start(graph, args.save_to(), config)
        .map_err(|e| RunFailure::Usage(format!("cannot serve the editor: {e}")))?;
    announce(&args.url(&editor));
    stop.wait();
    editor.shutdown();
    eprintln!("stopped");
    Ok(())
}
