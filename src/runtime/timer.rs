//! Timers: a millisecond wheel with an ordered overflow map, and removal at once on cancel.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use slab::Slab;

use super::wait::Ticket;

/// Number of one-millisecond buckets in the wheel (about 4 s ahead).
const SLOTS: usize = 4096;
/// Index of the list of timers whose deadline had already passed when they were set.
const OVERDUE: usize = SLOTS;
/// End of a bucket list.
const NIL: u32 = u32::MAX;

/// Names one pending timer inside the [`TimerWheel`] (kept by its wait, to remove it on
/// cancel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey(u32);

/// Where a timer waits: in a bucket list (a wheel tick, or the overdue list), or in the far map.
#[derive(Clone, Copy)]
enum Place {
    List(u32),
    Far(u64),
}

struct Node {
    /// Deadline in nanoseconds since the wheel's epoch.
    ns: u64,
    ticket: Ticket,
    prev: u32,
    next: u32,
    place: Place,
}

/// Pending timers, bucketed by the millisecond tick at which they become due.
///
/// A timer with deadline `d` goes into tick `ceil(d - epoch)` (in ms) and fires once the clock
/// has reached the start of that tick, so it never fires early and at most about 1 ms late (the
/// resolution of the OS poll anyway). Timers live in a slab; each bucket is a doubly linked
/// list through it, so insertion and removal (a cancelled timer) are O(1) and a cancelled
/// timer's memory is reclaimed at once. Timers due in the same tick fire in deadline order
/// (ties in the order they were set); ticks fire in ascending order. Deadlines more than
/// [`SLOTS`] ms ahead wait in an ordered map (O(log n)). A deadline more than `u64::MAX` ns
/// after the epoch (about 584 years) is not stored at all: it means "never".
pub(crate) struct TimerWheel {
    epoch: Instant,
    /// The first tick not yet drained; bucket `i` holds tick `base + (i - head) mod SLOTS`.
    base: u64,
    head: usize,
    nodes: Slab<Node>,
    /// (first, last) node of each bucket list; index [`OVERDUE`] is the overdue list.
    lists: Vec<(u32, u32)>,
    /// Ticks of the non-empty buckets, in order.
    busy: BTreeSet<u64>,
    /// Timers beyond the wheel: (deadline ns, insertion order) -> node.
    far: BTreeMap<(u64, u64), u32>,
    seq: u64,
    /// Reused buffer for one drained bucket.
    scratch: Vec<(u64, Ticket)>,
}

impl Default for TimerWheel {
    fn default() -> Self {
        TimerWheel {
            epoch: Instant::now(),
            base: 0,
            head: 0,
            nodes: Slab::new(),
            lists: vec![(NIL, NIL); SLOTS + 1],
            busy: BTreeSet::new(),
            far: BTreeMap::new(),
            seq: 0,
            scratch: Vec::new(),
        }
    }
}

impl TimerWheel {
    /// Nanoseconds from the epoch to `deadline`, or `None` past `u64::MAX` ns.
    fn nanos(&self, deadline: Instant) -> Option<u64> {
        u64::try_from(deadline.saturating_duration_since(self.epoch).as_nanos()).ok()
    }

    /// The tick containing `now`.
    fn tick_floor(&self, now: Instant) -> u64 {
        self.nanos(now).unwrap_or(u64::MAX) / 1_000_000
    }

    fn bucket_index(&self, tick: u64) -> usize {
        (self.head + (tick - self.base) as usize) % SLOTS
    }

    /// Adds a timer; `None` if the deadline is so far away that it can never come (the caller
    /// treats the wait as one that no timer completes).
    pub(crate) fn push(&mut self, deadline: Instant, t: Ticket) -> Option<TimerKey> {
        let ns = self.nanos(deadline)?;
        // The tick whose start is at or after the deadline.
        let tick = ns.div_ceil(1_000_000);
        let place = if tick < self.base {
            Place::List(OVERDUE as u32)
        } else if tick - self.base < SLOTS as u64 {
            let i = self.bucket_index(tick);
            if self.lists[i].0 == NIL {
                self.busy.insert(tick);
            }
            Place::List(i as u32)
        } else {
            self.seq += 1;
            Place::Far(self.seq)
        };
        let key = self.nodes.insert(Node {
            ns,
            ticket: t,
            prev: NIL,
            next: NIL,
            place,
        }) as u32;
        match place {
            Place::List(i) => self.link_last(i as usize, key),
            Place::Far(seq) => {
                self.far.insert((ns, seq), key);
            }
        }
        Some(TimerKey(key))
    }

    fn link_last(&mut self, list: usize, key: u32) {
        let tail = self.lists[list].1;
        self.nodes[key as usize].prev = tail;
        if tail == NIL {
            self.lists[list].0 = key;
        } else {
            self.nodes[tail as usize].next = key;
        }
        self.lists[list].1 = key;
    }

    /// Removes a pending timer (its task no longer waits for it). A key that no longer names
    /// `t`'s timer (it fired) is ignored.
    pub(crate) fn remove(&mut self, key: TimerKey, t: Ticket) {
        let k = key.0 as usize;
        if self.nodes.get(k).is_none_or(|n| n.ticket != t) {
            return;
        }
        let node = self.nodes.remove(k);
        match node.place {
            Place::Far(seq) => {
                self.far.remove(&(node.ns, seq));
            }
            Place::List(list) => {
                let list = list as usize;
                match node.prev {
                    NIL => self.lists[list].0 = node.next,
                    p => self.nodes[p as usize].next = node.next,
                }
                match node.next {
                    NIL => self.lists[list].1 = node.prev,
                    n => self.nodes[n as usize].prev = node.prev,
                }
                if list != OVERDUE && self.lists[list].0 == NIL {
                    let tick = self.base + ((list + SLOTS - self.head) % SLOTS) as u64;
                    self.busy.remove(&tick);
                }
            }
        }
    }

    /// The earliest time at which a timer may be due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.lists[OVERDUE].0 != NIL {
            return Some(self.epoch);
        }
        let wheel = self.busy.first().copied();
        let far = self.far.keys().next().map(|(ns, _)| ns.div_ceil(1_000_000));
        let tick = match (wheel, far) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.epoch + Duration::from_millis(tick))
    }

    /// Empties list `list` into `scratch`, in insertion order, freeing its nodes.
    fn take_list(&mut self, list: usize) {
        let mut key = std::mem::replace(&mut self.lists[list], (NIL, NIL)).0;
        while key != NIL {
            let node = self.nodes.remove(key as usize);
            self.scratch.push((node.ns, node.ticket));
            key = node.next;
        }
    }

    /// Moves every timer due at `now` into `out`, in firing order.
    pub(crate) fn drain_due(&mut self, now: Instant, out: &mut Vec<Ticket>) {
        self.take_list(OVERDUE);
        out.extend(self.scratch.drain(..).map(|(_, t)| t));
        let now_tick = self.tick_floor(now);
        while let Some(&tick) = self.busy.first() {
            if tick > now_tick {
                break;
            }
            self.busy.pop_first();
            self.take_list(self.bucket_index(tick));
            // Stable: equal deadlines keep the order they were set in.
            self.scratch.sort_by_key(|&(ns, _)| ns);
            out.extend(self.scratch.drain(..).map(|(_, t)| t));
        }
        while let Some((&(ns, seq), &key)) = self.far.first_key_value() {
            if ns.div_ceil(1_000_000) > now_tick {
                break;
            }
            self.far.remove(&(ns, seq));
            out.push(self.nodes.remove(key as usize).ticket);
        }
        if now_tick >= self.base {
            // Every bucket up to `now_tick` is empty now: slide the wheel past them.
            let advance = now_tick.saturating_add(1) - self.base;
            self.head = ((self.head as u64 + advance % SLOTS as u64) % SLOTS as u64) as usize;
            self.base = now_tick.saturating_add(1);
        }
    }

    /// Number of timers held (cancelled timers are removed at once, so these are all live).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(key: u32) -> Ticket {
        Ticket {
            key,
            generation: key + 1,
        }
    }

    #[test]
    fn never_early_and_in_tick_order() {
        let mut w = TimerWheel::default();
        let e = w.epoch;
        w.push(e + Duration::from_micros(2_500), t(1));
        w.push(e + Duration::from_micros(1_200), t(2));
        w.push(e + Duration::from_secs(30), t(3));
        w.push(e + Duration::from_micros(1_900), t(4));
        let mut out = Vec::new();
        w.drain_due(e + Duration::from_micros(1_100), &mut out);
        assert!(out.is_empty());
        w.drain_due(e + Duration::from_micros(2_000), &mut out);
        assert_eq!(out, [t(2), t(4)]);
        out.clear();
        w.drain_due(e + Duration::from_micros(2_999), &mut out);
        assert!(out.is_empty(), "a 2.5 ms timer waits for the 3 ms tick");
        w.drain_due(e + Duration::from_micros(3_000), &mut out);
        assert_eq!(out, [t(1)]);
        assert_eq!(w.next_deadline(), Some(e + Duration::from_secs(30)));
        out.clear();
        w.drain_due(e + Duration::from_secs(30), &mut out);
        assert_eq!(out, [t(3)]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn wraps_around_the_wheel_and_takes_overdue_timers() {
        let mut w = TimerWheel::default();
        let e = w.epoch;
        let mut out = Vec::new();
        for round in 0..3u64 {
            let now = e + Duration::from_millis(round * 3000);
            w.drain_due(now, &mut out);
            w.push(now + Duration::from_millis(2500), t(round as u32));
            w.push(e, t(100 + round as u32));
            out.clear();
            w.drain_due(now, &mut out);
            assert_eq!(out, [t(100 + round as u32)]);
            out.clear();
            w.drain_due(now + Duration::from_millis(2500), &mut out);
            assert_eq!(out, [t(round as u32)]);
        }
    }

    #[test]
    fn removed_timers_are_gone_at_once_from_every_place() {
        let mut w = TimerWheel::default();
        let e = w.epoch;
        let near = w.push(e + Duration::from_millis(3), t(1)).expect("near");
        let kept = e + Duration::from_millis(3);
        w.push(kept, t(2));
        let far = w.push(e + Duration::from_secs(60), t(3)).expect("far");
        let mut out = Vec::new();
        w.drain_due(e + Duration::from_millis(1), &mut out);
        let overdue = w.push(e, t(4)).expect("overdue");
        assert_eq!(w.len(), 4);
        w.remove(near, t(1));
        w.remove(far, t(3));
        w.remove(overdue, t(4));
        w.remove(far, t(3));
        assert_eq!(w.len(), 1);
        assert_eq!(w.next_deadline(), Some(kept));
        w.drain_due(e + Duration::from_secs(61), &mut out);
        assert_eq!(out, [t(2)]);
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn deadlines_past_u64_nanoseconds_are_never() {
        let mut w = TimerWheel::default();
        let e = w.epoch;
        let beyond = e + Duration::from_nanos(u64::MAX) + Duration::from_secs(1);
        assert_eq!(w.push(beyond, t(1)), None);
        assert_eq!(w.len(), 0);
    }
}
