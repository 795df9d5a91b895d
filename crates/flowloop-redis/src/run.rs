//! The caller's side of a run on Redis: start it, feed inputs, read outputs, wait, inspect.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::RunError;
use crate::flow::Flow;
use crate::io::{DeadLetter, FlowInputs, RunOutputs};
use crate::names::StreamName;
use crate::processor::encode;
use crate::protocol::{self, Body, Entry, Keys};
use crate::resp::{Client, Cmd, Config, Reply};

mod stats;

pub use stats::StreamStats;

/// Settings of a run started or attached from this process.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// The run id (generated when `None`).
    pub run_id: Option<String>,
    /// Lease of this process as the producer of the flow inputs; if it dies without ending an
    /// input, waiting parties report [`RunError::ProducerLost`] after about this long.
    pub lease: Duration,
    /// How long the run's keys live after it finished.
    pub expire_after: Duration,
    /// How often [`RedisRun::wait`] polls the run's state.
    pub poll: Duration,
    /// Values per `push` script call while feeding (with bundles: `batch / bundle` entries
    /// per call, at least one).
    pub batch: usize,
    /// Values per entry of the flow inputs this process feeds (1: one entry per value). Above
    /// 1, up to this many values travel as one bundle entry, and `each` processors commit the
    /// outputs of a bundle as one bundle entry per output stream, which divides Redis's work
    /// per value (reads, acks, appends) by the bundle size. Caps, lag and pending then count
    /// entries (bundles), and a bundle is delivered, reclaimed and fenced as a whole; a value
    /// that keeps failing still goes to the dead-letter stream alone. 0 counts as 1.
    pub bundle: usize,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            run_id: None,
            lease: Duration::from_secs(2),
            expire_after: Duration::from_secs(600),
            poll: Duration::from_millis(10),
            batch: 256,
            bundle: 1,
        }
    }
}

/// A flow run on Redis, seen from the process that started (or attached to) it.
#[derive(Debug)]
pub struct RedisRun {
    client: Client,
    flow: Flow,
    run: String,
    me: String,
    keys: Keys,
    settings: RunSettings,
    seqs: BTreeMap<StreamName, u64>,
    renewing: Option<Rc<Cell<bool>>>,
}

/// `push` calls sent in one pipeline while feeding.
const PIPELINED_PUSHES: usize = 4;

pub(crate) fn unique_id(prefix: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{prefix}-{}-{ms}-{:08x}", std::process::id(), fastrand::u32(..))
}

impl RedisRun {
    /// Starts a run of `flow`: creates its consumer groups and meta data, takes the producer
    /// lease of every flow input, and announces the run to workers.
    ///
    /// # Errors
    /// Redis errors.
    pub async fn start(config: Config, flow: &Flow, settings: RunSettings) -> Result<RedisRun, RunError> {
        let run = settings.run_id.clone().unwrap_or_else(|| unique_id(flow.name()));
        let mut me = RedisRun::attach(config, flow, &run, settings).await?;
        me.create().await?;
        me.start_renewing();
        Ok(me)
    }

    /// Attaches to an existing run (to read its outputs, wait for it, or feed an input whose
    /// producer this process becomes).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn attach(config: Config, flow: &Flow, run: &str, settings: RunSettings) -> Result<RedisRun, RunError> {
        let mut client = Client::new(config);
        client.connect().await?;
        Ok(RedisRun {
            client,
            flow: flow.clone(),
            run: run.to_string(),
            me: unique_id("producer"),
            keys: Keys::new(run),
            settings,
            seqs: BTreeMap::new(),
            renewing: None,
        })
    }

    /// The run id (workers and other processes attach with it).
    pub fn id(&self) -> &str {
        &self.run
    }

    /// The Redis key names of this run.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    async fn create(&mut self) -> Result<(), RunError> {
        let meta = self.keys.meta();
        let procs: Vec<&str> = self.flow.processors().iter().map(|p| p.name().as_str()).collect();
        let mut hset = Cmd::new("HSET")
            .arg(&meta)
            .arg("flow")
            .arg(self.flow.name())
            .arg("state")
            .arg("running");
        hset = hset.arg("procs").arg(procs.join(","));
        let mut cmds = Vec::new();
        for (name, info) in self.flow.streams() {
            let groups: Vec<&str> = info
                .consumers
                .iter()
                .map(|c| self.flow.processor(*c))
                .filter(|p| p.acks_entries())
                .map(|p| p.name().as_str())
                .collect();
            hset = hset.arg(format!("groups:{name}")).arg(groups.join(","));
            hset = hset.arg(format!("cap:{name}")).int(info.cap.unwrap_or(0) as i64);
            for g in groups {
                cmds.push(
                    Cmd::new("XGROUP")
                        .arg("CREATE")
                        .arg(self.keys.stream(name.as_str()))
                        .arg(g)
                        .arg("0")
                        .arg("MKSTREAM"),
                );
            }
        }
        for input in self.flow.inputs() {
            hset = hset.arg(format!("producer:{input}")).arg(&self.me);
        }
        cmds.insert(0, hset);
        let lease_ms = self.settings.lease.as_millis() as i64;
        cmds.push(
            Cmd::new("SET")
                .arg(self.keys.lease(&self.me))
                .arg("1")
                .arg("PX")
                .int(lease_ms),
        );
        cmds.push(
            Cmd::new("XADD")
                .arg(protocol::RUNS)
                .arg("MAXLEN")
                .arg("~")
                .arg("10000")
                .arg("*")
                .arg("run")
                .arg(&self.run)
                .arg("flow")
                .arg(self.flow.name()),
        );
        for reply in self.client.pipeline(&cmds).await? {
            reply.check("start run")?;
        }
        Ok(())
    }

    fn start_renewing(&mut self) {
        let stop = Rc::new(Cell::new(false));
        self.renewing = Some(stop.clone());
        let mut client = Client::new(self.client.config().clone());
        let (keys, me, lease) = (
            vec![self.keys.meta(), self.keys.lease(&self.me)],
            self.me.clone(),
            self.settings.lease,
        );
        let job = async move {
            while !stop.get() {
                let args = vec![me.clone().into_bytes(), lease.as_millis().to_string().into_bytes()];
                let _ = client.eval(&protocol::RENEW, &keys, &args).await;
                flowloop::sleep(lease / 4).await;
            }
        };
        // The task ends when `stop` is set (on `Drop` or once every input ended).
        drop(flowloop::spawn(job));
    }

    /// Appends `values` to flow input `stream`, waiting while the stream is at its cap.
    ///
    /// # Errors
    /// [`RunError::UnknownInput`], serialization and Redis errors.
    pub async fn feed<T: Serialize>(&mut self, stream: &str, values: &[T]) -> Result<(), RunError> {
        let payloads = values
            .iter()
            .map(|v| encode(stream, v).map(Rc::from))
            .collect::<Result<Vec<Rc<[u8]>>, _>>()
            .map_err(|e| RunError::Decode {
                stream: stream.into(),
                message: e.0,
            })?;
        self.feed_raw(stream, &payloads).await
    }

    /// [`RedisRun::feed`] with payloads that are already JSON.
    ///
    /// # Errors
    /// [`RunError::UnknownInput`] and Redis errors.
    pub async fn feed_raw(&mut self, stream: &str, payloads: &[Rc<[u8]>]) -> Result<(), RunError> {
        let name = self.input(stream)?;
        let size = self.settings.bundle.max(1);
        let mut sent = 0;
        let mut backoff = Duration::from_micros(200);
        while sent < payloads.len() {
            let seq0 = self.seqs.get(&name).copied().unwrap_or(0) + 1;
            let window_len = PIPELINED_PUSHES * self.settings.batch.max(size);
            let window = &payloads[sent..(sent + window_len).min(payloads.len())];
            let entries = Entries::of(window, size);
            let done = self.push_window(stream, seq0, &entries).await?;
            sent += (done * size).min(window.len());
            *self.seqs.entry(name.clone()).or_insert(0) += done as u64;
            if done < entries.values.len() {
                flowloop::sleep(backoff).await; // at the cap: wait for consumers
                backoff = (backoff * 2).min(Duration::from_millis(20));
            } else {
                backoff = Duration::from_micros(200);
            }
        }
        Ok(())
    }

    /// Sends `entries` as several `push` calls in one pipeline; returns how many entries were
    /// accepted (a prefix: `push` refuses everything after a gap).
    async fn push_window(&mut self, stream: &str, seq0: u64, entries: &Entries) -> Result<usize, RunError> {
        let keys = vec![self.keys.meta(), self.keys.stream(stream)];
        let per_call = (self.settings.batch / self.settings.bundle.max(1)).max(1);
        let calls: Vec<(Vec<String>, Vec<Vec<u8>>)> = entries
            .values
            .chunks(per_call)
            .enumerate()
            .map(|(i, chunk)| {
                let first = seq0 + (i * per_call) as u64;
                let mut args = vec![stream.into(), entries.field.into(), first.to_string().into_bytes()];
                args.extend(chunk.iter().cloned());
                (keys.clone(), args)
            })
            .collect();
        let replies = self.client.eval_many(&protocol::PUSH, &calls).await?;
        Ok(replies.iter().map(|r| r.as_int().unwrap_or(0) as usize).sum())
    }

    /// Ends flow input `stream` (writes its end-of-stream marker).
    ///
    /// # Errors
    /// [`RunError::UnknownInput`] and Redis errors.
    pub async fn end(&mut self, stream: &str) -> Result<(), RunError> {
        self.input(stream)?;
        let keys = vec![self.keys.meta(), self.keys.stream(stream)];
        let args = vec![stream.as_bytes().to_vec(), self.me.as_bytes().to_vec()];
        self.client.eval(&protocol::END, &keys, &args).await?;
        Ok(())
    }

    /// Feeds every input of `inputs` and ends every flow input.
    ///
    /// # Errors
    /// As [`RedisRun::feed_raw`].
    pub async fn feed_all(&mut self, inputs: &FlowInputs) -> Result<(), RunError> {
        inputs.check(&self.flow)?;
        for stream in self.flow.inputs().to_vec() {
            self.feed_raw(stream.as_str(), &inputs.values(&stream)).await?;
            self.end(stream.as_str()).await?;
        }
        if let Some(stop) = &self.renewing {
            stop.set(true);
        }
        Ok(())
    }

    fn input(&self, stream: &str) -> Result<StreamName, RunError> {
        let name = StreamName::from(stream);
        if self.flow.inputs().contains(&name) {
            return Ok(name);
        }
        Err(RunError::UnknownInput {
            flow: self.flow.name().to_string(),
            stream: name,
            known: self.flow.inputs().iter().map(|s| s.to_string()).collect(),
        })
    }

    /// A reader of output stream `stream` from its first entry, on a new connection.
    ///
    /// # Errors
    /// [`RunError::UnknownOutput`] when `stream` is not a flow output.
    pub fn reader(&self, stream: &str) -> Result<OutputReader, RunError> {
        let name = StreamName::from(stream);
        if !self.flow.outputs().contains(&name) {
            return Err(RunError::UnknownOutput {
                flow: self.flow.name().to_string(),
                stream: name,
                known: self.flow.outputs().iter().map(|s| s.to_string()).collect(),
            });
        }
        Ok(OutputReader {
            client: Client::new(self.client.config().clone()),
            key: self.keys.stream(stream),
            stream: name,
            last: "0".to_string(),
            ended: false,
        })
    }

    /// Waits until every processor is done, then gives every key of the run a TTL.
    ///
    /// # Errors
    /// [`RunError::ProducerLost`] when the producer of an unfinished input lost its lease
    /// (the run is marked failed so workers leave it); [`RunError::Timeout`] after `limit`;
    /// [`RunError::NoSuchRun`] when the run's keys are gone.
    pub async fn wait(&mut self, limit: Option<Duration>) -> Result<(), RunError> {
        let start = Instant::now();
        loop {
            let unfinished = self.unfinished().await?;
            if unfinished.is_empty() {
                return self.expire().await;
            }
            self.check_producers().await?;
            if let Some(limit) = limit.filter(|l| start.elapsed() > *l) {
                return Err(RunError::Timeout {
                    run: self.run.clone(),
                    seconds: limit.as_secs_f64(),
                    unfinished,
                });
            }
            flowloop::sleep(self.settings.poll).await;
        }
    }

    async fn unfinished(&mut self) -> Result<Vec<String>, RunError> {
        let mut cmd = Cmd::new("HMGET").arg(self.keys.meta()).arg("flow");
        let procs: Vec<String> = self.flow.processors().iter().map(|p| p.name().to_string()).collect();
        cmd = cmd.args(procs.iter().map(|p| format!("done:{p}")));
        let reply = self.client.call_retrying(&cmd).await?.check("HMGET")?;
        let items = reply.into_items();
        if items.first().is_none_or(|f| *f == Reply::Nil) {
            return Err(RunError::NoSuchRun { run: self.run.clone() });
        }
        Ok(procs
            .into_iter()
            .zip(items.into_iter().skip(1))
            .filter(|(_, r)| *r == Reply::Nil)
            .map(|(p, _)| p)
            .collect())
    }

    async fn check_producers(&mut self) -> Result<(), RunError> {
        for input in self.flow.inputs().to_vec() {
            let cmd = Cmd::new("HMGET")
                .arg(self.keys.meta())
                .arg(format!("eos:{input}"))
                .arg(format!("producer:{input}"));
            let items = self.client.call_retrying(&cmd).await?.check("HMGET")?.into_items();
            let (Some(Reply::Nil), Some(producer)) = (items.first(), items.get(1).and_then(|p| p.as_str())) else {
                continue;
            };
            let producer = producer.to_string();
            let alive = self
                .client
                .call_retrying(&Cmd::new("EXISTS").arg(self.keys.lease(&producer)))
                .await?;
            if alive.as_int() == Some(0) {
                let mark = Cmd::new("HSET")
                    .arg(self.keys.meta())
                    .arg("state")
                    .arg(format!("failed: producer of {input} lost"));
                self.client.call_retrying(&mark).await?;
                return Err(RunError::ProducerLost {
                    stream: input,
                    producer,
                });
            }
        }
        Ok(())
    }

    async fn expire(&mut self) -> Result<(), RunError> {
        let ms = self.settings.expire_after.as_millis() as i64;
        let mut cmds = vec![Cmd::new("HSET").arg(self.keys.meta()).arg("state").arg("done")];
        let mut keys = vec![self.keys.meta(), self.keys.dlq()];
        keys.extend(self.flow.streams().keys().map(|s| self.keys.stream(s.as_str())));
        cmds.extend(keys.iter().map(|k| Cmd::new("PEXPIRE").arg(k).int(ms)));
        self.client.pipeline(&cmds).await?;
        Ok(())
    }

    /// Waits for the run ([`RedisRun::wait`] without a limit) and reads every output stream
    /// and the dead letters.
    ///
    /// # Errors
    /// As [`RedisRun::wait`].
    pub async fn collect(&mut self) -> Result<RunOutputs, RunError> {
        self.wait(None).await?;
        let mut streams = BTreeMap::new();
        for out in self.flow.outputs().to_vec() {
            let entries = self.read_all(&self.keys.stream(out.as_str())).await?;
            let data = entries.into_iter().flat_map(|e| e.body.payloads());
            streams.insert(out, data.collect());
        }
        let dead = self.dead_letters().await?;
        Ok(RunOutputs::new(streams, dead))
    }

    /// Every entry of Redis stream `key` (markers included), paging through `XRANGE`.
    pub(crate) async fn read_all(&mut self, key: &str) -> Result<Vec<Entry>, RunError> {
        read_all(&mut self.client, key)
            .await
            .map(|v| v.into_iter().map(|(e, _)| e).collect())
    }

    /// The entries of the run's dead-letter stream.
    ///
    /// # Errors
    /// Redis errors.
    pub async fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, RunError> {
        let raw = read_all(&mut self.client, &self.keys.dlq()).await?;
        Ok(raw.into_iter().flat_map(|(_, fields)| dead_letters(fields)).collect())
    }
}

/// The entries one window of payloads becomes: one `d` entry per value, or `b` bundles.
struct Entries {
    field: &'static str,
    values: Vec<Vec<u8>>,
}

impl Entries {
    fn of(window: &[Rc<[u8]>], size: usize) -> Entries {
        if size <= 1 {
            let values = window.iter().map(|p| p.to_vec()).collect();
            return Entries { field: "d", values };
        }
        let values = window
            .chunks(size)
            .map(|chunk| protocol::bundle(chunk.iter().map(|p| &p[..])))
            .collect();
        Entries {
            field: protocol::BUNDLE_FIELD,
            values,
        }
    }
}

/// Reads one output stream as it is produced, on its own connection (its reads block).
#[derive(Debug)]
pub struct OutputReader {
    client: Client,
    key: String,
    stream: StreamName,
    last: String,
    ended: bool,
}

impl OutputReader {
    /// The next entries (waiting up to `block` for some); `Ok(None)` once the end-of-stream
    /// marker was read, `Ok(Some(empty))` when nothing arrived in time.
    ///
    /// # Errors
    /// Redis errors (a lost connection is retried).
    pub async fn next_batch(&mut self, block: Duration) -> Result<Option<Vec<Rc<[u8]>>>, RunError> {
        if self.ended {
            return Ok(None);
        }
        let ms = block.as_millis().max(1) as i64;
        let cmd = Cmd::new("XREAD")
            .arg("COUNT")
            .arg("1024")
            .arg("BLOCK")
            .int(ms)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.last);
        let reply = self.client.call_retrying(&cmd).await?.check("XREAD")?;
        let mut out = Vec::new();
        for (_, entries) in protocol::parse_read(reply) {
            for e in entries {
                self.last = e.id;
                match e.body {
                    Body::End => self.ended = true,
                    body => out.extend(body.payloads()),
                }
            }
        }
        if self.ended && out.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// The stream being read.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }
}

impl Drop for RedisRun {
    fn drop(&mut self) {
        if let Some(stop) = &self.renewing {
            stop.set(true);
        }
    }
}

/// The dead letters of one entry of the dead-letter stream: one, or one per value of a bundle
/// that `reclaim` buried whole.
fn dead_letters(fields: Vec<(Reply, Reply)>) -> Vec<DeadLetter> {
    let bundle = fields
        .iter()
        .find(|(k, _)| k.as_str() == Some(protocol::BUNDLE_FIELD))
        .and_then(|(_, v)| match v {
            Reply::Bytes(b) => protocol::unbundle(b),
            _ => None,
        });
    let one = dead_letter(fields);
    match bundle {
        Some(values) => values
            .into_iter()
            .map(|v| DeadLetter {
                payload: v.to_vec(),
                ..one.clone()
            })
            .collect(),
        None => vec![one],
    }
}

fn dead_letter(fields: Vec<(Reply, Reply)>) -> DeadLetter {
    let mut d = DeadLetter {
        processor: "".into(),
        stream: "".into(),
        payload: Vec::new(),
        error: String::new(),
        deliveries: 0,
    };
    for (k, v) in fields {
        let text = v.as_str().unwrap_or_default().to_string();
        match k.as_str() {
            Some("processor") => d.processor = text.into(),
            Some("stream") => d.stream = text.into(),
            Some("error") => d.error = text,
            Some("deliveries") => d.deliveries = v.as_int().unwrap_or(0) as u32,
            Some("d" | "b") => d.payload = text.into_bytes(),
            _ => {}
        }
    }
    d
}

/// Every entry of `key` with its raw fields, paging through `XRANGE` 1000 at a time.
pub(crate) async fn read_all(client: &mut Client, key: &str) -> Result<Vec<(Entry, Vec<(Reply, Reply)>)>, RunError> {
    let mut out = Vec::new();
    let mut from = "-".to_string();
    loop {
        let cmd = Cmd::new("XRANGE").arg(key).arg(&from).arg("+").arg("COUNT").arg("1000");
        let page = client.call_retrying(&cmd).await?.check("XRANGE")?.into_items();
        let n = page.len();
        for raw in page {
            let fields = raw.items().get(1).cloned().unwrap_or(Reply::Nil).pairs();
            if let Some(e) = Entry::parse(raw) {
                from = format!("({}", e.id);
                out.push((e, fields));
            }
        }
        if n < 1000 {
            return Ok(out);
        }
    }
}
