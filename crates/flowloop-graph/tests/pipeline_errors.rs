//! Pipelines that fail, loudly and by name: missing arguments (never a silent skip), the
//! explicit skip option, par conflicts, unknown dispatch keys, timeouts, the par error
//! policies, panics, bad outputs, and every definition error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flowloop_graph::pipeline::{
    DefinitionError, Dispatch, Group, Mapper, ParPolicy, Pipeline, PipelineError, Report, RunError, Skipped, Step,
    run_once,
};
use flowloop_graph::{Map, Value, kind, par, seq};
use serde::Deserialize;

fn run(p: &Pipeline, args: Map) -> Result<Report, RunError> {
    flowloop::run(p.run(args)).expect("the loop runs")
}

fn args<const N: usize>(pairs: [(&str, Value); N]) -> Map {
    pairs.into_iter().collect()
}

/// Builds a pipeline of `root` (which must be well formed) and runs it on `args`, expecting
/// a run error.
fn run_err(root: impl Into<Step>, args: Map) -> RunError {
    let p = Pipeline::new(root).expect("the pipeline is well formed");
    run(&p, args).expect_err("the run fails")
}

/// The parts of a [`RunError::Par`]: the par, the first failure, the cancelled members and
/// later failures.
fn par_parts(err: &RunError) -> (&str, &RunError, &[String], &[RunError]) {
    match err {
        RunError::Par {
            step,
            failed,
            cancelled,
            others,
        } => (step, failed, cancelled, others),
        other => panic!("expected a par error, got {other}"),
    }
}

/// A kind of the standard registry.
fn std_kind(name: &str) -> Arc<dyn flowloop_graph::kind::Kind> {
    flowloop_graph::Registry::with_std()
        .get(name)
        .cloned()
        .expect("a standard kind")
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[kind(name = "t.inc", outputs("n"))]
async fn inc(n: i64) -> (i64,) {
    (n + 1,)
}

#[kind(name = "t.scale", outputs("n"))]
async fn scale(n: i64, factor: i64) -> (i64,) {
    (n * factor,)
}

#[kind(name = "t.boom")]
fn boom(n: i64) -> i64 {
    if n > 0 {
        panic!("boom at {n}");
    }
    n
}

#[kind(name = "t.fail")]
async fn fail(n: i64) -> Result<i64, String> {
    Err(format!("cannot handle {n}"))
}

/// Sleeps `ms`, then counts itself in `done`.
fn sleeper(name: &str, ms: u64, done: &Arc<AtomicUsize>) -> Step {
    let done = Arc::clone(done);
    Step::async_fn(name, move |_: Map| {
        let done = Arc::clone(&done);
        async move {
            flowloop::sleep(Duration::from_millis(ms)).await;
            done.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(Map::new())
        }
    })
}

/// Fails after `ms`.
fn failer(name: &str, ms: u64) -> Step {
    Step::async_fn(name, move |_: Map| async move {
        flowloop::sleep(Duration::from_millis(ms)).await;
        Err::<Map, _>("disk full".to_string())
    })
}

#[test]
fn a_missing_argument_is_an_error_naming_step_and_argument_never_a_silent_skip() {
    // async-data-flow silently skips a step whose arguments are missing.
    let err = run_err(
        seq![scale_kind(), inc_kind()].named("main"),
        args([("n", Value::Int(2))]),
    );
    let RunError::MissingArgument {
        step,
        argument,
        available,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((step.as_str(), argument.as_str()), ("main/scale", "factor"));
    assert_eq!(available, &["n"]);
    assert_eq!(
        err.to_string(),
        "step `main/scale` is missing argument `factor` (visible: n); pass it, give it a default, or mark the \
         step skip_if_missing"
    );
    assert_eq!(err.step(), "main/scale");
}

#[derive(Deserialize)]
struct Needs {
    #[allow(dead_code)]
    width: i64,
    #[serde(default)]
    #[allow(dead_code)]
    height: i64,
}

#[test]
fn a_serde_step_missing_a_field_names_it_and_serde_defaults_still_apply() {
    let area = Step::sync_fn("area", |n: Needs| Ok::<_, String>(Map::from_iter([("w", n.width)])));
    let p = Pipeline::new(area).unwrap();
    let err = run(&p, args([("height", Value::Int(2))])).expect_err("width is missing");
    assert!(
        matches!(&err, RunError::MissingArgument { step, argument, .. } if step == "area" && argument == "width"),
        "{err}"
    );
    let ok = run(&p, args([("width", Value::Int(3))])).unwrap();
    assert_eq!(ok.outputs, args([("w", Value::Int(3))]));
}

#[test]
fn skipping_is_explicit_and_reported_in_the_result() {
    let p = Pipeline::new(seq![inc_kind(), Step::kind(scale_kind()).skip_if_missing(), inc_kind()]).unwrap();
    let report = run(&p, args([("n", Value::Int(1))])).unwrap();
    assert_eq!(
        report.outputs.get("n"),
        Some(&Value::Int(3)),
        "the skipped step passes its arguments on"
    );
    assert_eq!(
        report.skipped,
        [Skipped {
            step: "seq/scale".into(),
            argument: "factor".into()
        }]
    );
    // With the argument present, nothing is skipped.
    let p = Pipeline::new(
        seq![inc_kind(), Step::kind(scale_kind()).skip_if_missing(), inc_kind()]
            .visibility(flowloop_graph::pipeline::Visibility::Initial),
    )
    .unwrap();
    let report = run(&p, args([("n", Value::Int(1)), ("factor", Value::Int(10))])).unwrap();
    assert_eq!(report.outputs.get("n"), Some(&Value::Int(21)));
    assert!(report.skipped.is_empty());
}

#[test]
fn par_members_disagreeing_on_a_key_is_an_error_naming_the_key_and_both_steps() {
    let p = Pipeline::new(par![inc_kind(), Step::kind(scale_kind()).named("times")]).unwrap();
    let err = run(&p, args([("n", Value::Int(3)), ("factor", Value::Int(5))])).expect_err("a conflict");
    assert_eq!(
        err.to_string(),
        "par `par`: steps `par/inc` and `par/times` both produce `n`, with different values (4 vs 15)"
    );
    // Equal values merge.
    let report = run(&p, args([("n", Value::Int(1)), ("factor", Value::Int(2))])).unwrap();
    assert_eq!(report.outputs, args([("n", Value::Int(2))]));
}

#[test]
fn an_unknown_dispatch_key_is_an_error_listing_the_known_keys() {
    // async-data-flow raises an unrelated error here.
    let d = Dispatch::on("op")
        .case("inc", inc_kind())
        .case("scale", scale_kind())
        .named("apply");
    let p = Pipeline::new(d.clone()).unwrap();
    let err = run(&p, args([("op", Value::str("cube")), ("n", Value::Int(2))])).expect_err("an unknown key");
    assert_eq!(
        err.to_string(),
        "dispatch `apply`: no case for key `cube` (argument `op`); known keys: inc, scale"
    );
    let RunError::UnknownKey { known, key, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!((key.as_str(), known.len()), ("cube", 2));
    let err = run(&p, args([("n", Value::Int(2))])).expect_err("no key");
    assert!(
        matches!(&err, RunError::MissingArgument { step, argument, .. } if step == "apply" && argument == "op"),
        "{err}"
    );
    assert_eq!(
        d.select("cube").unwrap_err(),
        DefinitionError::UnknownKey {
            step: "apply".into(),
            key: "cube".into(),
            known: vec!["inc".into(), "scale".into()]
        }
    );
    assert!(d.select("inc").is_ok());
}

#[test]
fn a_step_over_its_timeout_fails_with_its_name() {
    let done = counter();
    let start = Instant::now();
    let err = run_err(
        seq![
            inc_kind(),
            sleeper("slow", 10_000, &done).timeout(Duration::from_millis(20))
        ],
        args([("n", Value::Int(1))]),
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the timeout cut the 10 s step short"
    );
    assert_eq!(err.to_string(), "step `seq/slow` timed out after 20ms");
    assert_eq!(done.load(Ordering::SeqCst), 0);
    // A group can have a timeout too; a fast step is unaffected.
    let group = Step::from(seq![inc_kind(), inc_kind()]).timeout(Duration::from_secs(30));
    let report = run(&Pipeline::new(group).unwrap(), args([("n", Value::Int(1))])).unwrap();
    assert_eq!(report.outputs.get("n"), Some(&Value::Int(3)));
}

#[test]
fn a_failure_in_a_par_cancels_the_siblings_by_default_and_says_which() {
    let done = counter();
    let start = Instant::now();
    let err = run_err(
        par![
            sleeper("slow_a", 10_000, &done),
            failer("broken", 5),
            sleeper("quick", 0, &done),
            sleeper("slow_b", 10_000, &done),
        ]
        .named("fetch"),
        Map::new(),
    );
    assert!(start.elapsed() < Duration::from_secs(5), "siblings were not awaited");
    let (step, failed, cancelled, others) = par_parts(&err);
    assert_eq!(step, "fetch");
    assert_eq!(failed.step(), "fetch/broken");
    assert_eq!(cancelled, &["fetch/slow_a", "fetch/slow_b"]);
    assert!(others.is_empty());
    assert_eq!(done.load(Ordering::SeqCst), 1, "only `quick` finished");
    assert_eq!(
        err.to_string(),
        "par `fetch`: step `fetch/broken` failed: disk full; cancelled: fetch/slow_a, fetch/slow_b"
    );
}

#[test]
fn under_the_finish_policy_siblings_run_to_the_end_and_every_failure_is_reported() {
    let done = counter();
    let err = run_err(
        par![
            sleeper("slow", 30, &done),
            failer("first", 1),
            failer("second", 10),
            sleeper("quick", 0, &done)
        ]
        .on_error(ParPolicy::Finish),
        Map::new(),
    );
    let (_, failed, cancelled, others) = par_parts(&err);
    assert_eq!(failed.step(), "par/first");
    assert!(cancelled.is_empty());
    assert_eq!(others.iter().map(RunError::step).collect::<Vec<_>>(), ["par/second"]);
    assert_eq!(done.load(Ordering::SeqCst), 2, "both sleepers finished");
}

#[test]
fn a_failure_deep_inside_nested_groups_names_the_innermost_step() {
    let err = run_err(
        seq![
            inc_kind(),
            par![seq![inc_kind(), fail_kind()].named("inner"), inc_kind()]
        ],
        args([("n", Value::Int(0))]),
    );
    assert_eq!(err.step(), "seq/par/inner/fail");
    assert!(
        err.to_string()
            .contains("step `seq/par/inner/fail` failed: cannot handle 2"),
        "{err}"
    );
}

#[test]
fn panics_become_errors_naming_the_step_and_the_loop_survives() {
    let err = run_err(seq![inc_kind(), boom_kind()], args([("n", Value::Int(1))]));
    assert_eq!(err.to_string(), "step `seq/boom` panicked: boom at 2");
    let inline = Step::kind(boom_kind()).exec(flowloop_graph::pipeline::Exec::Loop);
    let p = Pipeline::new(par![inline, inc_kind()]).unwrap();
    let err = run(&p, args([("n", Value::Int(5))])).expect_err("the inline step panics");
    assert_eq!(err.step(), "par/boom");
    assert!(matches!(&err, RunError::Par { failed, .. } if matches!(**failed, RunError::Panicked { .. })));
    assert!(
        run(&p, args([("n", Value::Int(0))])).is_ok(),
        "the same pipeline runs again"
    );
}

#[test]
fn a_result_that_cannot_be_named_is_an_error_saying_what_to_do() {
    let count = Step::async_fn("count", |m: Map| async move { Ok::<_, String>(m.len() as i64) });
    let err = run_err(count.clone(), Map::new());
    assert_eq!(
        err.to_string(),
        "step `count`: it returned the int 0, not named outputs: return a map or struct, or name the value with \
         Mapper::returns"
    );
    let pair = Step::sync_fn("pair", |_: Map| Ok::<_, String>((1, 2, 3))).returns(["a", "b"]);
    let err = run_err(pair, Map::new());
    assert_eq!(
        err.to_string(),
        "step `pair`: it returned the list [1, 2, 3], but the mapper names 2 outputs (a, b)"
    );
    assert!(matches!(
        Pipeline::new(count.map(Mapper::new().returns(["n"]).output("m", "x"))),
        Err(DefinitionError::UnknownOutput { .. })
    ));
    // A map result's keys are known only at run time.
    let echo = Step::async_fn("echo", |m: Map| async move { Ok::<_, String>(m) });
    let renamed = echo.map(Mapper::new().output("m", "x"));
    let err = run_err(renamed, args([("n", Value::Int(1))]));
    assert!(
        err.to_string()
            .contains("renames output `m`, which the step did not produce"),
        "{err}"
    );
}

#[test]
fn definition_errors_are_found_before_running() {
    let empty_seq = Pipeline::new(seq![inc_kind(), Group::par([])]).unwrap_err();
    assert_eq!(
        empty_seq.to_string(),
        "step `seq/par` is an empty par: give it at least one step"
    );
    assert!(matches!(
        Pipeline::new(Group::seq([])),
        Err(DefinitionError::EmptyGroup { group: "seq", .. })
    ));
    assert!(matches!(
        Pipeline::new(Dispatch::on("k")),
        Err(DefinitionError::EmptyDispatch { .. })
    ));
    let twice = Dispatch::on("k").case("a", inc_kind()).case("a", inc_kind());
    assert_eq!(
        Pipeline::new(twice).unwrap_err(),
        DefinitionError::DuplicateKey {
            step: "dispatch".into(),
            key: "a".into()
        }
    );
    let bad_input = Step::kind(scale_kind()).map(Mapper::new().input("size", "s"));
    assert_eq!(
        Pipeline::new(bad_input).unwrap_err().to_string(),
        "the mapper of step `scale` renames input `size`, but the step has no such parameter (it has: n, factor)"
    );
    let bad_output = Step::kind(inc_kind()).map(Mapper::new().output("m", "x"));
    assert!(matches!(
        Pipeline::new(bad_output),
        Err(DefinitionError::UnknownOutput { output, .. }) if output == "m"
    ));
    #[kind(name = "t.two")]
    async fn two() -> (i64, i64) {
        (1, 2)
    }
    let bad_count = Step::kind(two_kind()).returns(["a", "b", "c"]);
    assert_eq!(
        Pipeline::new(bad_count).unwrap_err(),
        DefinitionError::ReturnCount {
            step: "two".into(),
            given: 3,
            expected: 2
        }
    );
    let skip_group = Step::from(seq![inc_kind()]).skip_if_missing();
    assert!(matches!(
        Pipeline::new(skip_group),
        Err(DefinitionError::SkipOnGroup { .. })
    ));
    assert!(matches!(
        Pipeline::new(Step::from(std_kind("streams.sum"))),
        Err(DefinitionError::Streaming { kind, .. }) if kind == "streams.sum"
    ));
    assert!(matches!(
        Pipeline::new(Step::from(std_kind("streams.range"))),
        Err(DefinitionError::Streaming { port, .. }) if port == "<emitter>"
    ));
}

#[test]
fn run_once_reports_both_kinds_of_error() {
    let err = flowloop::run(run_once(Group::par([]), Map::new()))
        .unwrap()
        .unwrap_err();
    assert!(matches!(
        err,
        PipelineError::Definition(DefinitionError::EmptyGroup { .. })
    ));
    let err = flowloop::run(run_once(inc_kind(), Map::new())).unwrap().unwrap_err();
    assert!(matches!(err, PipelineError::Run(RunError::MissingArgument { .. })));
    let ok = flowloop::run(run_once(inc_kind(), args([("n", Value::Int(1))])))
        .unwrap()
        .unwrap();
    assert_eq!(ok.outputs.get("n"), Some(&Value::Int(2)));
}
