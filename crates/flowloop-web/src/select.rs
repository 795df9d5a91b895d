//! Waiting for the first of two futures.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Which future finished first.
#[derive(Debug)]
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls `a` then `b` until one is ready; the other is dropped.
pub(crate) async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    })
    .await
}

/// [`first`], calling `tick` every `every` until one is ready: a periodic side job (a sampler)
/// in the same task, with nothing to spawn or cancel.
pub(crate) async fn first_ticking<A: Future, B: Future>(
    a: A,
    b: B,
    every: Duration,
    mut tick: impl FnMut(),
) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut timer = pin!(flowloop::sleep(every));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        while timer.as_mut().poll(cx).is_ready() {
            tick();
            timer.set(flowloop::sleep(every));
        }
        Poll::Pending
    })
    .await
}
