//! The `type` shelf: the type of a value, and conversions between types. Type names are those
//! of the registry listing: `null`, `bool`, `int`, `float`, `string`, `bytes`, `list`, `map`.

use crate::kind::{KindError, kind_error};
use crate::{Shelf, Type, Value};

/// The type name of a value (`"int"`, `"string"`, ...).
#[crate::kind(name = "type.typeof")]
pub fn type_of(value: Value) -> String {
    value.type_of().name().to_string()
}

/// Reads a type name, naming input `port` when it is not one.
fn type_named(name: &str, port: &str) -> Result<Type, KindError> {
    Type::from_name(name).ok_or_else(|| {
        kind_error(
            port,
            &format!("`{name}` is not a type (any, null, bool, int, float, number, string, bytes, list, map)"),
        )
    })
}

/// Whether `value` is acceptable for type `ty` (an int is a float and a number; anything is `any`).
#[crate::kind(name = "type.is")]
pub fn is(value: Value, ty: String) -> Result<bool, KindError> {
    Ok(type_named(&ty, "ty")?.accepts(&value))
}

fn fail(value: &Value, to: Type) -> KindError {
    kind_error(
        "value",
        &format!("{} `{}` does not convert to {to}", value.type_of(), value.preview(30)),
    )
}

fn to_int(value: &Value) -> Option<Value> {
    let i = match value {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => *x as i64,
        Value::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(Value::Int(i))
}

fn to_float(value: &Value) -> Option<Value> {
    match value {
        Value::Bool(b) => Some(Value::Float(f64::from(u8::from(*b)))),
        Value::Str(s) => s.trim().parse().ok().map(Value::Float),
        other => other.as_float().map(Value::Float),
    }
}

fn to_bool(value: &Value) -> Option<Value> {
    let b = match value {
        Value::Bool(b) => *b,
        Value::Int(0) => false,
        Value::Int(1) => true,
        Value::Str(s) if &**s == "true" => true,
        Value::Str(s) if &**s == "false" => false,
        _ => return None,
    };
    Some(Value::Bool(b))
}

fn to_string(value: &Value) -> Option<Value> {
    match value {
        Value::Str(_) => Some(value.clone()),
        Value::Bytes(b) => std::str::from_utf8(b).ok().map(Value::str),
        other => Some(Value::from(other.to_string())),
    }
}

fn to_bytes(value: &Value) -> Option<Value> {
    match value {
        Value::Bytes(_) => Some(value.clone()),
        Value::Str(s) => Some(Value::from(s.as_bytes())),
        _ => None,
    }
}

/// `value` converted to type `to`: numbers from strings (`"42"`), bools from `true`/`false`/0/1,
/// ints from whole floats, text from anything (bytes must be UTF-8), bytes from text; a value
/// that does not convert is an error.
#[crate::kind(name = "type.cast")]
pub fn cast(value: Value, to: String) -> Result<Value, KindError> {
    let ty = type_named(&to, "to")?;
    let out = match ty {
        Type::Any => Some(value.clone()),
        Type::Int => to_int(&value),
        Type::Float => to_float(&value),
        Type::Number => to_int(&value).or_else(|| to_float(&value)),
        Type::Bool => to_bool(&value),
        Type::Str => to_string(&value),
        Type::Bytes => to_bytes(&value),
        other => Some(value.clone()).filter(|v| v.type_of() == other),
    };
    out.ok_or_else(|| fail(&value, ty))
}

/// The `type` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("type", "Types of values: typeof, is, cast")
        .with(type_of_kind())
        .with(is_kind())
        .with(cast_kind())
}
