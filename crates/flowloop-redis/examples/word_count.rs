//! Word count, in-process or distributed over worker processes.
//!
//! ```text
//! cargo run --release -p flowloop-redis --example word_count                       # in-process
//! cargo run --release -p flowloop-redis --example word_count -- --redis redis://127.0.0.1:6379 --workers 3
//! ```
//! With `--redis` the example starts `--workers` copies of itself as worker processes, runs
//! the flow on them and prints the same counts as the in-process run. The flow is
//! [`flowloop_redis::catalog::word_count`] (words are lower-cased; it also emits their lengths).

use std::process::{Child, Command};

use flowloop_redis::resp::Config;
use flowloop_redis::{Flow, FlowInputs, InProcess, RedisRun, RunOutputs, RunSettings, Worker, WorkerOptions, catalog};

const TEXT: &str = "the event loop runs the flow and the flow runs the nodes \
                    a node reads a stream and writes a stream \
                    workers share the streams of the flow";

/// The catalog's word count (the same flow `flowloop worker --flows word_count` hosts).
fn flow() -> Flow {
    catalog::word_count()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(url) = arg("--worker") {
        let mut options = WorkerOptions::new(Config::from_url(&url)?);
        options.runs = Some(1);
        Worker::new(options).host(&flow()).run_until_signal()?;
        return Ok(());
    }
    let lines: Vec<String> = TEXT.split("  ").map(str::to_string).collect();
    let inputs = FlowInputs::new().feed("lines", &lines)?;
    let outputs = match arg("--redis") {
        None => flowloop::run(async move { InProcess::new(&flow()).run(inputs).await })??,
        Some(url) => distributed(&url, inputs)?,
    };
    for (word, n) in outputs.get::<(String, u64)>("counts")? {
        println!("{word} {n}");
    }
    Ok(())
}

fn distributed(url: &str, inputs: FlowInputs) -> Result<RunOutputs, Box<dyn std::error::Error>> {
    let workers: usize = arg("--workers").and_then(|w| w.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe()?;
    let mut children: Vec<Child> = (0..workers)
        .map(|_| Command::new(&exe).args(["--worker", url]).spawn())
        .collect::<Result<_, _>>()?;
    let config = Config::from_url(url)?;
    let outputs = flowloop::run(async move {
        let mut run = RedisRun::start(config, &flow(), RunSettings::default()).await?;
        run.feed_all(&inputs).await?;
        run.collect().await
    })??;
    for c in &mut children {
        c.wait()?;
    }
    Ok(outputs)
}
