//! Generations: how a node's outputs are versioned (FLOW_SEMANTICS §1).

use std::fmt;
use std::num::NonZeroU64;

/// The version of a value a node produced: `(k,)` is the final value of run `k`, `(k, j)` is
/// chunk `j` of streaming run `k` (still in progress). "Never produced" is `None` in an
/// `Option<Generation>`, which sorts below every generation.
///
/// Order: runs compare first; within one run a chunk is below the finished run, so
/// `(0,) > (0, 5)` and `(1, 0) > (0,)`.
///
/// # Examples
/// ```
/// use flowloop::flow::Generation;
/// assert!(Generation::from((1,)) > Generation::from((1, 5)));
/// assert!(Generation::from((1, 0)) > Generation::from((0,)));
/// assert_eq!(Generation::from((0, 2)).to_string(), "(0,2)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation {
    /// The run index plus one: never zero, so an `Option<Generation>` (every node's latest
    /// generation) takes 16 bytes instead of 24, and the derived order is still the run's.
    next: NonZeroU64,
    /// The chunk index, or [`FINISHED`] for the final value of the run. One plain integer
    /// instead of an `Option` so that the derived order (run, then chunk) is two integer
    /// compares — the staleness check every publication makes — and a finished run sorts
    /// above all its chunks without a branch.
    chunk: u64,
}

/// The `chunk` of a finished run: above every chunk index.
const FINISHED: u64 = u64::MAX;

/// The stored form of run index `run` (`run + 1`).
#[inline(always)]
const fn next_of(run: u64) -> NonZeroU64 {
    match NonZeroU64::new(run.wrapping_add(1)) {
        Some(next) => next,
        None => panic!("run index u64::MAX is reserved"),
    }
}

impl Generation {
    /// The final value of run `run`: `(run,)`.
    ///
    /// # Panics
    /// For `run == u64::MAX` (reserved: no flow runs that often).
    #[inline]
    pub const fn finished(run: u64) -> Generation {
        Generation {
            next: next_of(run),
            chunk: FINISHED,
        }
    }

    /// Chunk `chunk` of streaming run `run`: `(run, chunk)`. (`u64::MAX` is reserved: no
    /// stream emits that many chunks, and no flow runs `u64::MAX` times.)
    #[inline]
    pub const fn chunk(run: u64, chunk: u64) -> Generation {
        debug_assert!(chunk != FINISHED, "chunk index u64::MAX is reserved");
        Generation {
            next: next_of(run),
            chunk,
        }
    }

    /// This generation with `s` added to its run index (saturating; see [`stitch`]).
    #[inline(always)]
    const fn add_runs(self, s: u64) -> Generation {
        Generation {
            next: self.next.saturating_add(s),
            chunk: self.chunk,
        }
    }

    /// The run index (first element).
    #[inline]
    pub const fn run(self) -> u64 {
        self.next.get() - 1
    }

    /// The chunk index (second element), `None` for a finished run.
    #[inline]
    pub const fn chunk_index(self) -> Option<u64> {
        if self.chunk == FINISHED { None } else { Some(self.chunk) }
    }

    /// Whether this names a finished run, `(k,)`.
    #[inline]
    pub const fn is_finished(self) -> bool {
        self.chunk == FINISHED
    }

    /// The elements as a tuple-like slice view (`[k]` or `[k, j]`).
    pub fn to_vec(self) -> Vec<u64> {
        match self.chunk_index() {
            None => vec![self.run()],
            Some(j) => vec![self.run(), j],
        }
    }

    /// Writes the elements into `buf` and returns the used part (no allocation).
    pub fn as_slice(self, buf: &mut [u64; 2]) -> &[u64] {
        buf[0] = self.run();
        match self.chunk_index() {
            None => &buf[..1],
            Some(j) => {
                buf[1] = j;
                &buf[..2]
            }
        }
    }
}

/// Shown as before the compact layout: `Generation { run: 0, chunk: None }`.
impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generation")
            .field("run", &self.run())
            .field("chunk", &self.chunk_index())
            .finish()
    }
}

impl From<(u64,)> for Generation {
    fn from((run,): (u64,)) -> Self {
        Generation::finished(run)
    }
}

impl From<(u64, u64)> for Generation {
    fn from((run, chunk): (u64, u64)) -> Self {
        Generation::chunk(run, chunk)
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.chunk_index() {
            None => write!(f, "({},)", self.run()),
            Some(j) => write!(f, "({},{})", self.run(), j),
        }
    }
}

/// `inc(g, level)`: the smallest generation with `level + 1` elements strictly greater than `g`
/// (level 0: the next finished run; level 1: the next chunk). Finishing a stream keeps its run
/// index: `inc((0,2), 0) = (0,)`.
///
/// # Panics
/// For `level > 1` (flowloop has run levels 0 and 1 only).
pub fn inc(g: Option<Generation>, level: u8) -> Generation {
    match (level, g) {
        (0, None) => Generation::finished(0),
        (0, Some(g)) if g.is_finished() => Generation::finished(g.run() + 1),
        (0, Some(g)) => Generation::finished(g.run()),
        (1, None) => Generation::chunk(0, 0),
        (1, Some(g)) if g.is_finished() => Generation::chunk(g.run() + 1, 0),
        (1, Some(g)) => Generation::chunk(g.run(), g.chunk + 1),
        _ => panic!("run level {level} does not exist (levels are 0 and 1)"),
    }
}

/// `clip(g, level)`: the greatest generation with at most `level + 1` elements that is `<= g`.
/// `clip((1,0), 0) = (0,)`, `clip((0,0), 0) = None`, level 1 keeps `g`.
#[inline]
pub fn clip(g: Option<Generation>, level: u8) -> Option<Generation> {
    match g {
        Some(x) if level == 0 && !x.is_finished() => x.run().checked_sub(1).map(Generation::finished),
        other => other,
    }
}

/// `stitch(g, s)`: adds `s` to the run index; `stitch(None, s) = (s-1,)` for `s > 0`.
#[inline]
pub fn stitch(g: Option<Generation>, s: u64) -> Option<Generation> {
    match g {
        _ if s == 0 => g,
        None => Some(Generation::finished(s - 1)),
        Some(g) => Some(g.add_runs(s)),
    }
}

/// Whether a port is stale (FLOW_SEMANTICS §3): `stitch(clip(producer, level), s) <= node`.
/// The same as composing [`clip`], [`stitch`] and the order, written out for the hot path
/// (every publication checks each consumer port and each own input with it).
#[inline(always)]
pub(crate) fn port_is_stale(producer: Option<Generation>, level: u8, s: u64, node: Option<Generation>) -> bool {
    let (next, chunk) = raw(producer);
    let seen = if level == 0 && chunk != FINISHED {
        // Level 0 reads only final values: a chunk of run k stands for the final value of
        // k-1, stitched: run k-1+s, stored as k+s, which is `next - 1 + s` (0, "never", for
        // a chunk of run 0 without a stitch).
        (next - 1 + s, FINISHED)
    } else {
        // Also `stitch(None, s)`: `(s-1,)`, stored as `s` (0, "never", for s = 0).
        (next.saturating_add(s), chunk)
    };
    seen <= raw(node)
}

/// A generation as two integers ordered as the generations are: the stored run (`run + 1`)
/// and chunk, with "never produced" as `(0, FINISHED)`, below every generation.
#[inline(always)]
fn raw(g: Option<Generation>) -> (u64, u64) {
    match g {
        Some(g) => (g.next.get(), g.chunk),
        None => (0, FINISHED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: &[u64]) -> Option<Generation> {
        match v {
            [] => None,
            [r] => Some(Generation::finished(*r)),
            [r, c] => Some(Generation::chunk(*r, *c)),
            _ => unreachable!(),
        }
    }

    #[test]
    fn order_matches_the_rules() {
        assert!(g(&[1]) > g(&[1, 5]));
        assert!(g(&[0]) > g(&[0, 0]));
        assert!(g(&[1, 0]) > g(&[0]));
        assert!(None < g(&[0, 0]));
    }

    #[test]
    fn inc_clip_stitch_examples() {
        assert_eq!(Some(inc(None, 0)), g(&[0]));
        assert_eq!(Some(inc(g(&[0]), 0)), g(&[1]));
        assert_eq!(Some(inc(None, 1)), g(&[0, 0]));
        assert_eq!(Some(inc(g(&[1]), 1)), g(&[2, 0]));
        assert_eq!(Some(inc(g(&[1, 0]), 1)), g(&[1, 1]));
        assert_eq!(Some(inc(g(&[0, 2]), 0)), g(&[0]));
        assert_eq!(clip(g(&[1, 0]), 0), g(&[0]));
        assert_eq!(clip(g(&[0, 0]), 0), None);
        assert_eq!(clip(g(&[1, 0]), 1), g(&[1, 0]));
        assert_eq!(stitch(None, 1), g(&[0]));
        assert_eq!(stitch(g(&[2, 1]), 2), g(&[4, 1]));
        assert_eq!(stitch(None, 0), None);
    }

    #[test]
    fn port_is_stale_matches_clip_stitch_order() {
        let gens = [&[][..], &[0], &[1], &[2], &[0, 0], &[0, 3], &[1, 0], &[2, 7]];
        for p in gens {
            for n in gens {
                for level in 0..2 {
                    for s in 0..3 {
                        assert_eq!(
                            port_is_stale(g(p), level, s, g(n)),
                            stitch(clip(g(p), level), s) <= g(n),
                            "producer {p:?} level {level} stitch {s} node {n:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn debug_shows_the_chunk_as_an_option() {
        assert_eq!(
            format!("{:?}", Generation::finished(2)),
            "Generation { run: 2, chunk: None }"
        );
        assert_eq!(
            format!("{:?}", Generation::chunk(2, 4)),
            "Generation { run: 2, chunk: Some(4) }"
        );
    }
}
