//! A worker process hosting the catalog and test flows of this crate (used by its tests through
//! `CARGO_BIN_EXE_flowloop-redis-worker`).
//!
//! ```text
//! flowloop-redis-worker --redis URL [--id ID] [--runs N] [--batch N] [--delay-ms N] [--lease-ms N]
//! flowloop-redis-worker --redis URL --produce RUN --count N [--lease-ms N]
//! ```
//! The second form starts a run of the `echo` flow with id RUN, feeds N inputs without ending
//! the stream, prints `fed` and waits to be killed (a producer lost before end-of-stream).
#![forbid(unsafe_code)]

#[path = "../../tests/flows/mod.rs"]
mod flows;

use std::time::Duration;

use flowloop_redis::resp::Config;
use flowloop_redis::{Provided, RedisRun, RunSettings, Worker, WorkerOptions};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(args: &[String], name: &str, default: u64) -> u64 {
    arg(args, name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(url) = arg(&args, "--redis") else {
        eprintln!("usage: flowloop-redis-worker --redis redis://HOST:PORT [...]");
        std::process::exit(2);
    };
    let config = match Config::from_url(&url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let lease = Duration::from_millis(number(&args, "--lease-ms", 2000));
    if let Some(run) = arg(&args, "--produce") {
        produce(config, &run, number(&args, "--count", 10), lease);
        return;
    }
    let mut options = WorkerOptions::new(config);
    options.lease = lease;
    options.id = arg(&args, "--id");
    options.batch = number(&args, "--batch", 64) as usize;
    options.runs = arg(&args, "--runs").and_then(|v| v.parse().ok());
    let delay = flows::Delay(Duration::from_millis(number(&args, "--delay-ms", 0)));
    let mut worker = Worker::new(options).provide(Provided::new().with(delay));
    for flow in flows::all() {
        worker = worker.host(&flow);
    }
    match worker.run_until_signal() {
        Ok(report) => println!("{report:?}"),
        Err(e) => {
            eprintln!("worker failed: {e}");
            std::process::exit(1);
        }
    }
}

fn produce(config: Config, run: &str, count: u64, lease: Duration) {
    let settings = RunSettings {
        run_id: Some(run.to_string()),
        lease,
        ..RunSettings::default()
    };
    let result = flowloop::run(async move {
        let mut r = RedisRun::start(config, &flows::echo(1024), settings).await?;
        let values: Vec<u64> = (0..count).collect();
        r.feed("in", &values).await?;
        println!("fed");
        flowloop::sleep(Duration::from_secs(3600)).await;
        Ok::<_, flowloop_redis::RunError>(())
    });
    if let Err(e) = result {
        eprintln!("producer failed: {e}");
        std::process::exit(1);
    }
}
