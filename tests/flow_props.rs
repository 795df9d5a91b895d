//! Property tests: random DAGs and random cycles with defaults against a straightforward
//! reference evaluator; random streams lose, duplicate or reorder no chunk; every run
//! terminates under a watchdog.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use flowloop::flow::{Emitter, Flow, FlowBuilder, Forward, Node, Outcome, RunOptions, Stream};
use proptest::prelude::*;

const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs the flow inside a loop with a timeout: a hang fails the property instead of the suite.
fn run_watched(flow: &mut Flow, options: RunOptions) -> Outcome {
    let run = flow.run(options);
    flowloop::run(async move { flowloop::timeout(WATCHDOG, run).await })
        .expect("loop")
        .expect("the run hung (watchdog)")
        .expect("the run failed")
}

#[derive(Debug, Clone, Copy)]
enum Arg {
    Const(i64),
    Node(usize),
}

/// A DAG: node `i` may read nodes `< i` (topological index); `order` is the creation order.
fn dag() -> impl Strategy<Value = (Vec<(Arg, Arg)>, Vec<usize>)> {
    (1usize..24).prop_flat_map(|n| {
        let nodes = (0..n)
            .map(|i| {
                let arg = if i == 0 {
                    (-50i64..50).prop_map(Arg::Const).boxed()
                } else {
                    prop_oneof![(-50i64..50).prop_map(Arg::Const), (0..i).prop_map(Arg::Node)].boxed()
                };
                (arg.clone(), arg)
            })
            .collect::<Vec<_>>();
        (nodes, Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    })
}

fn eval_dag(nodes: &[(Arg, Arg)]) -> Vec<i64> {
    let mut v = Vec::with_capacity(nodes.len());
    for (i, (a, b)) in nodes.iter().enumerate() {
        let get = |x: &Arg| match *x {
            Arg::Const(c) => c,
            Arg::Node(j) => v[j],
        };
        let value = (get(a).wrapping_mul(3)).wrapping_add(get(b)).wrapping_add(i as i64) % 1_000_003;
        v.push(value);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_dags_match_the_reference((nodes, order) in dag()) {
        let want = eval_dag(&nodes);
        let mut b = FlowBuilder::new();
        let fwd: Vec<Forward<i64>> = (0..nodes.len()).map(|i| b.forward::<i64>(&format!("n{i}"))).collect();
        let mut handles: Vec<Option<Node<i64>>> = vec![None; nodes.len()];
        for &i in &order {
            let k = i as i64;
            let (a, c) = nodes[i];
            let body = move |x: i64, y: i64| async move { (x.wrapping_mul(3)).wrapping_add(y).wrapping_add(k) % 1_000_003 };
            let h = match (a, c) {
                (Arg::Const(x), Arg::Const(y)) => b.node(body, (x, y)),
                (Arg::Const(x), Arg::Node(j)) => b.node(body, (x, fwd[j])),
                (Arg::Node(j), Arg::Const(y)) => b.node(body, (fwd[j], y)),
                (Arg::Node(j), Arg::Node(m)) => b.node(body, (fwd[j], fwd[m])),
            };
            handles[i] = Some(h);
        }
        for (i, h) in handles.iter().enumerate() {
            b.define(fwd[i], h.expect("every node created"));
        }
        let mut flow = b.build().unwrap();
        prop_assert!(run_watched(&mut flow, RunOptions::new()).is_completed());
        for (i, h) in handles.iter().enumerate() {
            let h = h.expect("created");
            prop_assert_eq!(flow.value(h), Some(want[i]), "node {}", i);
            prop_assert_eq!(flow.stats(h).runs, 1, "node {} runs exactly once", i);
        }
    }

    #[test]
    fn random_cycles_with_defaults_match_the_reference(
        k in 1usize..6,
        order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle(),
        defaults in proptest::collection::vec(proptest::option::of(-20i64..20), 6),
        limit in 0u64..30,
    ) {
        let order: Vec<usize> = order.into_iter().filter(|&i| i < k).collect();
        let mut defaults: Vec<Option<i64>> = defaults[..k].to_vec();
        if defaults.iter().all(Option::is_none) {
            defaults[k - 1] = Some(1);
        }
        // Reference: the breaker is the first created ring node whose input has a default; then
        // the ring runs in order, one node at a time, until the breaker finished run `limit`.
        let breaker = *order.iter().find(|&&i| defaults[i].is_some()).expect("a default exists");
        let f = |i: usize, x: i64| (x.wrapping_mul(3).wrapping_add(i as i64 + 1)) % 1_000_003;
        let mut want = vec![None; k];
        let mut runs = vec![0u64; k];
        let mut v = defaults[breaker].expect("breaker has a default");
        let mut step = 0usize;
        loop {
            let node = (breaker + step) % k;
            v = f(node, v);
            want[node] = Some(v);
            runs[node] += 1;
            if node == breaker && runs[node] == limit + 1 {
                break;
            }
            step += 1;
        }

        let mut b = FlowBuilder::new();
        let fwd: Vec<Forward<i64>> = (0..k).map(|i| b.forward::<i64>(&format!("r{i}"))).collect();
        let mut handles = vec![None; k];
        for &i in &order {
            let prev = fwd[(i + k - 1) % k];
            let body = move |x: i64| async move { f(i, x) };
            handles[i] = Some(match defaults[i] {
                Some(d) => b.node(body, (prev.or(d),)),
                None => b.node(body, (prev,)),
            });
        }
        for i in 0..k {
            b.define(fwd[i], handles[i].expect("created"));
        }
        let mut flow = b.build().unwrap();
        let h = |i: usize| handles[i].expect("created");
        let out = run_watched(&mut flow, RunOptions::new().limit(h(breaker), (limit,)));
        prop_assert!(!out.is_completed());
        for i in 0..k {
            prop_assert_eq!(flow.value(h(i)), want[i], "node {}", i);
            prop_assert_eq!(flow.stats(h(i)).runs, runs[i], "runs of node {}", i);
        }
    }

    #[test]
    fn streams_lose_duplicate_or_reorder_no_chunk(
        chunks in proptest::collection::vec(any::<i32>(), 0..60),
        consumers in 1usize..4,
        plain in any::<bool>(),
    ) {
        let data = Rc::new(chunks.clone());
        let mut b = FlowBuilder::new();
        let d = data.clone();
        let src = b.stream(
            move |out: Emitter<i32>| {
                let d = d.clone();
                async move {
                    let mut n = 0i64;
                    for &x in d.iter() {
                        out.emit(x).await.expect("nobody cancels");
                        n += 1;
                    }
                    n
                }
            },
            (),
        );
        let seen: Vec<Rc<RefCell<Vec<i32>>>> = (0..consumers).map(|_| Rc::default()).collect();
        for s in &seen {
            let s = s.clone();
            b.node(
                move |mut st: Stream<i32>| {
                    let s = s.clone();
                    async move {
                        while let Some(x) = st.next().await {
                            s.borrow_mut().push(x);
                        }
                    }
                },
                (src.stream(),),
            );
        }
        let count = plain.then(|| b.node(|n: i64| async move { n }, (src,)));
        let mut flow = b.build().unwrap();
        prop_assert!(run_watched(&mut flow, RunOptions::new()).is_completed());
        for s in &seen {
            prop_assert_eq!(&*s.borrow(), &chunks);
        }
        if let Some(c) = count {
            prop_assert_eq!(flow.value(c), Some(chunks.len() as i64));
        }
    }
}
