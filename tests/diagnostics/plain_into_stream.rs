// A streaming node's final value passed to a `Stream` input.
use flowloop::flow::{Emitter, FlowBuilder, Stream};

async fn numbers(out: Emitter<i64>) -> i64 {
    let _ = out.emit(1).await;
    1
}

async fn total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        t += x;
    }
    t
}

pub fn build() {
    let mut b = FlowBuilder::new();
    let s = b.stream(numbers, ());
    b.node(total, (s,));
}
