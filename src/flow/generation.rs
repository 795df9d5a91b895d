//! Generations: how a node's outputs are versioned (FLOW_SEMANTICS §1).

use std::cmp::Ordering;
use std::fmt;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Generation {
    run: u64,
    chunk: Option<u64>,
}

impl Generation {
    /// The final value of run `run`: `(run,)`.
    pub const fn finished(run: u64) -> Generation {
        Generation { run, chunk: None }
    }

    /// Chunk `chunk` of streaming run `run`: `(run, chunk)`.
    pub const fn chunk(run: u64, chunk: u64) -> Generation {
        Generation {
            run,
            chunk: Some(chunk),
        }
    }

    /// The run index (first element).
    pub const fn run(self) -> u64 {
        self.run
    }

    /// The chunk index (second element), `None` for a finished run.
    pub const fn chunk_index(self) -> Option<u64> {
        self.chunk
    }

    /// Whether this names a finished run, `(k,)`.
    pub const fn is_finished(self) -> bool {
        self.chunk.is_none()
    }

    /// The elements as a tuple-like slice view (`[k]` or `[k, j]`).
    pub fn to_vec(self) -> Vec<u64> {
        match self.chunk {
            None => vec![self.run],
            Some(j) => vec![self.run, j],
        }
    }

    /// Writes the elements into `buf` and returns the used part (no allocation).
    pub fn as_slice(self, buf: &mut [u64; 2]) -> &[u64] {
        buf[0] = self.run;
        match self.chunk {
            None => &buf[..1],
            Some(j) => {
                buf[1] = j;
                &buf[..2]
            }
        }
    }
}

impl Ord for Generation {
    fn cmp(&self, other: &Self) -> Ordering {
        self.run.cmp(&other.run).then_with(|| match (self.chunk, other.chunk) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(&b),
        })
    }
}

impl PartialOrd for Generation {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
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
        match self.chunk {
            None => write!(f, "({},)", self.run),
            Some(j) => write!(f, "({},{})", self.run, j),
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
        (0, Some(Generation { run, chunk: None })) => Generation::finished(run + 1),
        (0, Some(Generation { run, chunk: Some(_) })) => Generation::finished(run),
        (1, None) => Generation::chunk(0, 0),
        (1, Some(Generation { run, chunk: None })) => Generation::chunk(run + 1, 0),
        (1, Some(Generation { run, chunk: Some(j) })) => Generation::chunk(run, j + 1),
        _ => panic!("run level {level} does not exist (levels are 0 and 1)"),
    }
}

/// `clip(g, level)`: the greatest generation with at most `level + 1` elements that is `<= g`.
/// `clip((1,0), 0) = (0,)`, `clip((0,0), 0) = None`, level 1 keeps `g`.
pub fn clip(g: Option<Generation>, level: u8) -> Option<Generation> {
    match g {
        Some(Generation { run, chunk: Some(_) }) if level == 0 => run.checked_sub(1).map(Generation::finished),
        other => other,
    }
}

/// `stitch(g, s)`: adds `s` to the run index; `stitch(None, s) = (s-1,)` for `s > 0`.
pub fn stitch(g: Option<Generation>, s: u64) -> Option<Generation> {
    match g {
        _ if s == 0 => g,
        None => Some(Generation::finished(s - 1)),
        Some(g) => Some(Generation {
            run: g.run + s,
            chunk: g.chunk,
        }),
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
}
