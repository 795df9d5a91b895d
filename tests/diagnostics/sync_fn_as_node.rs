// A sync `fn` passed as a node body.
fn inc(x: i64) -> i64 {
    x + 1
}

pub fn build() {
    let mut b = flowloop::flow::FlowBuilder::new();
    b.node(inc, (1,));
}
