//! The loop of one `each` processor in one worker: read, handle, commit (fenced), reclaim.
//!
//! States of the loop, per iteration:
//! - **Recovering** (at start and after a lost connection): read this consumer's own pending
//!   entries (`XREADGROUP ... 0`) from a cursor per input until none are left, so entries
//!   delivered in a reply that was lost are handled.
//! - **Reading**: `XREADGROUP ... >` with `BLOCK` (short while an end marker is held).
//! - Every half lease: **reclaim** entries of consumers whose lease expired.
//! - Handled entries are committed per input with the `commit` script; a `FULL` reply keeps
//!   the results and retries after a pause (backpressure); fenced entries are dropped.
//! - End markers are held until the `eos` script accepts them (`WAIT` means other entries of
//!   that input are still pending somewhere). `DONE` or the processor's `done` flag ends the
//!   loop, as does a shutdown (after the batch in hand is committed).

use std::rc::Rc;
use std::time::Duration;

use super::shared::{Backoff, Every, RunContext, output_index};
use crate::error::RunError;
use crate::inproc::check_outputs;
use crate::names::{ProcessorName, StreamName};
use crate::processor::{EachFn, Item, Outputs, Processor};
use crate::protocol::{self, Body, Entry, parse_read};
use crate::resp::{Client, Cmd, Reply, RespError};

/// Where a read starts: own pending history, or new entries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadMode {
    /// Reading own pending entries after these ids (one per input).
    Recovering(Vec<String>),
    /// Reading new entries.
    Reading,
}

pub(crate) struct Consumer {
    ctx: RunContext,
    name: ProcessorName,
    inputs: Vec<StreamName>,
    outputs: Vec<StreamName>,
    f: EachFn,
    reader: Client,
    client: Client,
    mode: ReadMode,
    held: Vec<(usize, String)>,
    finished: bool,
}

/// One output entry of a commit: output index from 1, stream field (`d` or `b`), value.
type OutEntry = (usize, &'static str, Vec<u8>);

/// Entries of one input handled and waiting for their commit.
struct Handled {
    input: usize,
    entries: Vec<(String, Vec<OutEntry>)>,
}

impl Consumer {
    pub fn new(ctx: RunContext, p: &Processor, f: EachFn) -> Consumer {
        let inputs = p.inputs().to_vec();
        Consumer {
            reader: ctx.client(),
            client: ctx.client(),
            name: p.name().clone(),
            mode: ReadMode::Recovering(vec!["0".into(); inputs.len()]),
            inputs,
            outputs: p.outputs().to_vec(),
            f,
            held: Vec::new(),
            finished: false,
            ctx,
        }
    }

    pub async fn run(mut self) -> Result<(), RunError> {
        let mut reclaim = Every::new(self.ctx.options.lease / 2);
        let mut check_done = Every::new(Duration::from_millis(250));
        while !self.finished && !self.ctx.leaving() {
            let mut batch = self.read().await?;
            if reclaim.due() {
                batch.extend(self.reclaim().await?);
            }
            let empty = batch.is_empty();
            self.process(batch).await?;
            self.settle_markers().await?;
            if (empty || check_done.due()) && self.done_elsewhere().await? {
                break;
            }
        }
        Ok(())
    }

    fn group(&self) -> &str {
        self.name.as_str()
    }

    /// One read, by mode. A lost connection switches to recovering.
    async fn read(&mut self) -> Result<Vec<(usize, Entry)>, RunError> {
        let keys: Vec<String> = self.inputs.iter().map(|s| self.ctx.keys.stream(s.as_str())).collect();
        let mut cmd = Cmd::new("XREADGROUP").arg("GROUP").arg(self.group()).arg(&self.ctx.me);
        cmd = cmd.arg("COUNT").int(self.ctx.options.batch as i64);
        if self.mode == ReadMode::Reading {
            let block = if self.held.is_empty() {
                self.ctx.options.block
            } else {
                Duration::from_millis(5)
            };
            cmd = cmd.arg("BLOCK").int(block.as_millis().max(1) as i64);
        }
        cmd = cmd.arg("STREAMS").args(&keys);
        cmd = match &self.mode {
            ReadMode::Reading => cmd.args(keys.iter().map(|_| ">")),
            ReadMode::Recovering(cursors) => cmd.args(cursors),
        };
        let reply = match self.reader.call(&cmd).await {
            Err(e) if e.is_connection() => {
                self.mode = ReadMode::Recovering(vec!["0".into(); self.inputs.len()]);
                return Ok(Vec::new());
            }
            other => other?.check("XREADGROUP")?,
        };
        let mut out = Vec::new();
        for (key, entries) in parse_read(reply) {
            let Some(i) = keys.iter().position(|k| *k == key) else {
                continue;
            };
            out.extend(entries.into_iter().map(|e| (i, e)));
        }
        self.advance(&out);
        Ok(out)
    }

    fn advance(&mut self, read: &[(usize, Entry)]) {
        let ReadMode::Recovering(cursors) = &mut self.mode else {
            return;
        };
        if read.is_empty() {
            self.mode = ReadMode::Reading;
            return;
        }
        for (i, e) in read {
            cursors[*i] = e.id.clone();
        }
    }

    async fn reclaim(&mut self) -> Result<Vec<(usize, Entry)>, RunError> {
        let mut out = Vec::new();
        for (i, input) in self.inputs.iter().enumerate() {
            let keys = vec![
                self.ctx.keys.meta(),
                self.ctx.keys.stream(input.as_str()),
                self.ctx.keys.dlq(),
            ];
            let args = vec![
                self.group().as_bytes().to_vec(),
                self.ctx.me.as_bytes().to_vec(),
                self.ctx.keys.lease_prefix().into_bytes(),
                b"1000".to_vec(),
                self.ctx.flow.max_deliveries().to_string().into_bytes(),
                input.as_str().as_bytes().to_vec(),
            ];
            for raw in self.client.eval(&protocol::RECLAIM, &keys, &args).await?.into_items() {
                let deliveries = raw.items().get(2).and_then(Reply::as_int).unwrap_or(1) as u32;
                if let Some(mut e) = Entry::parse(raw) {
                    e.deliveries = deliveries;
                    out.push((i, e));
                }
            }
        }
        self.ctx.report.borrow_mut().reclaimed += out.len() as u64;
        Ok(out)
    }

    async fn process(&mut self, batch: Vec<(usize, Entry)>) -> Result<(), RunError> {
        let mut handled: Vec<Handled> = (0..self.inputs.len())
            .map(|input| Handled {
                input,
                entries: Vec::new(),
            })
            .collect();
        for (i, entry) in batch {
            match entry.body {
                Body::End => self.held.push((i, entry.id)),
                Body::Data(payload) => {
                    if let Some(out) = self
                        .handle(i, &entry.id, payload, Attempt::plain(entry.deliveries))
                        .await?
                    {
                        let out = out
                            .items
                            .into_iter()
                            .map(|(s, v)| (output_index(&self.outputs, &s), "d", v));
                        handled[i].entries.push((entry.id, out.collect()));
                    }
                }
                Body::Bundle(items) => {
                    if let Some(out) = self.handle_bundle(i, &entry.id, items, entry.deliveries).await? {
                        handled[i].entries.push((entry.id, out));
                    }
                }
                Body::Gone => {}
            }
        }
        for h in handled.into_iter().filter(|h| !h.entries.is_empty()) {
            self.commit(h).await?;
        }
        Ok(())
    }

    /// Handles every value of a bundle entry; its outputs become one bundle per output
    /// stream. A value that keeps failing goes to the dead-letter stream alone; `None` when
    /// the entry was reclaimed meanwhile (nothing of it is committed here then).
    async fn handle_bundle(
        &mut self,
        i: usize,
        id: &str,
        items: Vec<Rc<[u8]>>,
        deliveries: u32,
    ) -> Result<Option<Vec<OutEntry>>, RunError> {
        let mut per_output: Vec<Vec<Vec<u8>>> = vec![Vec::new(); self.outputs.len()];
        for (slot, payload) in items.into_iter().enumerate() {
            match self
                .handle(i, id, payload, Attempt::in_bundle(slot, deliveries))
                .await?
            {
                Some(out) => {
                    for (stream, value) in out.items {
                        per_output[output_index(&self.outputs, &stream) - 1].push(value);
                    }
                }
                None if self.still_mine(i, id).await? => {} // dead-lettered alone
                None => return Ok(None),
            }
        }
        let entries = per_output.into_iter().enumerate().filter(|(_, v)| !v.is_empty());
        let out = entries.map(|(j, values)| {
            (
                j + 1,
                protocol::BUNDLE_FIELD,
                protocol::bundle(values.iter().map(|v| &v[..])),
            )
        });
        Ok(Some(out.collect()))
    }

    /// Whether entry `id` of input `i` is still pending for this consumer.
    async fn still_mine(&mut self, i: usize, id: &str) -> Result<bool, RunError> {
        let key = self.ctx.keys.stream(self.inputs[i].as_str());
        let cmd = Cmd::new("XPENDING")
            .arg(key)
            .arg(self.group())
            .arg(id)
            .arg(id)
            .arg("1")
            .arg(&self.ctx.me);
        Ok(!self
            .client
            .call_retrying(&cmd)
            .await?
            .check("XPENDING")?
            .items()
            .is_empty())
    }

    /// Runs the handler, retrying through the `fail` script; `None` when the value went to
    /// the dead-letter stream or its entry was reclaimed meanwhile.
    async fn handle(
        &mut self,
        i: usize,
        id: &str,
        payload: Rc<[u8]>,
        mut attempt: Attempt,
    ) -> Result<Option<Outputs>, RunError> {
        loop {
            let deliveries = attempt.deliveries;
            let item = Item::new(self.inputs[i].clone(), payload.clone(), deliveries);
            let error = match (self.f)(item, self.ctx.context(&self.name)).await {
                Ok(out) => match check_outputs(&self.name, &self.outputs, &out) {
                    Ok(()) => return Ok(Some(out)),
                    Err(e) => e.to_string(),
                },
                Err(e) => e.0,
            };
            let reply = self.fail(i, id, &payload, &error, &attempt).await?;
            let items = reply.into_items();
            match (
                items.first().and_then(Reply::as_str),
                items.get(1).and_then(Reply::as_int),
            ) {
                (Some("RETRY"), Some(n)) => attempt.deliveries = n as u32,
                _ => return Ok(None),
            }
            flowloop::sleep(Duration::from_millis(u64::from(attempt.deliveries.min(10)))).await;
        }
    }

    async fn fail(
        &mut self,
        i: usize,
        id: &str,
        payload: &[u8],
        error: &str,
        attempt: &Attempt,
    ) -> Result<Reply, RespError> {
        let input = self.inputs[i].as_str();
        let keys = vec![self.ctx.keys.meta(), self.ctx.keys.stream(input), self.ctx.keys.dlq()];
        let mut args = vec![
            self.group().as_bytes().to_vec(),
            self.ctx.me.as_bytes().to_vec(),
            input.as_bytes().to_vec(),
            id.as_bytes().to_vec(),
            self.ctx.flow.max_deliveries().to_string().into_bytes(),
            error.as_bytes().to_vec(),
            payload.to_vec(),
        ];
        match attempt.slot {
            Some(slot) => args.extend([
                slot.to_string().into_bytes(),
                attempt.deliveries.to_string().into_bytes(),
            ]),
            None => args.extend([Vec::new(), Vec::new()]),
        }
        self.client.eval(&protocol::FAIL, &keys, &args).await
    }

    /// Commits one input's handled entries; waits while an output is at its cap.
    async fn commit(&mut self, h: Handled) -> Result<(), RunError> {
        let input = self.inputs[h.input].as_str();
        let mut keys = vec![self.ctx.keys.meta(), self.ctx.keys.stream(input)];
        keys.extend(self.outputs.iter().map(|o| self.ctx.keys.stream(o.as_str())));
        let (low, high) = id_range(h.entries.iter().map(|(id, _)| id.as_str()));
        let mut args: Vec<Vec<u8>> = vec![self.group().into(), self.ctx.me.as_str().into(), input.into()];
        args.extend([low.into_bytes(), high.into_bytes()]);
        args.push(self.outputs.len().to_string().into_bytes());
        args.extend(self.outputs.iter().map(|o| o.as_str().as_bytes().to_vec()));
        for (id, out) in h.entries {
            args.push(id.into_bytes());
            args.push(out.len().to_string().into_bytes());
            for (index, field, value) in out {
                args.extend([index.to_string().into_bytes(), field.as_bytes().to_vec(), value]);
            }
        }
        let mut backoff = Backoff::new(Duration::from_micros(500), Duration::from_millis(20));
        loop {
            let items = self.client.eval(&protocol::COMMIT, &keys, &args).await?.into_items();
            if items.first().and_then(Reply::as_str) == Some("OK") {
                let mut report = self.ctx.report.borrow_mut();
                report.committed += items.get(1).and_then(Reply::as_int).unwrap_or(0) as u64;
                report.fenced += items.get(2).and_then(Reply::as_int).unwrap_or(0) as u64;
                return Ok(());
            }
            if self.ctx.over.get() {
                return Ok(());
            }
            backoff.wait().await; // FULL: an output is at its cap
        }
    }

    /// Offers held end markers to the `eos` script.
    async fn settle_markers(&mut self) -> Result<(), RunError> {
        let mut still = Vec::new();
        for (i, id) in std::mem::take(&mut self.held) {
            match self.offer_marker(i, &id).await?.as_str() {
                Some("WAIT") => still.push((i, id)),
                Some("DONE") => self.finished = true,
                _ => {}
            }
        }
        self.held = still;
        Ok(())
    }

    async fn offer_marker(&mut self, i: usize, id: &str) -> Result<Reply, RespError> {
        let input = self.inputs[i].as_str();
        let mut keys = vec![self.ctx.keys.meta(), self.ctx.keys.stream(input)];
        keys.extend(self.outputs.iter().map(|o| self.ctx.keys.stream(o.as_str())));
        let mut args: Vec<Vec<u8>> = vec![
            self.group().into(),
            self.ctx.me.as_str().into(),
            input.into(),
            id.into(),
        ];
        args.push(self.inputs.len().to_string().into_bytes());
        args.extend(self.inputs.iter().map(|s| s.as_str().as_bytes().to_vec()));
        args.push(self.outputs.len().to_string().into_bytes());
        args.extend(self.outputs.iter().map(|s| s.as_str().as_bytes().to_vec()));
        self.client.eval(&protocol::EOS, &keys, &args).await
    }

    async fn done_elsewhere(&mut self) -> Result<bool, RunError> {
        let cmd = Cmd::new("HEXISTS")
            .arg(self.ctx.keys.meta())
            .arg(format!("done:{}", self.name));
        Ok(self.client.call_retrying(&cmd).await?.as_int() == Some(1))
    }
}

/// Which delivery of a value the handler sees, and where the value sits.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// Its index in a bundle entry (`None`: the entry holds one value).
    slot: Option<usize>,
    /// Deliveries so far (for a bundle value: the entry's deliveries plus this value's
    /// retries, so each value of a bundle gets its own `max_deliveries` tries).
    deliveries: u32,
}

impl Attempt {
    fn plain(deliveries: u32) -> Attempt {
        Attempt { slot: None, deliveries }
    }

    fn in_bundle(slot: usize, deliveries: u32) -> Attempt {
        Attempt {
            slot: Some(slot),
            deliveries,
        }
    }
}

/// A stream id as `(milliseconds, sequence)`, for ordering.
fn id_key(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// The lowest and highest of `ids` (non-empty).
fn id_range<'a>(ids: impl Iterator<Item = &'a str>) -> (String, String) {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_by_key(|id| id_key(id));
    let low = ids.first().map(|s| s.to_string()).unwrap_or_else(|| "0-0".to_string());
    let high = ids.last().map(|s| s.to_string()).unwrap_or_else(|| "0-0".to_string());
    (low, high)
}
