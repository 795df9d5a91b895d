//! A tour of flowloop flows: a counter cycle broken by a default and stopped by a limit, a
//! streaming producer feeding a stream consumer, and a diamond.
//!
//! Run with `cargo run --release --example quickstart`.

use flowloop::flow::{Emitter, FlowBuilder, Generation, RunOptions, Stream};

/// A plain node: one input, one output.
async fn inc(x: i64) -> i64 {
    x + 1
}

/// A node with two inputs.
async fn add(x: i64, y: i64) -> i64 {
    x + y
}

/// A streaming node: emits 1..=n one chunk at a time (each `emit` waits until every stream
/// consumer took the chunk), then returns the folded sum as its final value.
async fn numbers(out: Emitter<i64>, n: i64) -> i64 {
    let mut sum = out.fold(0, |acc, x| acc + x);
    for i in 1..=n {
        if sum.emit(i).await.is_err() {
            break; // every consumer cancelled the stream
        }
    }
    sum.value()
}

/// A stream consumer: iterates the producer's chunks lazily.
async fn total(mut chunks: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = chunks.next().await {
        t += x;
    }
    t
}

/// `(k,)` for a generation, `None` for a node that never ran.
fn show(g: Option<Generation>) -> String {
    g.map_or_else(|| "None".to_string(), |g| g.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A counter cycle: `counter = inc(counter)`, a self-loop written with a forward
    //    reference. The default 0 breaks the cycle; the limit stops it at generation (4,).
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("counter");
    let counter = b.node(inc, (back.or(0),));
    b.define(back, counter);
    let mut flow = b.build()?;
    let outcome = flow.run_until_complete(RunOptions::new().limit(counter, (4,)))?;
    println!(
        "cycle:   counter = {:?} at generation {} ({outcome})",
        flow.value(counter),
        show(flow.generation(counter))
    );

    // Run it again: a finished flow continues from its generations.
    let outcome = flow.run_until_complete(RunOptions::new().limit(counter, (6,)))?;
    println!(
        "re-run:  counter = {:?} at generation {} ({outcome})",
        flow.value(counter),
        show(flow.generation(counter))
    );

    // 2. A streaming producer into a stream consumer, plus a diamond on top:
    //    numbers -> {total (stream input), left (final value)} -> right -> joined.
    let mut b = FlowBuilder::new();
    let src = b.stream(numbers, (5,));
    let streamed = b.node(total, (src.stream(),));
    let left = b.node(inc, (src,));
    let right = b.node(inc, (streamed,));
    let joined = b.node(add, (left, right));
    let mut flow = b.build()?;
    flow.run_until_complete(RunOptions::new())?;
    println!(
        "stream:  numbers = {:?}, total of its chunks = {:?}",
        flow.value(src),
        flow.value(streamed)
    );
    println!(
        "diamond: joined = {:?} at generation {} (left {:?} + right {:?})",
        flow.value(joined),
        show(flow.generation(joined)),
        flow.value(left),
        flow.value(right)
    );
    println!("\nThe second flow as Mermaid:\n{}", flow.to_mermaid());
    Ok(())
}
