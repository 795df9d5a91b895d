//! Timers: a millisecond wheel with an overflow heap, and lazy removal.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::wait::Ticket;

/// Number of one-millisecond buckets in the wheel (about 4 s ahead).
const SLOTS: u64 = 4096;

/// Pending timers, bucketed by the millisecond tick at which they become due.
///
/// A timer with deadline `d` goes into tick `ceil(d - epoch)` (in ms) and fires once the clock
/// has reached the start of that tick, so it never fires early and at most about 1 ms late (the
/// resolution of the OS poll anyway). Insertion is O(1); timers due in the same tick fire in the
/// order they were set; ticks fire in ascending order. Deadlines more than [`SLOTS`] ms ahead
/// wait in a heap. A cancelled timer is not searched for: its ticket goes stale and the entry is
/// discarded when it fires.
pub(crate) struct TimerHeap {
    epoch: Instant,
    /// The first tick not yet drained; bucket `i` holds tick `base + (i - head) mod SLOTS`.
    base: u64,
    head: usize,
    buckets: Vec<Vec<(u64, Ticket)>>,
    /// Ticks of the non-empty buckets (one entry per bucket that became non-empty).
    busy: BinaryHeap<Reverse<u64>>,
    /// Timers beyond the wheel: (deadline in ns since the epoch, insertion order, ticket).
    far: BinaryHeap<Reverse<(u64, u64, TicketKey)>>,
    /// Timers whose deadline had already passed when they were set.
    overdue: Vec<Ticket>,
    seq: u64,
    len: usize,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
struct TicketKey(u32, u32);

impl Default for TimerHeap {
    fn default() -> Self {
        TimerHeap {
            epoch: Instant::now(),
            base: 0,
            head: 0,
            buckets: (0..SLOTS).map(|_| Vec::new()).collect(),
            busy: BinaryHeap::new(),
            far: BinaryHeap::new(),
            overdue: Vec::new(),
            seq: 0,
            len: 0,
        }
    }
}

impl TimerHeap {
    fn nanos(&self, deadline: Instant) -> u64 {
        deadline.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    /// The tick containing `now`.
    fn tick_floor(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_nanos() / 1_000_000) as u64
    }

    fn bucket_index(&self, tick: u64) -> usize {
        (self.head + (tick - self.base) as usize) % SLOTS as usize
    }

    pub(crate) fn push(&mut self, deadline: Instant, t: Ticket) {
        self.len += 1;
        let ns = self.nanos(deadline);
        // The tick whose start is at or after the deadline.
        let tick = ns.div_ceil(1_000_000);
        if tick < self.base {
            self.overdue.push(t);
        } else if tick - self.base < SLOTS {
            let i = self.bucket_index(tick);
            if self.buckets[i].is_empty() {
                self.busy.push(Reverse(tick));
            }
            self.buckets[i].push((ns, t));
        } else {
            self.seq += 1;
            self.far.push(Reverse((ns, self.seq, TicketKey(t.key, t.generation))));
        }
    }

    /// The earliest time at which a timer may be due (stale entries included).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if !self.overdue.is_empty() {
            return Some(self.epoch);
        }
        let wheel = self.busy.peek().map(|Reverse(t)| *t);
        let far = self.far.peek().map(|Reverse((ns, _, _))| ns.div_ceil(1_000_000));
        let tick = match (wheel, far) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.epoch + Duration::from_millis(tick))
    }

    /// Moves every timer due at `now` into `out`, in firing order.
    pub(crate) fn drain_due(&mut self, now: Instant, out: &mut Vec<Ticket>) {
        let start = out.len();
        out.append(&mut self.overdue);
        let now_tick = self.tick_floor(now);
        while let Some(&Reverse(tick)) = self.busy.peek() {
            if tick > now_tick {
                break;
            }
            self.busy.pop();
            let i = self.bucket_index(tick);
            let bucket = &mut self.buckets[i];
            if bucket.len() > 1 {
                bucket.sort_by_key(|&(ns, _)| ns);
            }
            out.extend(bucket.drain(..).map(|(_, t)| t));
        }
        while let Some(&Reverse((ns, _, TicketKey(key, generation)))) = self.far.peek() {
            if ns.div_ceil(1_000_000) > now_tick {
                break;
            }
            self.far.pop();
            out.push(Ticket { key, generation });
        }
        if now_tick >= self.base {
            // Every bucket up to `now_tick` is empty now: slide the wheel past them.
            let advance = now_tick + 1 - self.base;
            self.head = ((self.head as u64 + advance) % SLOTS) as usize;
            self.base = now_tick + 1;
        }
        self.len -= out.len() - start;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
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
        let mut w = TimerHeap::default();
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
        let mut w = TimerHeap::default();
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
}
