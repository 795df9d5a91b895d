//! Flow resolution errors, rendering, and the in-process executor (no Redis needed).

use std::time::Duration;

use flowloop_redis::{
    FlowBuilder, FlowError, FlowInputs, InProcess, Outputs, ProcessError, Processor, Provided, RunError,
};

fn pass(name: &str, input: &str, output: &str) -> Processor {
    Processor::map(name, input, output, |x: i64| async move { Ok::<_, ProcessError>(x) })
}

#[test]
fn resolution_errors_name_the_culprit() {
    let cycle = FlowBuilder::new("f")
        .processor(pass("a", "x", "y"))
        .processor(pass("b", "y", "x"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&cycle, FlowError::Cycle { path, .. } if path.len() == 3),
        "{cycle:?}"
    );
    assert!(cycle.to_string().contains("a -> b -> a"), "{cycle}");

    let two = FlowBuilder::new("f")
        .input("x")
        .processor(pass("a", "x", "x2"))
        .processor(pass("b", "x", "x2"));
    let two = two.output("x2").build().unwrap_err();
    assert_eq!(
        two.to_string(),
        "flow `f`: stream `x2` has two producers, processor `a` and processor `b`; a stream has exactly one"
    );

    let input_twice = FlowBuilder::new("f")
        .input("x")
        .processor(pass("a", "y", "x"))
        .build()
        .unwrap_err();
    assert!(
        input_twice.to_string().contains("the flow input and processor `a`"),
        "{input_twice}"
    );

    let unproduced = FlowBuilder::new("f")
        .processor(pass("a", "nope", "y"))
        .output("y")
        .build()
        .unwrap_err();
    assert!(
        matches!(&unproduced, FlowError::Unproduced { stream, processor, .. } if stream.as_str() == "nope" && processor.as_str() == "a")
    );
    assert!(unproduced.to_string().contains(".input(\"nope\")"), "{unproduced}");

    let unread = FlowBuilder::new("f")
        .input("x")
        .processor(pass("a", "x", "y"))
        .build()
        .unwrap_err();
    assert!(matches!(unread, FlowError::Unread { .. }), "{unread:?}");

    let missing_out = FlowBuilder::new("f")
        .input("x")
        .processor(pass("a", "x", "y"))
        .output("y")
        .output("z");
    assert!(matches!(
        missing_out.build().unwrap_err(),
        FlowError::UnproducedOutput { .. }
    ));

    let dup = FlowBuilder::new("f")
        .input("x")
        .processor(pass("a", "x", "y"))
        .processor(pass("a", "y", "z"));
    assert!(matches!(
        dup.output("z").build().unwrap_err(),
        FlowError::DuplicateProcessor { .. }
    ));

    let no_handler = FlowBuilder::new("f")
        .input("x")
        .processor(Processor::new("h").reads("x"))
        .build()
        .unwrap_err();
    assert!(
        no_handler.to_string().contains("processor `h` has no handler"),
        "{no_handler}"
    );
}

#[test]
fn order_streams_and_caps_follow_the_wiring() {
    let sum = Processor::new("sum")
        .reads("b")
        .writes("s")
        .wait(|inputs, _| async move {
            let mut out = Outputs::new();
            out.emit("s", &inputs.all::<i64>("b")?.iter().sum::<i64>())?;
            Ok(out)
        });
    let flow = FlowBuilder::new("f")
        .processor(sum)
        .processor(pass("second", "a", "b"))
        .processor(pass("first", "x", "a"))
        .input("x")
        .output("s")
        .cap("a", 5)
        .build()
        .expect("valid");
    let names: Vec<&str> = flow
        .order()
        .iter()
        .map(|i| flow.processor(*i).name().as_str())
        .collect();
    assert_eq!(names, ["first", "second", "sum"]);
    let streams = flow.streams();
    assert_eq!(streams[&"a".into()].cap, Some(5));
    assert_eq!(
        streams[&"b".into()].cap,
        None,
        "inputs of a wait processor are unbounded"
    );
    assert_eq!(streams[&"x".into()].cap, Some(1024));
    assert_eq!(streams[&"s".into()].cap, None, "flow outputs are unbounded");

    let mermaid = flow.to_mermaid();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(mermaid.contains("p_sum{{\"sum (wait)\"}}"), "{mermaid}");
    assert!(mermaid.contains("p_first -->|\"a (cap 5)\"| p_second"), "{mermaid}");
    assert!(
        mermaid.contains("s_x((\"x\"))") && mermaid.contains("p_sum -->|\"s\"| o_s"),
        "{mermaid}"
    );
    let dot = flow.to_dot();
    assert!(dot.contains("p_sum [label=\"sum\", shape=hexagon];"), "{dot}");
    assert!(dot.contains("p_second -> p_sum [label=\"b\"];"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
}

struct Factor(i64);

#[test]
fn in_process_injects_dependencies_and_checks_them() {
    let scale = Processor::new("scale")
        .reads("x")
        .writes("y")
        .needs::<Factor>()
        .each(|item, ctx| async move {
            let x: i64 = item.decode()?;
            let mut out = Outputs::new();
            out.emit("y", &(x * ctx.get::<Factor>()?.0))?;
            Ok(out)
        });
    let flow = FlowBuilder::new("f")
        .input("x")
        .processor(scale)
        .output("y")
        .build()
        .expect("valid");
    let (ok, missing, unknown) = flowloop::run(async move {
        let inputs = FlowInputs::new().feed("x", &[1, 2, 3]).expect("serialize");
        let ok = InProcess::new(&flow)
            .provide(Provided::new().with(Factor(10)))
            .queue_capacity(1)
            .run(inputs.clone())
            .await;
        let missing = InProcess::new(&flow).run(inputs).await;
        let unknown = InProcess::new(&flow)
            .run(FlowInputs::new().feed("nope", &[1]).expect("serialize"))
            .await;
        (ok, missing, unknown)
    })
    .expect("loop runs");
    assert_eq!(ok.expect("run").get::<i64>("y").expect("y"), [10, 20, 30]);
    let missing = missing.unwrap_err();
    assert!(matches!(missing, RunError::MissingDependency { .. }), "{missing:?}");
    assert!(
        missing
            .to_string()
            .contains("processor `scale` needs a `flow_model::Factor`"),
        "{missing}"
    );
    assert!(unknown.unwrap_err().to_string().contains("has no input stream `nope`"));
}

#[test]
fn in_process_reports_an_undeclared_output_and_dead_letters() {
    let sneaky = Processor::new("sneaky")
        .reads("x")
        .writes("y")
        .each(|_item, _ctx| async move {
            let mut out = Outputs::new();
            out.emit("elsewhere", &1)?;
            Ok(out)
        });
    let flow = FlowBuilder::new("f")
        .input("x")
        .processor(sneaky)
        .output("y")
        .build()
        .expect("valid");
    let flaky = Processor::map("flaky", "x", "y", |x: i64| async move {
        flowloop::sleep(Duration::from_millis(1)).await;
        if x % 2 == 0 {
            Ok(x)
        } else {
            Err(ProcessError::new(format!("odd {x}")))
        }
    });
    let flaky = FlowBuilder::new("g")
        .input("x")
        .processor(flaky)
        .output("y")
        .max_deliveries(2)
        .build()
        .expect("valid");
    let (err, out) = flowloop::run(async move {
        let inputs = FlowInputs::new().feed("x", &[1, 2, 3, 4]).expect("serialize");
        let err = InProcess::new(&flow).run(inputs.clone()).await.unwrap_err();
        (err, InProcess::new(&flaky).run(inputs).await.expect("run"))
    })
    .expect("loop runs");
    assert_eq!(
        err.to_string(),
        "processor `sneaky` emitted on stream `elsewhere`, which it does not declare; add .writes(\"elsewhere\")"
    );
    assert_eq!(out.get::<i64>("y").expect("y"), [2, 4]);
    let dead: Vec<(&[u8], &str, u32)> = out
        .dead_letters()
        .iter()
        .map(|d| (d.payload.as_slice(), d.error.as_str(), d.deliveries))
        .collect();
    assert_eq!(dead, [(&b"1"[..], "odd 1", 2), (&b"3"[..], "odd 3", 2)]);
    let decode = out.get::<String>("y").unwrap_err();
    assert!(matches!(decode, RunError::Decode { .. }), "{decode:?}");
}

/// Reads `executor.stats()` until `ready` holds for the stats of `stream` (at most 2,000 yields).
async fn stats_when(
    executor: &InProcess,
    stream: &str,
    ready: impl Fn(&flowloop_redis::StreamStats) -> bool,
) -> flowloop_redis::StreamStats {
    for _ in 0..2000 {
        let stats = executor.stats();
        if let Some(s) = stats.iter().find(|s| s.stream.as_str() == stream && ready(s)) {
            return s.clone();
        }
        flowloop::yield_now().await;
    }
    panic!("stats of `{stream}` never matched: {:?}", executor.stats());
}

#[test]
fn in_process_stats_show_lag_and_pending_while_running() {
    use flowloop::sync::Event;
    use std::rc::Rc;
    struct Gate(Event);
    let gated = Processor::new("gated")
        .reads("in")
        .writes("out")
        .needs::<Gate>()
        .each(|item, ctx| async move {
            ctx.get::<Gate>()?.0.wait().await;
            let mut out = Outputs::new();
            out.emit("out", &item.decode::<i64>()?)?;
            Ok(out)
        });
    let sum = Processor::new("sum")
        .reads("out")
        .writes("total")
        .stream(|mut io, _ctx| async move {
            let (mut input, mut total) = (io.input("out")?, io.output("total")?);
            let mut sum = 0i64;
            while let Some(item) = input.next().await? {
                sum += item.decode::<i64>()?;
            }
            total.emit(&sum).await
        });
    let flow = FlowBuilder::new("gated")
        .input("in")
        .processor(gated)
        .processor(sum)
        .output("total")
        .build()
        .expect("valid");
    let gate = Rc::new(Gate(Event::new()));
    let executor = InProcess::new(&flow).provide(Provided::new().with(Gate(gate.0.clone())));
    assert!(executor.stats().is_empty(), "no run yet: {:?}", executor.stats());
    let watcher = executor.clone();
    let total = flowloop::run(async move {
        let inputs = FlowInputs::new().feed("in", &[1i64, 2, 3, 4, 5]).expect("serialize");
        let run = flowloop::spawn(async move { executor.run(inputs).await }).await;
        // The first entry is in the handler, four wait behind it.
        let held = stats_when(&watcher, "in", |s| s.pending == 1).await;
        assert_eq!((held.group.as_str(), held.lag, held.length), ("gated", Some(4), 5));
        let downstream = watcher
            .stats()
            .into_iter()
            .find(|s| s.stream.as_str() == "out")
            .expect("out");
        assert_eq!(
            (downstream.group.as_str(), downstream.lag, downstream.pending),
            ("sum", Some(0), 0)
        );
        gate.0.set();
        let outputs = run.join().await.expect("run task").expect("run");
        for s in watcher.stats() {
            assert_eq!((s.lag, s.pending, s.length), (Some(0), 0, 0), "{s:?}");
        }
        outputs.get::<i64>("total").expect("total")
    })
    .expect("loop runs");
    assert_eq!(total, [15]);
}
