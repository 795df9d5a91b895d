//! [`Value`]: the one type that travels on the edges of a dynamic graph.
//!
//! A value is null, a boolean, an integer (`i64`), a float (`f64`), a string, bytes, a list or
//! a map with insertion-ordered string keys. Strings, bytes, lists and maps live behind an
//! [`Arc`], so cloning a value (fan-out to many consumers) copies one pointer; mutation goes
//! through [`Arc::make_mut`] and copies only when the payload is shared (copy-on-write). Values
//! are `Send + Sync`: a sync kind may run on another thread, a server thread may read
//! snapshots.

mod convert;
mod map;
mod serde_impl;

use std::fmt;
use std::sync::Arc;

pub use convert::{ConvertError, from_value, to_value};
pub use map::Map;

/// A dynamically typed value; see the [module docs](self).
///
/// # Examples
/// ```
/// use flowloop_graph::{Map, Value};
/// let mut m = Map::new();
/// m.insert("x", 1);
/// m.insert("tags", Value::list(["a", "b"]));
/// let v = Value::from(m);
/// let copy = v.clone(); // one pointer copy
/// assert_eq!(copy.get("x"), Some(&Value::Int(1)));
/// assert_eq!(v.to_string(), r#"{"x": 1, "tags": ["a", "b"]}"#);
/// ```
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
// A word-sized tag puts every payload at offset 8: with a byte tag a `Bool` sits at offset 1,
// and moving a value copies bytes 1..8 through overlapping narrow moves that stall the next
// load (measured on the executor's hot path).
#[repr(u64)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// An immutable, shared string.
    Str(Arc<str>),
    /// Shared bytes (copy-on-write).
    Bytes(Arc<Vec<u8>>),
    /// A shared list (copy-on-write).
    List(Arc<Vec<Value>>),
    /// A shared map with insertion-ordered keys (copy-on-write).
    Map(Arc<Map>),
}

/// The type of a value or of a port, as the registry and the graph checks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Type {
    /// Accepts and may produce every value.
    Any,
    /// [`Value::Null`].
    Null,
    /// [`Value::Bool`].
    Bool,
    /// [`Value::Int`].
    Int,
    /// [`Value::Float`] (an `Int` converts).
    Float,
    /// Int or float.
    Number,
    /// [`Value::Str`].
    Str,
    /// [`Value::Bytes`].
    Bytes,
    /// [`Value::List`].
    List,
    /// [`Value::Map`].
    Map,
}

impl Type {
    /// The name used in JSON listings and specs (`"any"`, `"int"`, `"string"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Type::Any => "any",
            Type::Null => "null",
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Float => "float",
            Type::Number => "number",
            Type::Str => "string",
            Type::Bytes => "bytes",
            Type::List => "list",
            Type::Map => "map",
        }
    }

    /// The type with this [`name`](Type::name).
    pub fn from_name(name: &str) -> Option<Type> {
        const ALL: [Type; 10] = [
            Type::Any,
            Type::Null,
            Type::Bool,
            Type::Int,
            Type::Float,
            Type::Number,
            Type::Str,
            Type::Bytes,
            Type::List,
            Type::Map,
        ];
        ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether an output of type `self` may feed an input of type `input`: equal types, `any`
    /// on either side, an int into a float or number, a float into a number.
    pub fn feeds(self, input: Type) -> bool {
        match (self, input) {
            (Type::Any, _) | (_, Type::Any) => true,
            (Type::Int, Type::Float | Type::Number) | (Type::Float, Type::Number) => true,
            (Type::Number, Type::Int | Type::Float) => true,
            (a, b) => a == b,
        }
    }

    /// Whether `value` is acceptable as it is (or converts without loss) for this type.
    pub fn accepts(self, value: &Value) -> bool {
        value.type_of().feeds(self) && !(self == Type::Int && matches!(value, Value::Float(_)))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A list value from anything convertible.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(Arc::new(items.into_iter().map(Into::into).collect()))
    }

    /// The value's [`Type`].
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Str(_) => Type::Str,
            Value::Bytes(_) => Type::Bytes,
            Value::List(_) => Type::List,
            Value::Map(_) => Type::Map,
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as a float (ints convert).
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list for mutation; copies it first only if it is shared.
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::List(l) => Some(Arc::make_mut(l)),
            _ => None,
        }
    }

    /// The map for mutation; copies it first only if it is shared.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(Arc::make_mut(m)),
            _ => None,
        }
    }

    /// The bytes for mutation; copies them first only if they are shared.
    pub fn as_bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(Arc::make_mut(b)),
            _ => None,
        }
    }

    /// A map entry, if this is a map with `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Whether two values share the same payload allocation (for strings, bytes, lists, maps),
    /// or are equal scalars. Shows that a clone did not deep-copy.
    pub fn shares_with(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Arc::ptr_eq(a, b),
            (Value::Bytes(a), Value::Bytes(b)) => Arc::ptr_eq(a, b),
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b),
            (Value::Map(a), Value::Map(b)) => Arc::ptr_eq(a, b),
            (a, b) => a == b,
        }
    }

    /// A one-line preview of at most `max` characters (longer text ends with `…`), for
    /// dashboards and logs.
    pub fn preview(&self, max: usize) -> String {
        let full = self.to_string();
        if full.chars().count() <= max {
            return full;
        }
        let mut s: String = full.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// JSON-like text: strings quoted, bytes as `b"…"` with escapes, maps as `{"k": v}`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 => write!(f, "{x:.1}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "b\"{}\"", b.escape_ascii()),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => fmt::Display::fmt(&**m, f),
        }
    }
}
