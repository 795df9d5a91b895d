//! The `db` shelf: SQLite through rusqlite (bundled SQLite), every statement on the loop's
//! offload pool so the loop never blocks.
//!
//! `db.open(path, init)` opens (once per path per process) and returns a connection value
//! `{"db": path}`; `db.query(conn, sql, params)` returns a list of row maps, `db.execute`
//! the number of rows affected, `db.transaction(conn, statements)` runs a batch of
//! `{"sql", "params"}` maps all-or-nothing. Parameters are always bound, never spliced into
//! the SQL: a list binds `?1, ?2, ...`, a map binds `:name` (or `@name`, `$name`) by key.
//! Errors name the statement (and the flow names the node).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use flowloop_graph::{Map, Shelf, Value};
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, Statement};

/// A failed database operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The file could not be opened or the init script failed.
    #[error("cannot open database `{path}`: {message}")]
    Open {
        /// The path.
        path: String,
        /// SQLite's message.
        message: String,
    },
    /// The connection value is not one `db.open` returned, or was closed.
    #[error("`{conn}` is not an open connection from db.open (open it first)")]
    NotOpen {
        /// The value given.
        conn: String,
    },
    /// A statement failed.
    #[error("statement `{sql}`: {message}")]
    Statement {
        /// The SQL text.
        sql: String,
        /// What went wrong (SQLite's message, or a parameter problem).
        message: String,
    },
    /// The offload pool lost the job.
    #[error("the offload pool failed: {0}")]
    Offload(String),
}

type Shared = Arc<Mutex<Connection>>;

fn connections() -> MutexGuard<'static, HashMap<String, Shared>> {
    static OPEN: OnceLock<Mutex<HashMap<String, Shared>>> = OnceLock::new();
    let lock = OPEN.get_or_init(Mutex::default).lock();
    lock.unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock(conn: &Shared) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Opens `path` (or returns the connection already open for it) and runs `init` the first
/// time; returns the connection value.
///
/// # Errors
/// [`DbError::Open`].
pub fn open(path: &str, init: &str) -> Result<Value, DbError> {
    let mut open = connections();
    if !open.contains_key(path) {
        let err = |e: rusqlite::Error| DbError::Open {
            path: path.to_string(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        if !init.trim().is_empty() {
            conn.execute_batch(init).map_err(err)?;
        }
        open.insert(path.to_string(), Arc::new(Mutex::new(conn)));
    }
    let mut m = Map::new();
    m.insert("db", path);
    Ok(Value::from(m))
}

/// Closes the connection for `path` (waiting for its running statement); `false` if none
/// was open.
pub fn close(path: &str) -> bool {
    let Some(conn) = connections().remove(path) else {
        return false;
    };
    if let Ok(m) = Arc::try_unwrap(conn) {
        let conn = m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(conn.close());
    }
    true
}

/// Closes every open connection; returns how many there were.
pub fn close_all() -> usize {
    let paths: Vec<String> = connections().keys().cloned().collect();
    paths.iter().filter(|p| close(p)).count()
}

fn connection(conn: &Value) -> Result<Shared, DbError> {
    let path = conn.get("db").and_then(Value::as_str);
    path.and_then(|p| connections().get(p).cloned())
        .ok_or_else(|| DbError::NotOpen { conn: conn.preview(60) })
}

fn to_sql(v: &Value) -> ToSqlOutput<'static> {
    ToSqlOutput::Owned(match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Str(s) => SqlValue::Text(s.to_string()),
        Value::Bytes(b) => SqlValue::Blob(b.to_vec()),
        other => SqlValue::Text(serde_json::to_string(other).unwrap_or_default()),
    })
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::str(&String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => Value::from(b),
    }
}

/// Binds `params` (null, a list, or a map) to `stmt`.
fn bind(stmt: &mut Statement<'_>, params: &Value) -> Result<(), String> {
    let wanted = stmt.parameter_count();
    match params {
        Value::Null if wanted == 0 => Ok(()),
        Value::List(items) if items.len() == wanted => {
            for (i, v) in items.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, to_sql(v)).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Value::List(items) => Err(format!("{} parameters given, the statement has {wanted}", items.len())),
        Value::Map(m) => bind_named(stmt, m, wanted),
        other => Err(format!("parameters must be a list or a map, not {}", other.preview(30))),
    }
}

fn bind_named(stmt: &mut Statement<'_>, params: &Map, wanted: usize) -> Result<(), String> {
    for i in 1..=wanted {
        let name = stmt
            .parameter_name(i)
            .ok_or_else(|| format!("parameter {i} has no name; pass a list"))?;
        let key = name.trim_start_matches([':', '@', '$']);
        let value = params
            .get(key)
            .ok_or_else(|| format!("parameter `{name}` is not in the map"))?;
        let value = to_sql(value);
        stmt.raw_bind_parameter(i, value).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn rows_of(stmt: &mut Statement<'_>) -> Result<Vec<Value>, rusqlite::Error> {
    let names: Vec<String> = stmt.column_names().into_iter().map(str::to_string).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut m = Map::new();
        for (i, name) in names.iter().enumerate() {
            m.insert(name, from_sql(row.get_ref(i)?));
        }
        out.push(Value::from(m));
    }
    Ok(out)
}

/// What a statement returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Rows,
    Affected,
}

fn run_statement(conn: &Connection, sql: &str, params: &Value, want: Want) -> Result<Value, DbError> {
    let err = |message: String| DbError::Statement {
        sql: sql.to_string(),
        message,
    };
    let mut stmt = conn.prepare_cached(sql).map_err(|e| err(e.to_string()))?;
    bind(&mut stmt, params).map_err(err)?;
    match want {
        Want::Rows => rows_of(&mut stmt).map(Value::list).map_err(|e| err(e.to_string())),
        Want::Affected => stmt
            .raw_execute()
            .map(|n| Value::Int(n as i64))
            .map_err(|e| err(e.to_string())),
    }
}

async fn offloaded<T: Send + 'static>(job: impl FnOnce() -> Result<T, DbError> + Send + 'static) -> Result<T, DbError> {
    flowloop::offload(job)
        .await
        .map_err(|e| DbError::Offload(e.to_string()))?
}

/// Runs one statement on the offload pool.
async fn statement(conn: Value, sql: String, params: Value, want: Want) -> Result<Value, DbError> {
    let shared = connection(&conn)?;
    offloaded(move || run_statement(&lock(&shared), &sql, &params, want)).await
}

fn transaction_batch(conn: &mut Connection, statements: &[Value]) -> Result<Value, DbError> {
    let tx_err = |e: rusqlite::Error| DbError::Statement {
        sql: "BEGIN/COMMIT".into(),
        message: e.to_string(),
    };
    let tx = conn.transaction().map_err(tx_err)?;
    let mut counts = Vec::with_capacity(statements.len());
    for (i, s) in statements.iter().enumerate() {
        let Some(sql) = s.get("sql").and_then(Value::as_str) else {
            return Err(DbError::Statement {
                sql: format!("statement {i}"),
                message: "each statement must be a map with `sql` (and optional `params`)".into(),
            });
        };
        let params = s.get("params").cloned().unwrap_or(Value::Null);
        counts.push(run_statement(&tx, sql, &params, Want::Affected)?);
    }
    tx.commit().map_err(tx_err)?;
    Ok(Value::list(counts))
}

/// Opens the SQLite database at `path` (`:memory:` for a private one) once per process and
/// returns its connection; `init` (SQL, several statements allowed) runs on the first open.
#[flowloop_graph::kind(name = "db.open")]
pub async fn open_node(path: String, #[default("")] init: String) -> Result<Value, DbError> {
    if connections().contains_key(&path) {
        return open(&path, &init); // already open: a map lookup, no need for the pool
    }
    offloaded(move || open(&path, &init)).await
}

/// Runs a query with bound `params` (a list for `?`, a map for `:name`) and returns its rows
/// as maps from column name to value.
#[flowloop_graph::kind(name = "db.query")]
pub async fn query(conn: Value, sql: String, #[default(Value::Null)] params: Value) -> Result<Vec<Value>, DbError> {
    let rows = statement(conn, sql, params, Want::Rows).await?;
    Ok(rows.as_list().map(<[Value]>::to_vec).unwrap_or_default())
}

/// Runs a statement with bound `params` and returns the number of rows it changed.
#[flowloop_graph::kind(name = "db.execute")]
pub async fn execute(conn: Value, sql: String, #[default(Value::Null)] params: Value) -> Result<i64, DbError> {
    let n = statement(conn, sql, params, Want::Affected).await?;
    Ok(n.as_int().unwrap_or(0))
}

/// Runs `statements` (a list of `{"sql", "params"}` maps) in one transaction: all or none;
/// returns the rows each changed.
#[flowloop_graph::kind(name = "db.transaction")]
pub async fn transaction(conn: Value, statements: Vec<Value>) -> Result<Vec<Value>, DbError> {
    let shared = connection(&conn)?;
    let counts = offloaded(move || transaction_batch(&mut lock(&shared), &statements)).await?;
    Ok(counts.as_list().map(<[Value]>::to_vec).unwrap_or_default())
}

/// The `db` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "db",
        "SQLite databases: open, query, execute, transaction (on the offload pool)",
    )
    .with(open_node_kind())
    .with(query_kind())
    .with(execute_kind())
    .with(transaction_kind())
}
