//! Incremental readiness: the cached staleness of every port and the per-node stale / fresh
//! counts stay equal to what the generations say, through chains, cycles, diamonds, streams,
//! limits and re-runs (`Graph::port_stale` also checks each lookup in test builds).

use super::state::Graph;
use super::{Emitter, Flow, FlowBuilder, RunOptions, Stream};

async fn inc(x: i64) -> i64 {
    x + 1
}

async fn add(x: i64, y: i64) -> i64 {
    x + y
}

async fn two(out: Emitter<i64>) -> i64 {
    let _ = out.emit(1).await;
    let _ = out.emit(2).await;
    3
}

async fn collect(mut s: Stream<i64>) -> Vec<i64> {
    let mut seen = Vec::new();
    while let Some(x) = s.next().await {
        seen.push(x);
    }
    seen
}

async fn size(v: Vec<i64>) -> i64 {
    v.len() as i64
}

/// Every port's cached flag and every node's counts against a recount from the generations.
fn assert_consistent(flow: &Flow) {
    assert_graph_consistent(&flow.state().graph.borrow());
}

/// [`assert_consistent`] on the graph itself (also from inside a body, between polls).
fn assert_graph_consistent(g: &Graph) {
    let mut counts = vec![(0u32, 0u32); g.nodes.len()];
    for (pi, port) in g.ports.iter().enumerate() {
        let stale = g.compute_stale(pi as u32);
        assert_eq!(port.stale, stale, "port {pi} of node {}", port.node);
        if port.producer.is_some() {
            let c = &mut counts[port.node as usize];
            if stale {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
    }
    for (n, node) in g.nodes.iter().enumerate() {
        assert_eq!((node.stale_inputs, node.fresh_inputs), counts[n], "counts of node {n}");
    }
}

#[test]
fn counts_follow_a_chain_and_its_reruns() {
    let mut b = FlowBuilder::new();
    let mut last = b.node(inc, (0,));
    for _ in 0..5 {
        last = b.node(inc, (last,));
    }
    let mut flow = b.build().expect("chain builds");
    assert_consistent(&flow);
    for run in 0..3 {
        flow.run_until_complete(RunOptions::new()).expect("chain runs");
        assert_consistent(&flow);
        assert_eq!(flow.value(last), Some(6), "run {run}");
    }
}

#[test]
fn counts_follow_a_cycle_stopped_by_limits() {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("back");
    let a = b.node(inc, (back.or(0),));
    let c = b.node(add, (a, a));
    b.define(back, c);
    let mut flow = b.build().expect("cycle builds");
    for limit in [0u64, 3, 4] {
        flow.run_until_complete(RunOptions::new().limit(c, (limit,)))
            .expect("cycle runs");
        assert_consistent(&flow);
    }
    // a: 1, c: 2; a: 3, c: 6; a: 7, c: 14; a: 15, c: 30; a: 31, c: 62.
    assert_eq!(flow.value(c), Some(62));
}

#[test]
fn counts_follow_a_diamond_and_a_stream() {
    let mut b = FlowBuilder::new();
    let src = b.stream(two, ());
    let got = b.node(collect, (src.stream(),));
    let left = b.node(inc, (src,));
    let right = b.node(size, (got,));
    let join = b.node(add, (left, right));
    let mut flow = b.build().expect("diamond builds");
    flow.run_until_complete(RunOptions::new()).expect("diamond runs");
    assert_consistent(&flow);
    assert_eq!(flow.value(got), Some(vec![1, 2]));
    // left = 3 (the final value) + 1, right = two chunks.
    assert_eq!(flow.value(join), Some(4 + 2));
}

/// The cached staleness stays current while streams run, not only once a run ended: checked
/// by the bodies themselves after every chunk, through a producer with a plain input, a mapper
/// with a stream input (whose own input moves with every chunk it emits, and whose port turns
/// stale and fresh again as it emits in bursts) and a consumer, over
/// runs where a cancelled producer gives up without a final value (so the next run's first
/// chunk follows an unfinished chunk of the run before).
#[test]
fn counts_stay_current_chunk_by_chunk() {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use super::BoxError;
    use super::state::FlowState;

    type Slot = Rc<RefCell<Option<Rc<FlowState>>>>;
    fn check(slot: &Slot) {
        let state = slot.borrow().clone().expect("the state is set before the first run");
        assert_graph_consistent(&state.graph.borrow());
    }
    let slot = Slot::default();
    let cancel_at = Rc::new(Cell::new(None::<usize>));
    let mut b = FlowBuilder::new();
    let k = b.node(|| async { 40 }, ());
    let sl = Rc::clone(&slot);
    let p = b.try_stream(
        move |out: Emitter<i64>, n: i64| {
            let sl = Rc::clone(&sl);
            async move {
                for i in 0..n {
                    out.emit(i).await?;
                    check(&sl);
                }
                Ok::<i64, BoxError>(n)
            }
        },
        (k,),
    );
    let sl = Rc::clone(&slot);
    let m = b.try_stream(
        move |out: Emitter<i64>, mut s: Stream<i64>| {
            let sl = Rc::clone(&sl);
            async move {
                while let Some(x) = s.next().await {
                    // Bursts: three chunks for every fourth input, none for the others, so
                    // its own chunk index runs ahead of its input's and falls behind again.
                    for y in (0..3).filter(|_| x % 4 == 0) {
                        out.emit(x + y).await?;
                        check(&sl);
                    }
                }
                Ok::<i64, BoxError>(0)
            }
        },
        (p.stream(),),
    );
    let (sl, at) = (Rc::clone(&slot), Rc::clone(&cancel_at));
    let c = b.node(
        move |mut s: Stream<i64>| {
            let (sl, at) = (Rc::clone(&sl), Rc::clone(&at));
            async move {
                let mut seen = Vec::new();
                while let Some(x) = s.next().await {
                    check(&sl);
                    seen.push(x);
                    if at.get() == Some(seen.len()) {
                        s.cancel().await;
                        check(&sl);
                    }
                }
                seen.len()
            }
        },
        (m.stream(),),
    );
    let mut flow = b.build().expect("the stream flow builds");
    *slot.borrow_mut() = Some(Rc::clone(flow.state()));
    for (run, cancel) in [None, Some(3), None, Some(1), None].into_iter().enumerate() {
        cancel_at.set(cancel);
        flow.run_until_complete(RunOptions::new())
            .expect("the stream flow runs");
        assert_consistent(&flow);
        assert_eq!(flow.value(c), Some(cancel.unwrap_or(30)), "run {run}");
    }
    // The cancelled runs gave up without a final value: the mapper's only final values are
    // those of the runs that streamed to the end.
    assert_eq!(flow.value(m.out()), Some(0));
}

/// The node record stays compact: a million-node flow keeps one per node (issue 14 memory
/// budget). Grows only with a deliberate change to this bound.
#[test]
fn node_record_is_compact() {
    use std::mem::size_of;
    let size = size_of::<super::state::NodeMeta>();
    assert!(size <= 80, "NodeMeta grew to {size} bytes");
    // Stream-only port state lives in `Graph::stream_ports`, only in flows that stream.
    let size = size_of::<super::state::Port>();
    assert!(size <= 24, "Port grew to {size} bytes");
    // The run index is stored plus one (a niche), so no tag word.
    assert_eq!(size_of::<Option<super::Generation>>(), 16);
    // A dashboard copies one of these per node at the end of every run.
    let size = size_of::<super::PackedView>();
    assert!(size <= 32, "PackedView grew to {size} bytes");
}

/// The ready list keeps first-in first-out order across its head slot and the queue behind
/// it, and hands out its only node (and no other) to a step that made it ready.
#[test]
fn ready_list_keeps_order_across_its_head_slot() {
    use super::state::ReadyList;
    let mut ready = ReadyList::default();
    assert!(ready.is_empty());
    assert_eq!(ready.pop_front(), None);
    assert_eq!(ready.take_sole(), None);

    ready.push_back(7);
    assert!(!ready.is_empty());
    assert_eq!(ready.take_sole(), Some(7), "a sole node is handed out");
    assert!(ready.is_empty());

    for n in [1, 2, 3] {
        ready.push_back(n);
    }
    assert_eq!(ready.take_sole(), None, "three ready nodes keep their order");
    assert_eq!(ready.pop_front(), Some(1));
    ready.push_back(4);
    assert_eq!(ready.pop_front(), Some(2));
    assert_eq!(ready.pop_front(), Some(3));
    assert_eq!(ready.take_sole(), Some(4), "the last one left is sole again");
    assert!(ready.is_empty());
    assert_eq!(ready.pop_front(), None);

    // Emptied from the front, then refilled: the head slot takes the first again.
    ready.push_back(5);
    ready.push_back(6);
    assert_eq!(ready.pop_front(), Some(5));
    assert_eq!(ready.pop_front(), Some(6));
    assert!(ready.is_empty());
}

/// `iter` lists the ready nodes in order, and `skip` drops the first `k` of them whatever
/// their split between the head slot and the queue (and all of them when fewer are listed).
#[test]
fn ready_list_lists_and_skips_in_order() {
    use super::state::ReadyList;
    let filled = |nodes: &[u32]| {
        let mut ready = ReadyList::default();
        for &n in nodes {
            ready.push_back(n);
        }
        ready
    };
    let listed = |ready: &ReadyList| ready.iter().collect::<Vec<_>>();
    assert_eq!(listed(&ReadyList::default()), Vec::<u32>::new());
    assert_eq!(listed(&filled(&[4, 5, 6])), [4, 5, 6]);
    for k in 0..=5 {
        let mut ready = filled(&[1, 2, 3, 4]);
        ready.skip(k);
        let want: Vec<u32> = (1..=4).skip(k).collect();
        assert_eq!(listed(&ready), want, "skip({k})");
        assert_eq!(ready.is_empty(), want.is_empty(), "skip({k})");
        // The list goes on in order after a skip.
        ready.push_back(9);
        assert_eq!(ready.pop_front(), Some(want.first().copied().unwrap_or(9)), "skip({k})");
    }
}
