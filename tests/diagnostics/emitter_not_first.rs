// A streaming node whose `Emitter` is not the first parameter.
use flowloop::flow::{Emitter, FlowBuilder};

async fn numbers(n: i64, out: Emitter<i64>) -> i64 {
    let _ = out.emit(n).await;
    n
}

pub fn build() {
    let mut b = FlowBuilder::new();
    b.stream(numbers, (3,));
}
