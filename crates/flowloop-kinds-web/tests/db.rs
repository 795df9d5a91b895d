//! The `db` shelf in batch graphs and through its Rust API.

use flowloop_graph::{Graph, Registry, Value};

fn reg() -> Registry {
    let mut r = Registry::with_std();
    flowloop_kinds_web::register(&mut r);
    r
}

fn temp(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("flowloop-kinds-web-db-{name}-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p.to_string_lossy().into_owned()
}

fn graph_with(path: &str) -> Graph {
    let mut g = Graph::new(reg());
    g.add("db.open", Some("db")).unwrap();
    g.set_constant("db", "path", Value::str(path)).unwrap();
    g.set_constant(
        "db",
        "init",
        Value::str("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)"),
    )
    .unwrap();
    g
}

fn stmt(sql: &str, params: Value) -> Value {
    let mut m = flowloop_graph::Map::new();
    m.insert("sql", sql);
    m.insert("params", params);
    Value::from(m)
}

#[test]
fn execute_query_and_transaction() {
    let path = temp("tx");
    let mut g = graph_with(&path);
    g.add("db.transaction", Some("tx")).unwrap();
    g.connect("db", "out", "tx", "conn").unwrap();
    let batch = Value::list([
        stmt(
            "INSERT INTO t VALUES (?1, ?2)",
            Value::list([Value::str("a"), Value::Int(1)]),
        ),
        stmt(
            "INSERT INTO t VALUES (:k, :v)",
            Value::from({
                let mut m = flowloop_graph::Map::new();
                m.insert("k", "b");
                m.insert("v", 2);
                m
            }),
        ),
    ]);
    g.set_constant("tx", "statements", batch).unwrap();
    let mut run = g.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("tx", "out"), Some(Value::list([1, 1])));

    let mut e = graph_with(&path);
    e.add("db.execute", Some("bump")).unwrap();
    e.connect("db", "out", "bump", "conn").unwrap();
    e.set_constant("bump", "sql", Value::str("UPDATE t SET v = v * ?1"))
        .unwrap();
    e.set_constant("bump", "params", Value::list([1])).unwrap();
    let mut run = e.batch().unwrap();
    run.run().unwrap();
    assert_eq!(run.value("bump", "out"), Some(Value::Int(2)), "rows affected");

    let mut q = graph_with(&path);
    q.add("db.query", Some("rows")).unwrap();
    q.connect("db", "out", "rows", "conn").unwrap();
    q.set_constant("rows", "sql", Value::str("SELECT k, v FROM t WHERE v >= ?1 ORDER BY k"))
        .unwrap();
    q.set_constant("rows", "params", Value::list([2])).unwrap();
    let mut run = q.batch().unwrap();
    run.run().unwrap();
    let rows = run.value("rows", "out").unwrap();
    assert_eq!(rows.to_string(), r#"[{"k": "b", "v": 2}]"#);
    assert!(flowloop_kinds_web::db::close(&path));
}

#[test]
fn a_failed_transaction_changes_nothing_and_errors_name_statement_and_node() {
    let path = temp("rollback");
    let mut g = graph_with(&path);
    g.add("db.transaction", Some("tx")).unwrap();
    g.connect("db", "out", "tx", "conn").unwrap();
    g.set_constant(
        "tx",
        "statements",
        Value::list([
            stmt("INSERT INTO t VALUES ('x', 1)", Value::Null),
            stmt("INSERT INTO t VALUES ('x', 2)", Value::Null),
        ]),
    )
    .unwrap();
    let err = g.batch().unwrap().run().unwrap_err().to_string();
    assert!(
        err.contains("node `tx`") && err.contains("INSERT INTO t VALUES ('x', 2)") && err.contains("UNIQUE"),
        "{err}"
    );
    let conn = flowloop_kinds_web::db::open(&path, "").unwrap();
    let mut q = Graph::new(reg());
    q.add("db.query", Some("n")).unwrap();
    q.set_constant("n", "conn", conn).unwrap();
    q.set_constant("n", "sql", Value::str("SELECT count(*) AS n FROM t"))
        .unwrap();
    let mut run = q.batch().unwrap();
    run.run().unwrap();
    assert_eq!(
        run.value("n", "out").unwrap().to_string(),
        r#"[{"n": 0}]"#,
        "rolled back"
    );
    assert!(
        flowloop_kinds_web::db::close(&path),
        "close_all is not used: tests share the process-wide connections"
    );
}

#[test]
fn bad_parameters_and_closed_connections_are_errors() {
    let path = temp("params");
    let mut g = graph_with(&path);
    g.add("db.execute", Some("ins")).unwrap();
    g.connect("db", "out", "ins", "conn").unwrap();
    g.set_constant("ins", "sql", Value::str("INSERT INTO t VALUES (?1, ?2)"))
        .unwrap();
    g.set_constant("ins", "params", Value::list([1])).unwrap();
    let err = g.batch().unwrap().run().unwrap_err().to_string();
    assert!(
        err.contains("node `ins`") && err.contains("1 parameters given, the statement has 2"),
        "{err}"
    );
    g.set_constant("ins", "sql", Value::str("INSERT INTO t VALUES (:k, :v)"))
        .unwrap();
    g.set_constant("ins", "params", Value::from(flowloop_graph::Map::new()))
        .unwrap();
    let err = g.batch().unwrap().run().unwrap_err().to_string();
    assert!(err.contains("parameter `:k` is not in the map"), "{err}");
    assert!(flowloop_kinds_web::db::close(&path));
    let mut q = Graph::new(reg());
    q.add("db.execute", Some("late")).unwrap();
    let mut conn = flowloop_graph::Map::new();
    conn.insert("db", path.as_str());
    q.set_constant("late", "conn", Value::from(conn)).unwrap();
    q.set_constant("late", "sql", Value::str("SELECT 1")).unwrap();
    let err = q.batch().unwrap().run().unwrap_err().to_string();
    assert!(err.contains("is not an open connection from db.open"), "{err}");
    let err = flowloop_kinds_web::db::open("/nonexistent-dir/x/y.sqlite3", "").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot open database `/nonexistent-dir/x/y.sqlite3`"),
        "{err}"
    );
}
