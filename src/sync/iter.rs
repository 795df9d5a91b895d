//! Async iteration: the [`AsyncIterator`] trait and [`azip`].

use std::future::Future;

/// An iterator whose `next` may wait. Implemented by [`AsyncQueue`](super::AsyncQueue), its
/// [`until_empty`](super::AsyncQueue::until_empty) view, [`Azip`], and flow stream inputs.
#[allow(async_fn_in_trait)]
pub trait AsyncIterator {
    /// What the iterator yields.
    type Item;

    /// The next item, or `None` when the iterator is exhausted.
    fn next(&mut self) -> impl Future<Output = Option<Self::Item>>;

    /// Drains the iterator into a `Vec`.
    async fn collect_vec(mut self) -> Vec<Self::Item>
    where
        Self: Sized,
    {
        let mut out = Vec::new();
        while let Some(x) = self.next().await {
            out.push(x);
        }
        out
    }
}

/// Several async iterators advanced together; see [`azip`].
#[derive(Debug)]
pub struct Azip<Z> {
    iters: Z,
    done: bool,
}

/// Zips two or more async iterators (a tuple of 2 to 6) into one that yields tuples and stops at
/// the shortest. Each step awaits the iterators in order and stops at the first `None`, without
/// advancing the ones after it.
///
/// # Examples
/// ```
/// use flowloop::sync::{AsyncIterator, AsyncQueue, azip};
/// # flowloop::run(async {
/// let (a, b) = (AsyncQueue::new(), AsyncQueue::new());
/// for i in 0..3 { a.put(i).await.unwrap(); }
/// for i in 0..5 { b.put(i * 10).await.unwrap(); }
/// let pairs = azip((a.until_empty(), b.until_empty())).collect_vec().await;
/// assert_eq!(pairs, [(0, 0), (1, 10), (2, 20)]);
/// # }).unwrap();
/// ```
pub fn azip<Z>(iters: Z) -> Azip<Z>
where
    Azip<Z>: AsyncIterator,
{
    Azip { iters, done: false }
}

macro_rules! impl_azip {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: AsyncIterator),+> AsyncIterator for Azip<($($name,)+)> {
            type Item = ($($name::Item,)+);

            async fn next(&mut self) -> Option<Self::Item> {
                if self.done {
                    return None;
                }
                let item = ($(
                    match self.iters.$idx.next().await {
                        Some(x) => x,
                        None => {
                            self.done = true;
                            return None;
                        }
                    },
                )+);
                Some(item)
            }
        }
    };
}

impl_azip!(A 0, B 1);
impl_azip!(A 0, B 1, C 2);
impl_azip!(A 0, B 1, C 2, D 3);
impl_azip!(A 0, B 1, C 2, D 3, E 4);
impl_azip!(A 0, B 1, C 2, D 3, E 4, F 5);
