//! The loop of one `wait` processor in one worker: when every input has ended, take the
//! partition lock, read the inputs whole, run the handler once, commit with the fenced
//! `partition` script.

use std::time::Duration;

use super::shared::RunContext;
use crate::error::RunError;
use crate::inproc::check_outputs;
use crate::processor::{Inputs, Outputs, PartitionFn, Processor};
use crate::protocol::{self, Body};
use crate::resp::{Client, Cmd, Reply};
use crate::run::read_all;

pub(crate) async fn serve(ctx: RunContext, p: &Processor, f: PartitionFn) -> Result<(), RunError> {
    let mut client = ctx.client();
    while !ctx.leaving() {
        if is_done(&ctx, &mut client, p).await? {
            return Ok(());
        }
        if inputs_ended(&ctx, &mut client, p).await? && lock(&ctx, &mut client, p).await? {
            let result = run_once(&ctx, &mut client, p, &f).await;
            ctx.plocks
                .borrow_mut()
                .retain(|k| *k != ctx.keys.plock(p.name().as_str()));
            return result;
        }
        flowloop::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn is_done(ctx: &RunContext, client: &mut Client, p: &Processor) -> Result<bool, RunError> {
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

async fn lock(ctx: &RunContext, client: &mut Client, p: &Processor) -> Result<bool, RunError> {
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
        let data = entries.into_iter().filter_map(|(e, _)| match e.body {
            Body::Data(d) => Some(d),
            _ => None,
        });
        inputs.insert(s.clone(), data.collect());
    }
    let out = handle(ctx, client, p, f, inputs).await?;
    let mut keys = vec![ctx.keys.meta(), ctx.keys.plock(p.name().as_str())];
    keys.extend(p.outputs().iter().map(|o| ctx.keys.stream(o.as_str())));
    let mut args: Vec<Vec<u8>> = vec![p.name().as_str().into(), ctx.me.as_str().into()];
    args.push(p.outputs().len().to_string().into_bytes());
    args.extend(p.outputs().iter().map(|o| o.as_str().as_bytes().to_vec()));
    for (stream, payload) in out.items {
        let index = p
            .outputs()
            .iter()
            .position(|o| *o == stream)
            .expect("outputs were checked")
            + 1;
        args.push(index.to_string().into_bytes());
        args.push(payload);
    }
    client.eval(&protocol::PARTITION, &keys, &args).await?;
    Ok(())
}

/// Runs the handler up to `max_deliveries` times; after that the failure goes to the
/// dead-letter stream and the processor ends its outputs empty.
async fn handle(
    ctx: &RunContext,
    client: &mut Client,
    p: &Processor,
    f: &PartitionFn,
    inputs: Inputs,
) -> Result<Outputs, RunError> {
    let mut error = String::new();
    for _ in 0..ctx.flow.max_deliveries() {
        match f(inputs.clone(), ctx.context(p.name())).await {
            Ok(out) => match check_outputs(p.name(), p.outputs(), &out) {
                Ok(()) => return Ok(out),
                Err(e) => error = e.to_string(),
            },
            Err(e) => error = e.0,
        }
    }
    let cmd = Cmd::new("XADD")
        .arg(ctx.keys.dlq())
        .arg("*")
        .arg("processor")
        .arg(p.name().as_str());
    let cmd = cmd
        .arg("stream")
        .arg("")
        .arg("error")
        .arg(&error)
        .arg("deliveries")
        .int(i64::from(ctx.flow.max_deliveries()));
    client
        .call_retrying(&cmd.arg("d").arg(""))
        .await?
        .check("XADD dead letter")?;
    Ok(Outputs::new())
}
