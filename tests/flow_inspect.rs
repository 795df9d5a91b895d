//! Flow inspection for tools: status, node views, edges, errors so far, and the run beacon.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flowloop::EventLoop;
use flowloop::flow::{
    AsNode, Emitter, Flow, FlowBuilder, NodeId, NodeStatus, NodeView, PackedView, RunBeacon, RunOptions, Stream,
};

async fn slow_one() -> i64 {
    flowloop::sleep(Duration::from_millis(30)).await;
    1
}

async fn slower() -> i64 {
    flowloop::sleep(Duration::from_millis(200)).await;
    2
}

async fn add(a: i64, b: i64) -> i64 {
    a + b
}

async fn fail(_x: i64) -> Result<i64, String> {
    Err("no luck".into())
}

async fn count(out: Emitter<i64>, n: i64) -> i64 {
    for i in 0..n {
        out.emit(i).await.ok();
    }
    n
}

async fn total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        t += x;
    }
    t
}

#[test]
fn edges_name_consumer_inputs_and_mark_streams_and_defaults() {
    let mut b = FlowBuilder::new();
    let back = b.forward::<i64>("acc");
    let src = b.stream(count, (3,));
    let t = b.node(total, (src.stream(),));
    let acc = b.node(add, (back.or(0), t));
    b.define(back, acc);
    let flow = b.build().unwrap();
    let edges = flow.edges();
    assert_eq!(edges.len(), 3);
    let stream_edge = edges.iter().find(|e| e.to == t.node_id()).unwrap();
    assert!(stream_edge.stream && !stream_edge.has_default);
    let self_loop = edges
        .iter()
        .find(|e| e.from == acc.node_id() && e.to == acc.node_id())
        .unwrap();
    assert!(self_loop.has_default && self_loop.input == 0);
    assert!(flow.nodes().all(|n| flow.status(n) == NodeStatus::Idle));
    assert!(!flow.is_running());
}

/// What a watcher sees at one moment (a plain function: no borrow lives across an await).
/// The views packed views stand for.
fn unpacked(packed: &[PackedView]) -> Vec<NodeView> {
    packed.iter().map(PackedView::view).collect()
}

/// `views` with every poll time zero (what a packed view leaves out).
fn without_times(views: &[NodeView]) -> Vec<NodeView> {
    views
        .iter()
        .map(|v| NodeView::new(v.status, v.generation, v.runs))
        .collect()
}

fn look(f: &Flow, node: NodeId, beacon: &RunBeacon) -> (bool, NodeStatus, Option<NodeId>) {
    (f.is_running(), f.status(node), beacon.last().map(|m| m.node))
}

#[test]
fn a_task_beside_the_run_sees_running_nodes_errors_so_far_and_the_beacon() {
    let mut b = FlowBuilder::new();
    let one = b.node(slow_one, ());
    let sum = b.node(add, (one, one));
    let bad = b.try_node(fail, (sum,));
    let flow = Rc::new(RefCell::new(b.build().unwrap()));
    let beacon = RunBeacon::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut lp = EventLoop::new().unwrap();
    let run = flow.borrow_mut().run(
        RunOptions::new()
            .terminate_on_error(false)
            .time_nodes(true)
            .beacon(beacon.clone()),
    );
    let (f2, s2, b2) = (flow.clone(), seen.clone(), beacon.clone());
    let result = lp
        .run_until_complete(async move {
            let watcher = flowloop::spawn(async move {
                for _ in 0..200 {
                    let sample = look(&f2.borrow(), one.node_id(), &b2);
                    s2.borrow_mut().push(sample);
                    flowloop::sleep(Duration::from_millis(1)).await;
                }
            })
            .await;
            let r = run.await;
            watcher.cancel().await;
            r
        })
        .unwrap();
    assert!(result.is_err(), "`fail` failed");
    let seen = seen.borrow();
    assert!(
        seen.iter()
            .any(|(running, st, mark)| *running && *st == NodeStatus::Running && *mark == Some(one.node_id()))
    );
    let f = flow.borrow();
    assert!(!f.is_running());
    assert_eq!(f.status(bad), NodeStatus::Failed);
    let views = f.node_views();
    assert_eq!(views.len(), 3);
    assert_eq!((views[0].runs, views[1].runs), (1, 1));
    assert!(views[0].run_time > Duration::ZERO, "timed");
    assert_eq!(views[1].generation, f.generation(sum));
    let mut reused = vec![views[2]; 8];
    let capacity = reused.capacity();
    f.node_views_into(&mut reused);
    assert_eq!(reused, views, "cleared, then the same views");
    assert_eq!(reused.capacity(), capacity, "the buffer's capacity is reused");
    let mut packed = Vec::with_capacity(16);
    f.packed_views_into(&mut packed);
    assert_eq!(packed.capacity(), 16, "the packed buffer's capacity is reused");
    assert_eq!(
        unpacked(&packed),
        without_times(&views),
        "packed: the views less poll times"
    );
    assert_eq!(packed[2].status(), NodeStatus::Failed);
    let mut times = vec![Duration::MAX; 5];
    f.run_times_into(&mut times);
    assert_eq!(times, views.iter().map(|v| v.run_time).collect::<Vec<_>>());
    let mark = beacon.last().unwrap();
    assert_eq!((mark.node, mark.run), (bad.node_id(), 1));
    assert!(f.errors_so_far().is_empty(), "handed over in the run's error");
}

#[test]
fn errors_so_far_are_visible_while_the_run_goes_on() {
    let mut b = FlowBuilder::new();
    let one = b.node(slow_one, ());
    let bad = b.try_node(fail, (one,));
    b.node(slower, ());
    let flow = Rc::new(RefCell::new(b.build().unwrap()));
    let mut lp = EventLoop::new().unwrap();
    let run = flow.borrow_mut().run(RunOptions::new().terminate_on_error(false));
    let f2 = flow.clone();
    let errors = lp
        .run_until_complete(async move {
            let probe = flowloop::spawn(async move {
                for _ in 0..500 {
                    let e = f2.borrow().errors_so_far();
                    if !e.is_empty() {
                        return e;
                    }
                    flowloop::sleep(Duration::from_millis(1)).await;
                }
                Vec::new()
            })
            .await;
            let _ = run.await;
            probe.join().await.unwrap()
        })
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, bad.node_id());
    assert!(errors[0].1.contains("no luck"), "{}", errors[0].1);
}

async fn slow_total(mut s: Stream<i64>) -> i64 {
    let mut t = 0;
    while let Some(x) = s.next().await {
        flowloop::sleep(Duration::from_millis(15)).await;
        t += x;
    }
    t
}

#[test]
fn stream_lags_count_chunks_published_but_not_yet_taken() {
    let mut b = FlowBuilder::new();
    let src = b.stream(count, (4,));
    let fast = b.node(total, (src.stream(),));
    let slow = b.node(slow_total, (src.stream(),));
    b.node(add, (fast, slow));
    let flow = Rc::new(RefCell::new(b.build().unwrap()));
    let mut lags = vec![7, 7, 7];
    flow.borrow().stream_lags_into(&mut lags);
    assert_eq!(
        lags,
        [0, 0],
        "one entry per stream edge (plain edges have none); nothing published yet"
    );
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut lp = EventLoop::new().unwrap();
    let run = flow.borrow_mut().run(RunOptions::new());
    let (f2, s2) = (flow.clone(), seen.clone());
    let chunk_samples = Rc::new(std::cell::Cell::new(0));
    let p2 = chunk_samples.clone();
    lp.run_until_complete(async move {
        let watcher = flowloop::spawn(async move {
            let (mut buf, mut packed) = (Vec::new(), Vec::new());
            for _ in 0..400 {
                let views = {
                    let f = f2.borrow();
                    f.stream_lags_into(&mut buf);
                    f.packed_views_into(&mut packed);
                    f.node_views()
                };
                s2.borrow_mut().push((buf[0], buf[1]));
                assert_eq!(unpacked(&packed), without_times(&views), "packed mid-run");
                if views
                    .iter()
                    .any(|v| v.generation.is_some_and(|g| g.chunk_index().is_some()))
                {
                    p2.set(p2.get() + 1);
                }
                flowloop::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        let r = run.await;
        watcher.cancel().await;
        r
    })
    .unwrap()
    .unwrap();
    let seen = seen.borrow();
    assert!(
        seen.contains(&(0, 1)),
        "the fast consumer pulled a chunk the slow one has not taken yet: {seen:?}"
    );
    assert!(
        seen.iter().all(|&(f, s)| f == 0 && s <= 1),
        "a pulled chunk waits for every consumer: {seen:?}"
    );
    flow.borrow().stream_lags_into(&mut lags);
    assert_eq!(lags, [0, 0], "caught up at the end");
    assert!(chunk_samples.get() > 0, "packed views carried chunk generations too");
}
