//! Pipelines that work: seq/par nested to any depth, argument visibility, mappers, serde
//! steps, dispatch, sync steps on the offload pool, a pipeline as a step.

use std::time::Duration;

use flowloop_graph::pipeline::{DefinitionError, Dispatch, Exec, Mapper, Pipeline, Report, RunError, Step, Visibility};
use flowloop_graph::{Map, Value, kind, par, seq};
use serde::{Deserialize, Serialize};

fn run(p: &Pipeline, args: Map) -> Result<Report, RunError> {
    flowloop::run(p.run(args)).expect("the loop runs")
}

fn args<const N: usize>(pairs: [(&str, Value); N]) -> Map {
    pairs.into_iter().collect()
}

/// Parses a number.
#[kind(name = "t.parse", outputs("n"))]
async fn parse(text: String) -> Result<(i64,), String> {
    text.trim()
        .parse::<i64>()
        .map(|n| (n,))
        .map_err(|e| format!("`{text}`: {e}"))
}

#[kind(name = "t.double", outputs("n"))]
async fn double(n: i64) -> (i64,) {
    (2 * n,)
}

#[kind(name = "t.inc", outputs("n"))]
async fn inc(n: i64) -> (i64,) {
    (n + 1,)
}

#[kind(name = "t.square")]
async fn square(n: i64) -> i64 {
    n * n
}

/// A step that returns a map (its entries are the outputs).
#[kind(name = "t.label")]
async fn label(n: i64, #[default("n")] prefix: String) -> Map {
    Map::from_iter([("label", format!("{prefix}={n}"))])
}

#[test]
fn a_seq_feeds_each_steps_outputs_to_the_next_as_arguments() {
    let p = Pipeline::new(seq![parse_kind(), double_kind(), inc_kind(), label_kind()]).unwrap();
    let report = run(&p, args([("text", Value::str(" 20 "))])).unwrap();
    assert_eq!(report.outputs, args([("label", Value::str("n=41"))]));
    assert!(report.skipped.is_empty());
    assert_eq!(p.inputs(), [("text".to_string(), None)]);
}

#[test]
fn a_par_merges_its_members_maps_and_equal_values_are_fine() {
    let p = Pipeline::new(seq![
        parse_kind(),
        par![
            Step::kind(square_kind()).returns(["squared"]),
            double_kind(),                            // n = 2n
            Step::kind(double_kind()).named("again"), // the same n = 2n: equal values merge
        ],
    ])
    .unwrap();
    let report = run(&p, args([("text", Value::str("6"))])).unwrap();
    assert_eq!(report.outputs.to_string(), r#"{"squared": 36, "n": 12}"#);
}

#[test]
fn a_seq_nested_in_a_par_keeps_its_result() {
    // async-data-flow loses the result of a sequence nested in a concurrent group.
    let p = Pipeline::new(par![
        seq![double_kind(), inc_kind(), Step::kind(square_kind()).returns(["chain"])],
        Step::kind(square_kind()).returns(["direct"]),
    ])
    .unwrap();
    let report = run(&p, args([("n", Value::Int(3))])).unwrap();
    assert_eq!(report.outputs.get("chain"), Some(&Value::Int(49)));
    assert_eq!(report.outputs.get("direct"), Some(&Value::Int(9)));
    assert_eq!(p.outputs(), Some(vec!["chain".to_string(), "direct".to_string()]));
}

/// `depth` levels of seq-in-par-in-seq, each adding one through a fresh `inc`.
fn nested(depth: usize) -> Step {
    if depth == 0 {
        return inc_kind().into();
    }
    let inner = par![seq![inc_kind(), nested(depth - 1)]];
    seq![inner, inc_kind()].into()
}

#[test]
fn groups_nest_to_any_depth() {
    for depth in [0, 1, 5, 20] {
        let p = Pipeline::new(nested(depth)).unwrap();
        let report = run(&p, args([("n", Value::Int(0))])).unwrap();
        assert_eq!(
            report.outputs.get("n"),
            Some(&Value::Int(1 + 2 * depth as i64)),
            "depth {depth}"
        );
    }
}

#[test]
fn a_pipeline_is_itself_a_step() {
    let inner = Pipeline::new(seq![double_kind(), inc_kind()].named("double_inc")).unwrap();
    let outer = Pipeline::new(seq![parse_kind(), inner.clone(), inner, label_kind()]).unwrap();
    let report = run(&outer, args([("text", Value::str("1"))])).unwrap();
    // 1 -> 3 -> 7
    assert_eq!(report.outputs.get("label"), Some(&Value::str("n=7")));
}

#[kind(name = "t.a", outputs("y"))]
async fn step_a(x: i64) -> (i64,) {
    (x + 10,)
}

#[kind(name = "t.b", outputs("z"))]
async fn step_b(y: i64) -> (i64,) {
    (y * 2,)
}

#[kind(name = "t.c", outputs("w"))]
async fn step_c(x: i64, z: i64) -> (i64,) {
    (x + z,)
}

#[kind(name = "t.d", outputs("v"))]
async fn step_d(y: i64, w: i64) -> (i64,) {
    (y * 1000 + w,)
}

#[test]
fn visibility_none_passes_initial_arguments_only_to_the_first_step() {
    let err = Pipeline::new(seq![step_a_kind(), step_b_kind(), step_c_kind()]).unwrap_err();
    assert_eq!(
        err,
        DefinitionError::NotProduced {
            step: "seq/c".into(),
            argument: "x".into(),
            previous: "seq/b".into(),
            produces: vec!["z".into()],
        }
    );
    // Open steps are checked at run time: the error names step and argument.
    let peek = Step::async_fn("peek", |m: Map| async move { Ok::<_, String>(m) });
    let p = Pipeline::new(seq![step_a_kind(), step_b_kind(), peek, step_c_kind()]).unwrap();
    let err = run(&p, args([("x", Value::Int(1))])).unwrap_err();
    assert!(
        matches!(&err, RunError::MissingArgument { step, argument, .. } if step == "seq/c" && argument == "x"),
        "{err}"
    );
}

#[test]
fn visibility_initial_shows_every_step_the_initial_arguments() {
    let p = Pipeline::new(seq![step_a_kind(), step_b_kind(), step_c_kind()].visibility(Visibility::Initial)).unwrap();
    let report = run(&p, args([("x", Value::Int(1))])).unwrap();
    assert_eq!(
        report.outputs.to_string(),
        r#"{"w": 23}"#,
        "a seq's result is its last step's outputs"
    );
    // d needs y, produced two steps back: not visible under Initial.
    let p =
        Pipeline::new(seq![step_a_kind(), step_b_kind(), step_c_kind(), step_d_kind()].visibility(Visibility::Initial))
            .unwrap();
    let err = run(&p, args([("x", Value::Int(1))])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `seq/d` is missing argument `y` (visible: x, w); pass it, give it a default, or mark the step \
         skip_if_missing"
    );
    assert_eq!(p.inputs(), [("x".to_string(), None), ("y".to_string(), None)]);
}

#[test]
fn visibility_all_shows_every_step_everything_produced_before_it() {
    let all = seq![step_a_kind(), step_b_kind(), step_c_kind(), step_d_kind()].visibility(Visibility::All);
    let p = Pipeline::new(all).unwrap();
    let report = run(&p, args([("x", Value::Int(1))])).unwrap();
    // y = 11, z = 22, w = 23, v = 11023
    assert_eq!(report.outputs.to_string(), r#"{"v": 11023}"#);
    assert_eq!(p.inputs(), [("x".to_string(), None)]);
}

#[test]
fn a_nested_seq_inherits_visibility_unless_it_sets_its_own() {
    let inner = seq![step_b_kind(), step_c_kind()];
    let p = Pipeline::new(seq![step_a_kind(), inner].visibility(Visibility::All)).unwrap();
    let report = run(&p, args([("x", Value::Int(1))])).unwrap();
    assert_eq!(report.outputs.get("w"), Some(&Value::Int(23)));
    let inner = seq![step_b_kind(), step_c_kind()].visibility(Visibility::None);
    let err = Pipeline::new(seq![step_a_kind(), inner].visibility(Visibility::All)).unwrap_err();
    assert!(matches!(err, DefinitionError::NotProduced { .. }), "{err}");
}

#[kind(name = "t.thread")]
fn thread_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").to_string()
}

#[test]
fn sync_steps_run_on_the_offload_pool_and_async_ones_on_the_loop() {
    let here = std::thread::current().name().unwrap_or("unnamed").to_string();
    let p = Pipeline::new(par![
        Step::kind(thread_name_kind()).returns(["pool"]),
        Step::kind(thread_name_kind()).exec(Exec::Loop).returns(["inline"]),
        Step::sync_fn("sync_closure", |_: Map| {
            Ok::<_, String>(Map::from_iter([(
                "closure",
                std::thread::current().name().unwrap_or("unnamed").to_string(),
            )]))
        }),
        Step::async_fn("async_closure", |_: Map| async {
            Ok::<_, String>(Map::from_iter([(
                "async",
                std::thread::current().name().unwrap_or("unnamed").to_string(),
            )]))
        }),
    ])
    .unwrap();
    let out = run(&p, Map::new()).unwrap().outputs;
    assert_ne!(out.get("pool"), Some(&Value::str(&here)), "{out}");
    assert_ne!(out.get("closure"), Some(&Value::str(&here)), "{out}");
    assert_eq!(out.get("inline"), Some(&Value::str(&here)));
    assert_eq!(out.get("async"), Some(&Value::str(&here)));
}

#[test]
fn a_blocking_sync_step_does_not_stall_its_par_siblings() {
    // `waiter` blocks its thread until `signaller`, its sibling on the loop, has run. On the
    // loop's own thread it would wait out its 10 s bound and fail instead.
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    let waiter = Step::sync_fn("waiter", move |_: Map| {
        let wait = wait.lock().map_err(|_| "the channel lock is poisoned")?;
        wait.recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the async sibling never ran while this step blocked")?;
        Ok::<_, String>(Map::from_iter([("waited", true)]))
    });
    let signaller = Step::async_fn("signaller", move |_: Map| {
        let sent = go.send(()).is_ok();
        async move { Ok::<_, String>(Map::from_iter([("signalled", sent)])) }
    });
    let p = Pipeline::new(par![waiter, signaller]).unwrap();
    let out = run(&p, Map::new()).unwrap().outputs;
    assert_eq!(out.to_string(), r#"{"waited": true, "signalled": true}"#);
}

#[derive(Deserialize)]
struct Order {
    price: f64,
    quantity: i64,
    #[serde(default)]
    discount: f64,
}

#[derive(Serialize)]
struct Total {
    total: f64,
}

#[derive(Deserialize)]
struct Shipping {
    total: f64,
    country: String,
}

#[test]
fn serde_struct_steps_take_fields_as_arguments_and_return_struct_fields() {
    let total = Step::sync_fn("total", |o: Order| {
        Ok::<_, String>(Total {
            total: o.price * o.quantity as f64 - o.discount,
        })
    });
    let ship = Step::async_fn("ship", |s: Shipping| async move {
        let fee = if s.country == "FR" { 5.0 } else { 20.0 };
        Ok::<_, String>(Map::from_iter([("due", s.total + fee)]))
    });
    let p = Pipeline::new(seq![total, ship].visibility(Visibility::Initial)).unwrap();
    let order = args([
        ("price", Value::Float(2.5)),
        ("quantity", Value::Int(4)),
        ("country", Value::str("FR")),
        ("unrelated", Value::str("ignored")),
    ]);
    let report = run(&p, order).unwrap();
    assert_eq!(report.outputs.get("due"), Some(&Value::Float(15.0)));
    // A serde result's fields are known only at run time, so `total` counts as an input too.
    let names: Vec<String> = p.inputs().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["price", "quantity", "discount", "total", "country"]);
}

#[kind(name = "t.divmod")]
async fn divmod(a: i64, b: i64) -> (i64, i64) {
    (a / b, a % b)
}

#[test]
fn a_mapper_renames_inputs_and_outputs_and_names_returned_values() {
    let split = Step::kind(divmod_kind()).map(
        Mapper::new()
            .input("a", "total")
            .input("b", "parts")
            .returns(["each", "left"])
            .output("left", "rest"),
    );
    let p = Pipeline::new(split).unwrap();
    let report = run(&p, args([("total", Value::Int(17)), ("parts", Value::Int(5))])).unwrap();
    assert_eq!(report.outputs.to_string(), r#"{"each": 3, "rest": 2}"#);
    assert_eq!(p.inputs(), [("total".to_string(), None), ("parts".to_string(), None)]);
    assert_eq!(p.outputs(), Some(vec!["each".to_string(), "rest".to_string()]));

    // Serde steps: a tuple result split over names, a single value under one name.
    let pair = Step::sync_fn("pair", |m: Map| {
        let n = m.get("n").and_then(Value::as_int).unwrap_or(0);
        Ok::<_, String>((n, n * n))
    })
    .returns(["same", "squared"]);
    let one = Step::async_fn("one", |m: Map| async move { Ok::<_, String>(m.len() as i64) }).returns(["count"]);
    let p = Pipeline::new(par![pair, one]).unwrap();
    let report = run(&p, args([("n", Value::Int(4))])).unwrap();
    assert_eq!(report.outputs.to_string(), r#"{"same": 4, "squared": 16, "count": 1}"#);
    // Default kind output names: a tuple without names gives out0, out1.
    let p = Pipeline::new(seq![divmod_kind()]).unwrap();
    assert_eq!(p.outputs(), Some(vec!["out0".to_string(), "out1".to_string()]));
}

#[test]
fn a_group_mapper_renames_what_goes_in_and_comes_out() {
    let group =
        Step::from(seq![double_kind(), inc_kind()]).map(Mapper::new().input("n", "start").output("n", "result"));
    let p = Pipeline::new(group).unwrap();
    let report = run(&p, args([("start", Value::Int(5))])).unwrap();
    assert_eq!(report.outputs, args([("result", Value::Int(11))]));
}

#[test]
fn dispatch_runs_the_step_registered_under_the_key() {
    let by_op = Dispatch::on("op")
        .case("double", double_kind())
        .case("inc", inc_kind())
        .case("7", Step::kind(square_kind()).returns(["n"]))
        .named("apply");
    let p = Pipeline::new(seq![parse_kind(), by_op].visibility(Visibility::Initial)).unwrap();
    for (op, want) in [(Value::str("double"), 10), (Value::str("inc"), 6), (Value::Int(7), 25)] {
        let report = run(&p, args([("text", Value::str("5")), ("op", op.clone())])).unwrap();
        assert_eq!(report.outputs.get("n"), Some(&Value::Int(want)), "op {op}");
    }
    assert_eq!(p.inputs(), [("text".to_string(), None), ("op".to_string(), None)]);
}

#[test]
fn a_pipeline_runs_again_and_concurrently_with_itself() {
    let slow = Step::async_fn("slow", |m: Map| async move {
        flowloop::sleep(Duration::from_millis(5)).await;
        Ok::<_, String>(m)
    });
    let p = Pipeline::new(seq![double_kind(), slow, inc_kind()]).unwrap();
    let results = flowloop::run({
        let p = p.clone();
        async move {
            let mut handles = Vec::new();
            for n in 0..10 {
                handles.push(flowloop::spawn(p.run(args([("n", Value::Int(n))]))).await);
            }
            let mut out = Vec::new();
            for h in handles {
                out.push(
                    h.join()
                        .await
                        .unwrap()
                        .unwrap()
                        .outputs
                        .get("n")
                        .and_then(Value::as_int),
                );
            }
            out
        }
    })
    .unwrap();
    assert_eq!(results, (0..10).map(|n| Some(2 * n + 1)).collect::<Vec<_>>());
}
