//! The Redis protocol: key layout and Lua scripts.
//!
//! Every key of run `R` carries the hash tag `{R}`, so a run lives in one cluster slot and
//! every script touches one slot:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `fl:{R}:meta` | hash | flow name, state, per-stream groups/cap/added/eos, per-group acked, producer ids, `done:<processor>`, `read:<processor>:<stream>` (entries a `wait` or stream processor read) |
//! | `fl:{R}:s:<stream>` | stream | entries `d=<json>`, or bundles `b=<len>:<json><len>:<json>...` (several values as one entry); the end-of-stream marker is `eos=<producer>` |
//! | `fl:{R}:dlq` | stream | dead letters: processor, stream, id, error, deliveries, d (or b: a whole bundle buried by `reclaim`) |
//! | `fl:{R}:lease:<consumer>` | string with TTL | a live worker's (or producer's) lease |
//! | `fl:{R}:plock:<processor>` | string with TTL | the lock of a `wait` or stream processor |
//! | `flowloop:runs` | stream | one entry per started run (`run`, `flow`), for workers to find |
//!
//! One consumer group per consuming processor on each of its input streams (the group is the
//! processor's name, each worker a consumer named by its id). The scripts:
//!
//! - `push`: bounded, de-duplicated append for flow inputs (refuses at lag + pending ≥ cap;
//!   trims with `MINID` below the oldest entry any group still needs; never `MAXLEN`).
//! - `commit`: the fenced commit — for each handled entry still pending for this consumer,
//!   write its outputs and `XACK` it, all in one script; reclaimed entries are skipped. The
//!   outputs of a bundle entry are written as one bundle entry per output stream, so a
//!   bundled pipeline costs Redis one read, one ack and one append per bundle, not per value.
//! - `eos`: a consumer reached an input's end marker; when nothing else of that input is
//!   pending it is acked, and when all inputs ended the processor's outputs get their markers.
//! - `fail`: a handler error; re-claim (counting the delivery) or, after the limit, move the
//!   entry to the dead-letter stream.
//! - `reclaim`: take over the pending entries of consumers whose lease key expired; an entry
//!   already delivered `max_deliveries` times (its workers kept dying: a crash poison) goes
//!   to the dead-letter stream instead.
//! - `renew`: refresh a worker's lease and partition locks.
//! - `partition`: the fenced commit of a `wait` or stream processor — its outputs or its dead
//!   letter, and its end markers, in one script with the check that it still holds the lock.
//! - `emit`: a stream processor's outputs as it produces them: checks the lock, then appends
//!   like `push` (bounded, de-duplicated by sequence number, so a new owner replaying the
//!   processor from the start after a crash adds nothing twice).
//!
//! `wait` and stream processors have no consumer group: they hold the lock
//! `fl:{R}:plock:<processor>` (renewed with the lease) and read their inputs whole, so their
//! inputs are never bounded or trimmed.
//!
//! A run is complete when every processor is `done` (which implies every end marker was
//! acknowledged after everything before it: pending and lag are zero). Then every key of the
//! run gets a TTL.

mod entry;

pub(crate) use entry::{BUNDLE_FIELD, Body, Entry, bundle, parse_read, unbundle};

use crate::resp::Script;

macro_rules! script {
    ($name:literal) => {
        Script {
            name: $name,
            source: concat!(include_str!("prelude.lua"), include_str!(concat!($name, ".lua"))),
        }
    };
}

/// Bounded, de-duplicated append (see the module docs).
pub const PUSH: Script = script!("push");
/// End of a flow input stream.
pub const END: Script = script!("end");
/// Fenced commit of handled entries.
pub const COMMIT: Script = script!("commit");
/// End-of-stream marker handling.
pub const EOS: Script = script!("eos");
/// Handler failure: retry or dead-letter.
pub const FAIL: Script = script!("fail");
/// Lease-based reclaim of a dead worker's entries.
pub const RECLAIM: Script = script!("reclaim");
/// Lease renewal.
pub const RENEW: Script = script!("renew");
/// Fenced commit of a partition or a stream processor (outputs or dead letter, end markers).
pub const PARTITION: Script = script!("partition");
/// Fenced, de-duplicated append of a stream processor's outputs.
pub const EMIT: Script = script!("emit");

/// The meta hash field where `wait` or stream processor `processor` records how many entries
/// of input `stream` it has read (for [`crate::RedisRun::stats`]).
pub fn read_field(processor: &str, stream: &str) -> String {
    format!("read:{processor}:{stream}")
}

/// The stream where runs are announced to workers.
pub const RUNS: &str = "flowloop:runs";

/// Key names of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys for run `run`.
    pub fn new(run: &str) -> Keys {
        Keys {
            prefix: format!("fl:{{{run}}}:"),
        }
    }

    /// The run's meta hash.
    pub fn meta(&self) -> String {
        format!("{}meta", self.prefix)
    }

    /// The Redis stream of flow stream `stream`.
    pub fn stream(&self, stream: &str) -> String {
        format!("{}s:{stream}", self.prefix)
    }

    /// The dead-letter stream.
    pub fn dlq(&self) -> String {
        format!("{}dlq", self.prefix)
    }

    /// The prefix of lease keys (append a consumer id).
    pub fn lease_prefix(&self) -> String {
        format!("{}lease:", self.prefix)
    }

    /// The lease key of consumer `id`.
    pub fn lease(&self, id: &str) -> String {
        format!("{}lease:{id}", self.prefix)
    }

    /// The partition lock of processor `processor`.
    pub fn plock(&self, processor: &str) -> String {
        format!("{}plock:{processor}", self.prefix)
    }
}
