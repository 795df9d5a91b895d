//! `flowloop worker`: a worker process for distributed flows on Redis (`flowloop-redis`).

use std::process::ExitCode;
use std::time::Duration;

use flowloop_redis::resp::Config;
use flowloop_redis::{Flow, Worker, WorkerOptions, WorkerReport, catalog};
use flowloop_run::RunFailure;

use crate::signal::announce;

const EXAMPLES: &str = "\
Examples:
  flowloop worker --redis redis://127.0.0.1:6379
  flowloop worker --redis redis://127.0.0.1:6379 --flows word_count,echo --id worker-1
  flowloop worker --redis redis://:secret@10.0.0.5:6379/0 --lease-ms 5000

Hosts every processor of the named flows of flowloop_redis::catalog (echo, poison,
word_count; default: all) and serves each run of them that a producer starts on this server
(RedisRun::start with the same flow). Several workers share a run's entries. The first stdout
line is `worker ID serving FLOWS`; Ctrl-C or SIGTERM makes the worker finish and acknowledge
the entries in hand, give up its lease and print what it did (exit code 0).";

/// `flowloop worker --redis URL [--flows NAME,...] [--id ID] [--lease-ms MS] [--runs N]`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The server, like `redis://[:PASSWORD@]HOST[:PORT][/DB]`.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    redis: Config,
    /// The catalog flows to host (comma-separated; default: all of them).
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', value_parser = parse_flow)]
    flows: Vec<String>,
    /// This worker's consumer name in every consumer group (default: generated, unique).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// Lease time in milliseconds: a worker silent this long loses its pending entries to
    /// live workers.
    #[arg(long, value_name = "MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(10..))]
    lease_ms: u64,
    /// Leave after serving this many runs to their end (default: until Ctrl-C/SIGTERM).
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
}

fn parse_url(text: &str) -> Result<Config, String> {
    Config::from_url(text).map_err(|e| e.to_string())
}

/// Accepts the name of a catalog flow.
fn parse_flow(name: &str) -> Result<String, String> {
    let name = name.trim();
    catalog::NAMES.contains(&name).then(|| name.to_string()).ok_or_else(|| {
        format!(
            "no flow `{name}` in the catalog (flows: {}); run `flowloop worker --help`",
            catalog::NAMES.join(", ")
        )
    })
}

impl Args {
    fn flows(&self) -> Vec<Flow> {
        if self.flows.is_empty() {
            return catalog::all();
        }
        // `parse_flow` let only catalog names through.
        self.flows.iter().filter_map(|name| catalog::named(name)).collect()
    }

    fn options(&self) -> WorkerOptions {
        let mut options = WorkerOptions::new(self.redis.clone());
        options.lease = Duration::from_millis(self.lease_ms);
        options.id = self.id.clone();
        options.runs = self.runs;
        options
    }
}

/// Runs the subcommand.
pub fn main(args: Args) -> ExitCode {
    match serve(&args) {
        Ok(report) => {
            println!(
                "left: {} runs finished, {} entries committed, {} reclaimed, {} fenced",
                report.runs_finished, report.committed, report.reclaimed, report.fenced
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            flowloop_run::print_error("flowloop worker", &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

fn serve(args: &Args) -> Result<WorkerReport, RunFailure> {
    let flows = args.flows();
    let names: Vec<&str> = flows.iter().map(Flow::name).collect();
    let id = args.id.as_deref().unwrap_or("(generated id)");
    announce(&format!("worker {id} serving {}", names.join(", ")));
    let mut worker = Worker::new(args.options()).provide(catalog::provided(Duration::ZERO));
    for flow in &flows {
        worker = worker.host(flow);
    }
    worker
        .run_until_signal()
        .map_err(|e| RunFailure::Graph(format!("the worker failed: {e}")))
}
