//! The loader never panics: random texts, mutated example specs and random structured specs
//! (unknown kinds, wrong types, dangling edges, duplicate ids, cycles) either load or fail
//! with an error that has a line and column; whatever loads also builds and runs (bounded by a
//! generation limit) without panicking. 10,000 cases in release builds.

mod common;

use std::time::Duration;

use flowloop::flow::RunOptions;
use flowloop_graph::{Graph, Registry};
use proptest::prelude::*;

/// Cases per property: 10,000 in all in release builds, fewer in debug builds.
fn cases(release: u32) -> ProptestConfig {
    ProptestConfig::with_cases(if cfg!(debug_assertions) { release / 20 } else { release })
}

/// Loads `text`; if it loads, builds and runs it under a limit and a watchdog.
fn exercise(text: &str) {
    match Graph::from_json(text, Registry::with_std()) {
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
            assert!(!e.message.is_empty());
        }
        Ok(g) => {
            let again = Graph::from_json(&g.to_json(), Registry::with_std()).expect("saved graphs load");
            assert_eq!(again.to_json(), g.to_json(), "canonical text is stable");
            let Ok(mut batch) = g.batch() else { return };
            let run = batch.run_async(RunOptions::new().limit_all((3,)).terminate_on_error(false));
            let finished = flowloop::run(async move { flowloop::timeout(Duration::from_secs(10), run).await })
                .expect("the loop runs");
            assert!(finished.is_ok(), "a run of a loaded graph hung");
        }
    }
}

const KINDS: &[&str] = &[
    "math.add",
    "math.mul",
    "flow.gate",
    "flow.merge",
    "math.div",
    "math.divmod",
    "flow.if",
    "flow.switch",
    "flow.passthrough",
    "flow.select",
    "streams.range",
    "streams.sum",
    "streams.collect",
];
/// Kinds the registry does not have (picked 1 time in 40).
const BAD_KINDS: &[&str] = &["math.nope", ""];

fn kind_name(r: u8) -> &'static str {
    if r % 40 == 0 {
        BAD_KINDS[r as usize % BAD_KINDS.len()]
    } else {
        KINDS[r as usize % KINDS.len()]
    }
}
const PORTS: &[&str] = &[
    "a", "b", "out", "value", "cond", "then", "else", "index", "items", "stream", "stop", "quotient", "case0", "zz", "",
];
const VALUES: &[&str] = &[
    "1",
    "0",
    "-3",
    "2.5",
    "3",
    "true",
    "null",
    "\"s\"",
    "[1,2]",
    "{\"k\":1}",
    "1e400",
];

/// Inputs (name and a value of its type; `None` for stream inputs) and outputs of a kind,
/// from the registry.
type Ports = (Vec<(String, Option<&'static str>)>, Vec<String>);

fn ports_of(kind: &str) -> Ports {
    use flowloop_graph::Type;
    let reg = Registry::with_std();
    let Some(k) = reg.get(kind) else {
        return (vec![("a".into(), Some("1"))], vec!["out".into()]);
    };
    let value = |p: &flowloop_graph::kind::PortSpec| match (p.mode, p.ty) {
        (flowloop_graph::kind::InputMode::Stream, _) => None,
        (_, Type::Bool) => Some("true"),
        (_, Type::Float) => Some("2.5"),
        (_, Type::List) => Some("[1,2]"),
        (_, Type::Str) => Some("\"s\""),
        _ => Some("3"),
    };
    let mut outs: Vec<String> = k.spec().outputs.iter().map(|o| o.name.clone()).collect();
    if k.spec().stream.is_some() {
        outs.push("stream".into());
    }
    (
        k.spec().inputs.iter().map(|p| (p.name.clone(), value(p))).collect(),
        outs,
    )
}

/// Mostly well-formed specs (so many load and run), with unknown kinds, bogus ports, wrong
/// constant types, duplicate ids, dangling edges and cycles mixed in.
fn structured() -> impl Strategy<Value = String> {
    let node = (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec((any::<u8>(), 0..VALUES.len()), 6),
    );
    let edge = (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>());
    (prop::collection::vec(node, 1..7), prop::collection::vec(edge, 0..7)).prop_map(|(nodes, edges)| {
        let ports: Vec<Ports> = nodes.iter().map(|(k, _, _)| ports_of(kind_name(*k))).collect();
        let bogus = |r: u8| PORTS[r as usize % PORTS.len()].to_string();
        let texts: Vec<String> = nodes
            .iter()
            .enumerate()
            .map(|(i, (k, dup, rolls))| {
                let id = if dup % 20 == 0 && i > 0 { i - 1 } else { i };
                let inputs: Vec<String> = ports[i]
                    .0
                    .iter()
                    .zip(rolls)
                    .filter_map(|((name, good), (r, v))| match (r % 20, good) {
                        (0, _) => Some(format!("\"{}\":{}", bogus(*r), VALUES[*v])),
                        (1 | 2, _) => Some(format!("\"{name}\":{}", VALUES[*v])),
                        (3, _) | (_, None) => None,
                        (_, Some(good)) => Some(format!("\"{name}\":{good}")),
                    })
                    .collect();
                format!(
                    "{{\"id\":\"n{id}\",\"kind\":\"{}\",\"inputs\":{{{}}}}}",
                    kind_name(*k),
                    inputs.join(",")
                )
            })
            .collect();
        let pick_in = |i: usize, r: u8| match &ports[i].0[..] {
            list if r % 16 == 0 || list.is_empty() => bogus(r),
            list => list[r as usize % list.len()].0.clone(),
        };
        let pick_out = |i: usize, r: u8| match &ports[i].1[..] {
            list if r % 16 == 0 || list.is_empty() => bogus(r),
            list => list[r as usize % list.len()].clone(),
        };
        let n = nodes.len();
        let edges: Vec<String> = edges
            .iter()
            .map(|(a, p, b, q, dangling)| {
                let (a, b) = (*a as usize % n, *b as usize % n);
                let from = if dangling % 25 == 0 {
                    "ghost".to_string()
                } else {
                    format!("n{a}")
                };
                format!(
                    "{{\"from\":\"{from}.{}\",\"to\":\"n{b}.{}\"}}",
                    pick_out(a, *p),
                    pick_in(b, *q)
                )
            })
            .collect();
        format!(
            "{{\"format\":1,\"nodes\":[{}],\"edges\":[{}]}}",
            texts.join(",\n"),
            edges.join(",\n")
        )
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Swap(usize, usize),
}

fn mutated() -> impl Strategy<Value = String> {
    let files = ["counter.json", "stream.json", "diamond.json"];
    let mutation = prop_oneof![
        (any::<usize>(), 1usize..8).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop::sample::select(b"{}[]\":,.0123456789-eaz ".to_vec())
        )
            .prop_map(|(a, c)| Mutation::Insert(a, c)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, c)| Mutation::Replace(a, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ];
    (0..files.len(), prop::collection::vec(mutation, 1..4)).prop_map(move |(f, ms)| {
        let mut bytes = common::example_text(files[f]).into_bytes();
        for m in ms {
            let len = bytes.len().max(1);
            match m {
                Mutation::Delete(a, n) => {
                    let start = a % len;
                    let end = (start + n).min(bytes.len());
                    bytes.drain(start.min(end)..end);
                }
                Mutation::Insert(a, c) => bytes.insert(a % (bytes.len() + 1), c),
                Mutation::Replace(a, c) if !bytes.is_empty() => bytes[a % len] = c,
                Mutation::Swap(a, b) if !bytes.is_empty() => bytes.swap(a % len, b % len),
                _ => {}
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

proptest! {
    #![proptest_config(cases(4_000))]
    #[test]
    fn mutated_example_specs_never_panic(text in mutated()) {
        exercise(&text);
    }
}

proptest! {
    #![proptest_config(cases(4_000))]
    #[test]
    fn random_structured_specs_never_panic(text in structured()) {
        exercise(&text);
    }
}

proptest! {
    #![proptest_config(cases(2_000))]
    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
    }
}

#[test]
fn the_structured_generator_reaches_both_loadable_and_broken_specs() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = structured();
    let (mut loaded, mut multi) = (0, 0);
    for _ in 0..1000 {
        let text = strategy.new_tree(&mut runner).expect("generates").current();
        if let Ok(g) = Graph::from_json(&text, Registry::with_std()) {
            loaded += 1;
            multi += usize::from(g.len() > 1 && g.edges().count() > 0);
        }
    }
    assert!(loaded > 50 && loaded < 900, "{loaded} of 1000 loaded");
    assert!(multi > 10, "{multi} loaded graphs with edges");
}
