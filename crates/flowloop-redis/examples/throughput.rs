//! Throughput of a one-stage distributed pipeline against the server's pipelined-XADD ceiling.
//!
//! ```text
//! cargo run --release -p flowloop-redis --example throughput -- --redis redis://127.0.0.1:6379 --workers 4 [--items 100000] [--bundle 256]
//! ```
//! Prints `redis_pipeline_<N>w flowloop_ns=<ns per item end to end> ceiling_ns=<ns per
//! pipelined XADD> ratio=<flowloop/ceiling>` and the p50/p99 latency per item, then the same
//! for the server's CPU time per item. Items travel in bundles of `--bundle` values per stream
//! entry ([`RunSettings::bundle`]; `--bundle 1`: one entry per item).

use std::process::{Child, Command};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flowloop_redis::resp::{Client, Cmd, Config};
use flowloop_redis::{Flow, FlowBuilder, Outputs, Processor, RedisRun, RunSettings, Worker, WorkerOptions};

fn flow() -> Flow {
    let pass = Processor::new("pass")
        .reads("in")
        .writes("out")
        .each(|item, _ctx| async move {
            let stamp: (u64, u64) = item.decode()?;
            let mut out = Outputs::new();
            out.emit("out", &stamp)?;
            Ok(out)
        });
    FlowBuilder::new("throughput")
        .input("in")
        .processor(pass)
        .output("out")
        .cap("in", 8192)
        .build()
        .expect("valid")
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bundle: usize = arg("--bundle").and_then(|b| b.parse().ok()).unwrap_or(256).max(1);
    if let Some(url) = arg("--worker") {
        let mut options = WorkerOptions::new(Config::from_url(&url)?);
        options.runs = Some(1);
        // About 1024 items per read, whatever the bundle size.
        options.batch = (1024 / bundle).max(1);
        Worker::new(options).host(&flow()).run_until_signal()?;
        return Ok(());
    }
    let url = arg("--redis").ok_or("usage: throughput --redis redis://HOST:PORT --workers N [--items N]")?;
    let workers: usize = arg("--workers").and_then(|w| w.parse().ok()).unwrap_or(4);
    let items: u64 = arg("--items").and_then(|w| w.parse().ok()).unwrap_or(100_000);
    let config = Config::from_url(&url)?;
    let cpu0 = flowloop::run(server_cpu_us(config.clone()))??;
    let ceiling = flowloop::run(ceiling_ns(config.clone(), items))??;
    let cpu1 = flowloop::run(server_cpu_us(config.clone()))??;
    let exe = std::env::current_exe()?;
    let mut children: Vec<Child> = (0..workers)
        .map(|_| {
            Command::new(&exe)
                .args(["--worker", &url, "--bundle", &bundle.to_string()])
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let (per_item, mut latencies) = flowloop::run(pipeline(config.clone(), items, bundle))??;
    for c in &mut children {
        c.wait()?;
    }
    let cpu2 = flowloop::run(server_cpu_us(config.clone()))??;
    let (cpu_ceiling, cpu_flow) = ((cpu1 - cpu0) / items as f64, (cpu2 - cpu1) / items as f64);
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64 / 1e6;
    println!(
        "redis_pipeline_{workers}w flowloop_ns={per_item:.0} ceiling_ns={ceiling:.0} ratio={:.2} p50_ms={:.2} p99_ms={:.2}",
        per_item / ceiling,
        pct(0.50),
        pct(0.99)
    );
    // Server CPU time per item (user + sys, not wall clock, so other load on the machine
    // hardly moves it): what the pipeline costs Redis beside one pipelined XADD.
    println!(
        "redis_pipeline_{workers}w_server_cpu flowloop_ns={:.0} ceiling_ns={:.0} ratio={:.2}",
        cpu_flow * 1e3,
        cpu_ceiling * 1e3,
        cpu_flow / cpu_ceiling
    );
    Ok(())
}

/// The server's CPU time so far (user + sys), in microseconds, from `INFO cpu`.
async fn server_cpu_us(config: Config) -> Result<f64, Box<dyn std::error::Error>> {
    let info = Client::new(config).call(&Cmd::new("INFO").arg("cpu")).await?;
    let text = info.as_str().unwrap_or_default().to_string();
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    Ok((field("used_cpu_user:") + field("used_cpu_sys:")) * 1e6)
}

/// ns per XADD when `items` XADDs go in pipelines of 1000 on one connection.
async fn ceiling_ns(config: Config, items: u64) -> Result<f64, Box<dyn std::error::Error>> {
    let mut client = Client::new(config);
    let key = format!("throughput-ceiling-{}", std::process::id());
    let payload = serde_json::to_vec(&(0u64, now_ns()))?;
    let start = Instant::now();
    let mut sent = 0;
    while sent < items {
        let n = (items - sent).min(1000);
        let cmds: Vec<Cmd> = (0..n)
            .map(|_| Cmd::new("XADD").arg(&key).arg("*").arg("d").arg(&payload))
            .collect();
        client.pipeline(&cmds).await?;
        sent += n;
    }
    let ns = start.elapsed().as_nanos() as f64 / items as f64;
    client.call(&Cmd::new("DEL").arg(&key)).await?;
    Ok(ns)
}

/// Feeds `items` stamped entries and reads the output as it is produced.
async fn pipeline(config: Config, items: u64, bundle: usize) -> Result<(f64, Vec<u64>), Box<dyn std::error::Error>> {
    let settings = RunSettings {
        bundle,
        batch: 1024,
        ..RunSettings::default()
    };
    let mut run = RedisRun::start(config, &flow(), settings).await?;
    let mut reader = run.reader("out")?;
    let start = Instant::now();
    let feeder = flowloop::spawn(async move {
        let mut seq = 0;
        while seq < items {
            let n = (items - seq).min(1024);
            let batch: Vec<Rc<[u8]>> = (seq..seq + n)
                .map(|i| Rc::from(serde_json::to_vec(&(i, now_ns())).expect("tuples serialize")))
                .collect();
            run.feed_raw("in", &batch).await?;
            seq += n;
        }
        run.end("in").await?;
        run.wait(None).await?;
        Ok::<_, flowloop_redis::RunError>(())
    })
    .await;
    let mut latencies = Vec::with_capacity(items as usize);
    while let Some(batch) = reader.next_batch(Duration::from_millis(100)).await? {
        let now = now_ns();
        for raw in batch {
            let (_, sent): (u64, u64) = serde_json::from_slice(&raw)?;
            latencies.push(now.saturating_sub(sent));
        }
    }
    let per_item = start.elapsed().as_nanos() as f64 / items as f64;
    feeder.join().await.map_err(|e| e.to_string())??;
    if latencies.len() as u64 != items {
        return Err(format!("fed {items} items but read {} outputs", latencies.len()).into());
    }
    Ok((per_item, latencies))
}
