//! The loop of one `wait` processor in one worker: when every input has ended, take the
//! partition lock, read the inputs whole, run the handler (up to `max_deliveries` times),
//! commit its outputs — or its dead letter — with the fenced `partition` script.

use std::time::Duration;

use super::shared::{RunContext, push_outputs};
use crate::error::RunError;
use crate::inproc::check_outputs;
use crate::processor::{Inputs, Outputs, PartitionFn, Processor};
use crate::protocol;
use crate::resp::{Client, Cmd, Reply};
use crate::run::read_all;

pub(crate) async fn serve(ctx: RunContext, p: &Processor, f: PartitionFn) -> Result<(), RunError> {
    let shared = ctx.clone();
    let job = |mut client: Client| async move { run_once(&shared, &mut client, p, &f).await };
    with_lock(&ctx, p, Start::WhenInputsEnded, job).await
}

/// When a processor that runs once may take its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Once every input has ended (a `wait` processor).
    WhenInputsEnded,
    /// At once (a stream processor reads its inputs as they grow).
    AtOnce,
}

/// Polls until the processor is done elsewhere, or this worker takes its lock and runs `job`
/// (with a client of its own); the lock is renewed with the lease meanwhile.
pub(crate) async fn with_lock<F, Fut>(ctx: &RunContext, p: &Processor, start: Start, job: F) -> Result<(), RunError>
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<(), RunError>>,
{
    let mut client = ctx.client();
    while !ctx.leaving() {
        if is_done(ctx, &mut client, p).await? {
            return Ok(());
        }
        let ready = start == Start::AtOnce || inputs_ended(ctx, &mut client, p).await?;
        if ready && lock(ctx, &mut client, p).await? {
            let result = job(client).await;
            let key = ctx.keys.plock(p.name().as_str());
            ctx.plocks.borrow_mut().retain(|k| *k != key);
            return result;
        }
        flowloop::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

pub(crate) async fn is_done(ctx: &RunContext, client: &mut Client, p: &Processor) -> Result<bool, RunError> {
    let cmd = Cmd::new("HEXISTS")
        .arg(ctx.keys.meta())
        .arg(format!("done:{}", p.name()));
    Ok(client.call_retrying(&cmd).await?.as_int() == Some(1))
}

async fn inputs_ended(ctx: &RunContext, client: &mut Client, p: &Processor) -> Result<bool, RunError> {
    let cmd = Cmd::new("HMGET")
        .arg(ctx.keys.meta())
        .args(p.inputs().iter().map(|s| format!("eos:{s}")));
    let reply = client.call_retrying(&cmd).await?.check("HMGET")?;
    Ok(reply.items().iter().all(|r| *r != Reply::Nil))
}

pub(crate) async fn lock(ctx: &RunContext, client: &mut Client, p: &Processor) -> Result<bool, RunError> {
    let key = ctx.keys.plock(p.name().as_str());
    let ms = ctx.options.lease.as_millis() as i64;
    let cmd = Cmd::new("SET").arg(&key).arg(&ctx.me).arg("NX").arg("PX").int(ms);
    let got = client.call_retrying(&cmd).await?.check("SET plock")? != Reply::Nil;
    if got {
        ctx.plocks.borrow_mut().push(key);
    }
    Ok(got)
}

async fn run_once(ctx: &RunContext, client: &mut Client, p: &Processor, f: &PartitionFn) -> Result<(), RunError> {
    let mut inputs = Inputs::default();
    for s in p.inputs() {
        let entries = read_all(client, &ctx.keys.stream(s.as_str())).await?;
        let read = Cmd::new("HSET")
            .arg(ctx.keys.meta())
            .arg(protocol::read_field(p.name().as_str(), s.as_str()))
            .int(entries.len() as i64);
        client.call_retrying(&read).await?.check("HSET")?;
        let data = entries.into_iter().flat_map(|(e, _)| e.body.payloads());
        inputs.insert(s.clone(), data.collect());
    }
    let ending = handle(ctx, p, f, inputs).await;
    commit(ctx, client, p, ending).await
}

/// How a processor that runs once (a `wait` or stream processor) ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// It succeeded with these outputs (written in the commit).
    Succeeded(Outputs),
    /// It failed: a dead letter with this error after this many attempts; its outputs end.
    Failed {
        /// The last error.
        error: String,
        /// Attempts made.
        deliveries: u32,
    },
}

/// Runs the handler up to `max_deliveries` times.
async fn handle(ctx: &RunContext, p: &Processor, f: &PartitionFn, inputs: Inputs) -> Ending {
    let mut error = String::new();
    for _ in 0..ctx.flow.max_deliveries() {
        match f(inputs.clone(), ctx.context(p.name())).await {
            Ok(out) => match check_outputs(p.name(), p.outputs(), &out) {
                Ok(()) => return Ending::Succeeded(out),
                Err(e) => error = e.to_string(),
            },
            Err(e) => error = e.0,
        }
    }
    Ending::Failed {
        error,
        deliveries: ctx.flow.max_deliveries(),
    }
}

/// The fenced commit (the `partition` script): outputs or the dead letter, end markers and
/// the `done` flag, only while this worker holds the processor's lock.
pub(crate) async fn commit(
    ctx: &RunContext,
    client: &mut Client,
    p: &Processor,
    ending: Ending,
) -> Result<(), RunError> {
    let mut keys = vec![ctx.keys.meta(), ctx.keys.plock(p.name().as_str()), ctx.keys.dlq()];
    keys.extend(p.outputs().iter().map(|o| ctx.keys.stream(o.as_str())));
    let (error, deliveries, out) = match ending {
        Ending::Succeeded(out) => (String::new(), 0, out),
        Ending::Failed { error, deliveries } => (error, deliveries, Outputs::new()),
    };
    let mut args: Vec<Vec<u8>> = vec![p.name().as_str().into(), ctx.me.as_str().into()];
    args.extend([error.into_bytes(), deliveries.to_string().into_bytes()]);
    args.push(p.outputs().len().to_string().into_bytes());
    args.extend(p.outputs().iter().map(|o| o.as_str().as_bytes().to_vec()));
    push_outputs(p.outputs(), out, &mut args);
    client.eval(&protocol::PARTITION, &keys, &args).await?;
    Ok(())
}
