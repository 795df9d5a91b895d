//! `flowloop deploy` end to end: generate a project per example graph, build them (offline,
//! one shared target directory), and compare each binary's output with `flowloop run`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{example, file, flowloop, text};

/// Generates the project for `graph` in `out`.
fn deploy(graph: &Path, out: &Path) {
    let result = flowloop()
        .arg("deploy")
        .arg(graph)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
}

/// Builds the generated project in `dir` into the shared `target`.
fn build(dir: &Path, target: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--offline", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the generated project in {} builds", dir.display());
}

/// Stdout, stderr and exit code.
fn outcome(cmd: &mut Command) -> (String, String, Option<i32>) {
    let out = cmd.output().expect("the program runs");
    (text(&out.stdout), text(&out.stderr), out.status.code())
}

#[test]
fn deployed_binaries_print_what_flowloop_run_prints() {
    let projects = tempfile::tempdir().unwrap();
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("deploy-target");
    let graphs = ["counter", "stream", "diamond"];
    for g in graphs {
        deploy(&example(&format!("{g}.json")), &projects.path().join(g));
    }
    for g in graphs {
        build(&projects.path().join(g), &target);
    }
    let runs: &[(&str, &[&str])] = &[
        ("counter", &[]),
        ("counter", &["--json"]),
        ("counter", &["--limit", "next=7", "--json"]),
        ("counter", &["--limit-all", "2"]),
        ("counter", &["--set", "count.b=10", "--json"]),
        ("counter", &["--limit", "ghost=1"]),
        ("stream", &[]),
        ("stream", &["--json"]),
        ("stream", &["--set", "numbers.stop=100", "--json"]),
        ("stream", &["--set", "numbers.step=0", "--json"]),
        ("diamond", &["--json"]),
        ("diamond", &["--set", "src.a=4"]),
        ("diamond", &["--set", "src.a=2.5", "--json", "--no-terminate-on-error"]),
        ("diamond", &["--set", "src.a=\"x\""]),
    ];
    for (g, args) in runs {
        // Run from the graphs' directory so both name the file `{g}.json` in their errors.
        let graphs_dir = example("");
        let expected = outcome(
            flowloop_cmd()
                .current_dir(&graphs_dir)
                .arg("run")
                .arg(format!("{g}.json"))
                .args(*args),
        );
        let binary = target.join("release").join(g);
        let got = outcome(
            Command::new(&binary)
                .args(*args)
                .env("NO_COLOR", "1")
                .env_remove("FLOWLOOP_LOG"),
        );
        assert_eq!(got, expected, "{g} {args:?}");
    }
    // The runs above cover a limit reached, completion, a failing node and usage errors.
    let (stdout, _, code) =
        outcome(Command::new(target.join("release/stream")).args(["--set", "numbers.step=0", "--json"]));
    assert_eq!(code, Some(1));
    assert!(stdout.contains("\"outcome\":\"failed\""), "{stdout}");
}

/// `flowloop` as a plain `std::process::Command` (to compare with the deployed binaries).
fn flowloop_cmd() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("flowloop"));
    cmd.env("NO_COLOR", "1").env_remove("FLOWLOOP_LOG");
    cmd
}

#[test]
fn generated_code_uses_the_typed_kind_functions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app");
    let result = flowloop()
        .arg("deploy")
        .arg(example("counter.json"))
        .args(["--out"])
        .arg(&out)
        .args(["--name", "tally"])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", text(&result.stderr));
    let main = std::fs::read_to_string(out.join("src/main.rs")).unwrap();
    assert!(main.contains("flowloop_graph::std::math::add_node("), "{main}");
    assert!(main.contains("flowloop_graph::std::flow::passthrough_node("), "{main}");
    assert!(main.contains("t.builder().forward(\"next.out\")"), "{main}");
    assert!(main.contains("t.convert(\"count\", \"a\", next_out_later)"), "{main}");
    assert!(
        main.contains("flowloop_run::deployed_main(\"tally\", \"counter.json\", GRAPH, build)"),
        "{main}"
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"tally\"") && manifest.contains("crates/flowloop-run\""),
        "{manifest}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("counter.json")).unwrap(),
        std::fs::read_to_string(example("counter.json")).unwrap()
    );
    if Command::new("rustfmt")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let check = Command::new("rustfmt")
            .args(["--check", "--edition", "2024"])
            .arg(out.join("src/main.rs"))
            .status();
        assert!(check.unwrap().success(), "the generated main.rs is formatted");
    }
    // Deploying again over a generated project is allowed.
    let again = flowloop()
        .arg("deploy")
        .arg(example("counter.json"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
}

/// Deploys the one-node graph `spec` and checks that it is refused with `message` on stderr
/// (exit 1) and that nothing is written.
fn refused(file_name: &str, spec: &str, message: &str) {
    let (dir, path) = file(file_name, spec);
    let out = flowloop()
        .arg("deploy")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("app"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(message), "{err}");
    assert!(
        !dir.path().join("app").exists(),
        "nothing is written for a graph that cannot be deployed"
    );
}

#[test]
fn hand_written_kinds_cannot_be_deployed() {
    let spec = r#"{"format": 1, "nodes": [{"id": "pick", "kind": "flow.if", "inputs": {"cond": true, "then": 1}}]}"#;
    refused(
        "choice.json",
        spec,
        "node `pick`: kind `flow.if` has no typed Rust function",
    );
}

#[test]
fn kinds_outside_the_standard_shelves_cannot_be_deployed() {
    let spec = r#"{"format": 1, "nodes": [{"id": "db", "kind": "db.open", "inputs": {"path": ":memory:"}}]}"#;
    refused("db.json", spec, "node `db`: kind `db.open` is not on a standard shelf");
}

#[test]
fn bad_deploy_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = flowloop()
        .arg("deploy")
        .arg(example("counter.json"))
        .arg("--out")
        .arg(dir.path().join("a"))
        .args(["--name", "9lives"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`9lives` is not a valid binary name"));

    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    let out = flowloop()
        .arg("deploy")
        .arg(example("counter.json"))
        .arg("--out")
        .arg(&foreign)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did not generate"), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(foreign.join("Cargo.toml")).unwrap(),
        "[package]\nname = \"mine\"\n"
    );

    let out = flowloop()
        .arg("deploy")
        .arg(example("counter.json"))
        .arg("--out")
        .arg(dir.path().join("b"))
        .arg("--workspace")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a flowloop workspace"));

    let out = flowloop()
        .args(["deploy", "missing.json", "--out"])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
