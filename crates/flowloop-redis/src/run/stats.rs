//! Lag and pending counts of a run's streams, per consuming processor.

use crate::error::RunError;
use crate::names::StreamName;
use crate::protocol;
use crate::resp::{Cmd, Reply};

use super::RedisRun;

/// Per-stream counters of a running flow (for dashboards): for each consuming processor,
/// entries not yet delivered (`lag`) and delivered but not finished (`pending`). On Redis an
/// `each` processor finishes an entry when it acknowledges it, a `wait` or stream processor
/// finishes everything it read when it ends; in-process a stream processor finishes an entry
/// when it asks for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStats {
    /// The flow stream.
    pub stream: StreamName,
    /// Entries currently in the Redis stream.
    pub length: u64,
    /// The consuming processor: the consumer group of an `each` processor, or a `wait` or
    /// stream processor (which reads under a lock, without a group).
    pub group: String,
    /// Entries not yet delivered to the group (`None` when Redis cannot tell).
    pub lag: Option<u64>,
    /// Entries delivered to the group and not yet acknowledged.
    pub pending: u64,
}

impl RedisRun {
    /// Lag and pending counts of every consumer of every stream of the run (the same
    /// [`StreamStats`] as [`crate::InProcess::stats`]): one row per consumer group (an `each`
    /// processor), and one per `wait` or stream processor, which read their inputs whole under
    /// a lock: their `lag` is the entries they have not read yet, their `pending` the entries
    /// read while they have not finished (they commit once, at their end), both 0 once done.
    /// Counts are entries, markers included (a bundle is one entry).
    ///
    /// # Errors
    /// Redis errors.
    pub async fn stats(&mut self) -> Result<Vec<StreamStats>, RunError> {
        let mut out = Vec::new();
        let streams: Vec<(StreamName, Vec<String>)> = self
            .flow
            .streams()
            .iter()
            .map(|(name, info)| (name.clone(), self.lock_holders(&info.consumers)))
            .collect();
        for (name, holders) in streams {
            let key = self.keys.stream(name.as_str());
            let mut counters = Cmd::new("HMGET").arg(self.keys.meta()).arg(format!("added:{name}"));
            for p in &holders {
                counters = counters
                    .arg(protocol::read_field(p, name.as_str()))
                    .arg(format!("done:{p}"));
            }
            let replies = self
                .client
                .pipeline(&[
                    Cmd::new("XLEN").arg(&key),
                    Cmd::new("XINFO").arg("GROUPS").arg(&key),
                    counters,
                ])
                .await?;
            let length = replies[0].as_int().unwrap_or(0) as u64;
            out.extend(replies[1].items().iter().map(|g| group_stats(&name, length, g.clone())));
            out.extend(lock_stats(&name, length, &holders, replies[2].items()));
        }
        Ok(out)
    }

    /// The `wait` and stream processors among `consumers`.
    fn lock_holders(&self, consumers: &[crate::flow::ProcIndex]) -> Vec<String> {
        let procs = consumers.iter().map(|c| self.flow.processor(*c));
        procs
            .filter(|p| !p.acks_entries())
            .map(|p| p.name().to_string())
            .collect()
    }
}

/// Rows of the `wait` and stream processors `holders` reading stream `stream`, from the
/// meta fields `added:<stream>`, then `read:<p>:<stream>` and `done:<p>` per holder.
fn lock_stats(stream: &StreamName, length: u64, holders: &[String], fields: &[Reply]) -> Vec<StreamStats> {
    let added = fields.first().and_then(Reply::as_int).unwrap_or(0) as u64;
    let per_holder = fields.get(1..).unwrap_or_default().chunks(2);
    holders
        .iter()
        .zip(per_holder)
        .map(|(p, f)| {
            let read = (f[0].as_int().unwrap_or(0) as u64).min(added);
            let done = f.get(1).is_some_and(|d| *d != Reply::Nil);
            StreamStats {
                stream: stream.clone(),
                length,
                group: p.clone(),
                lag: Some(if done { 0 } else { added - read }),
                pending: if done { 0 } else { read },
            }
        })
        .collect()
}

fn group_stats(stream: &StreamName, length: u64, info: Reply) -> StreamStats {
    let mut s = StreamStats {
        stream: stream.clone(),
        length,
        group: String::new(),
        lag: None,
        pending: 0,
    };
    for (k, v) in info.pairs() {
        match k.as_str() {
            Some("name") => s.group = v.as_str().unwrap_or_default().to_string(),
            Some("lag") => s.lag = v.as_int().map(|n| n as u64),
            Some("pending") => s.pending = v.as_int().unwrap_or(0) as u64,
            _ => {}
        }
    }
    s
}
