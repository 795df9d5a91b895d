// A stream output passed to a plain input.
use flowloop::flow::{Emitter, FlowBuilder};

async fn numbers(out: Emitter<i64>) -> i64 {
    let _ = out.emit(1).await;
    1
}

async fn inc(x: i64) -> i64 {
    x + 1
}

pub fn build() {
    let mut b = FlowBuilder::new();
    let s = b.stream(numbers, ());
    b.node(inc, (s.stream(),));
}
