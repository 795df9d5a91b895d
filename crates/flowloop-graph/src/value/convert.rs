//! Conversions between [`Value`] and Rust types: `From`/`TryFrom` for the usual types, and
//! [`to_value`]/[`from_value`] for anything serde can handle.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Map, Type, Value};

/// A value did not convert to the Rust type a port or caller asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The value has another type.
    #[error("expected {expected}, got {found} `{preview}`")]
    Type {
        /// The type asked for.
        expected: Type,
        /// The value's type.
        found: Type,
        /// A short preview of the value.
        preview: String,
    },
    /// A number does not fit the target type.
    #[error("{value} does not fit in {target}")]
    Range {
        /// The number.
        value: String,
        /// The Rust type asked for.
        target: &'static str,
    },
    /// serde refused the value (a field missing, a shape that does not match).
    #[error("{0}")]
    Serde(String),
}

impl ConvertError {
    /// The error for `value` when `expected` was wanted.
    pub fn mismatch(expected: Type, value: &Value) -> ConvertError {
        ConvertError::Type {
            expected,
            found: value.type_of(),
            preview: value.preview(40),
        }
    }
}

/// Converts any serializable value (structs become maps in field order, enums follow serde's
/// external tagging).
///
/// # Errors
/// [`ConvertError::Serde`] when serialization fails (a map with non-string keys, ...).
///
/// # Examples
/// ```
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct P { x: i64, name: String }
/// let v = flowloop_graph::to_value(&P { x: 1, name: "a".into() }).unwrap();
/// assert_eq!(v.to_string(), r#"{"x": 1, "name": "a"}"#);
/// let back: P = flowloop_graph::from_value(&v).unwrap();
/// assert_eq!(back, P { x: 1, name: "a".into() });
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ConvertError> {
    // Through JSON text (not `serde_json::Value`) so struct fields keep their order.
    let json = serde_json::to_string(value).map_err(|e| ConvertError::Serde(e.to_string()))?;
    serde_json::from_str(&json).map_err(|e| ConvertError::Serde(e.to_string()))
}

/// Converts a value into any deserializable type (bytes arrive as a list of integers).
///
/// # Errors
/// [`ConvertError::Serde`] naming what did not match.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ConvertError> {
    let json = serde_json::to_string(value).map_err(|e| ConvertError::Serde(e.to_string()))?;
    serde_json::from_str(&json).map_err(|e| ConvertError::Serde(e.to_string()))
}

macro_rules! from_scalar {
    ($($t:ty => $variant:ident as $as:ty),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$variant(x as $as)
            }
        }
    )*};
}

from_scalar!(i64 => Int as i64, i32 => Int as i64, i16 => Int as i64, i8 => Int as i64,
    u32 => Int as i64, u16 => Int as i64, u8 => Int as i64, f64 => Float as f64, f32 => Float as f64);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::Null
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Arc::from(s))
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Value {
        Value::Str(s)
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Bytes(Arc::new(b.to_vec()))
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(Arc::new(m))
    }
}

/// A list (use `Value::from(&bytes[..])` for bytes).
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::list(items)
    }
}

/// `None` is null.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

impl TryFrom<u64> for Value {
    type Error = ConvertError;
    fn try_from(x: u64) -> Result<Value, ConvertError> {
        i64::try_from(x).map(Value::Int).map_err(|_| ConvertError::Range {
            value: x.to_string(),
            target: "i64",
        })
    }
}

impl TryFrom<usize> for Value {
    type Error = ConvertError;
    fn try_from(x: usize) -> Result<Value, ConvertError> {
        Value::try_from(x as u64)
    }
}

impl TryFrom<Value> for bool {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<bool, ConvertError> {
        v.as_bool().ok_or_else(|| ConvertError::mismatch(Type::Bool, &v))
    }
}

impl TryFrom<Value> for i64 {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<i64, ConvertError> {
        v.as_int().ok_or_else(|| ConvertError::mismatch(Type::Int, &v))
    }
}

impl TryFrom<Value> for usize {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<usize, ConvertError> {
        let i = i64::try_from(v)?;
        usize::try_from(i).map_err(|_| ConvertError::Range {
            value: i.to_string(),
            target: "usize",
        })
    }
}

/// Ints convert to floats.
impl TryFrom<Value> for f64 {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<f64, ConvertError> {
        v.as_float().ok_or_else(|| ConvertError::mismatch(Type::Float, &v))
    }
}

impl TryFrom<Value> for String {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<String, ConvertError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| ConvertError::mismatch(Type::Str, &v))
    }
}

impl TryFrom<Value> for Arc<str> {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<Arc<str>, ConvertError> {
        match v {
            Value::Str(s) => Ok(s),
            other => Err(ConvertError::mismatch(Type::Str, &other)),
        }
    }
}

/// Bytes; takes the buffer without copying when it is not shared.
impl TryFrom<Value> for Vec<u8> {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<Vec<u8>, ConvertError> {
        match v {
            Value::Bytes(b) => Ok(Arc::unwrap_or_clone(b)),
            other => Err(ConvertError::mismatch(Type::Bytes, &other)),
        }
    }
}

/// A list; takes the items without copying when they are not shared.
impl TryFrom<Value> for Vec<Value> {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<Vec<Value>, ConvertError> {
        match v {
            Value::List(l) => Ok(Arc::unwrap_or_clone(l)),
            other => Err(ConvertError::mismatch(Type::List, &other)),
        }
    }
}

impl TryFrom<Value> for Map {
    type Error = ConvertError;
    fn try_from(v: Value) -> Result<Map, ConvertError> {
        match v {
            Value::Map(m) => Ok(Arc::unwrap_or_clone(m)),
            other => Err(ConvertError::mismatch(Type::Map, &other)),
        }
    }
}
