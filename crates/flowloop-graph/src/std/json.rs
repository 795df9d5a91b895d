//! The `json` shelf: JSON text to values and back, and RFC 6901 pointers (`/a/0/b`) into a
//! value. Malformed JSON and pointers that lead nowhere are errors naming the input.

use crate::kind::{KindError, kind_error};
use crate::{Shelf, Value};

/// The value of a JSON text (objects keep their key order).
#[crate::kind(name = "json.parse")]
pub fn parse(text: String) -> Result<Value, KindError> {
    serde_json::from_str(&text).map_err(|e| kind_error("text", &format!("not valid JSON: {e}")))
}

/// A value as JSON text (bytes as a list of numbers); `pretty` indents it.
#[crate::kind(name = "json.stringify")]
pub fn stringify(value: Value, #[default(false)] pretty: bool) -> Result<String, KindError> {
    let text = if pretty {
        serde_json::to_string_pretty(&value)
    } else {
        serde_json::to_string(&value)
    };
    text.map_err(|e| kind_error("value", &format!("cannot be written as JSON: {e}")))
}

/// Undoes the `~1` (for `/`) and `~0` (for `~`) escapes of a pointer token.
fn unescape(token: &str) -> Result<String, KindError> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match (c, c == '~') {
            (_, false) => out.push(c),
            (_, true) => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => {
                    return Err(kind_error(
                        "pointer",
                        &format!("bad escape in `{token}` (use ~0 or ~1)"),
                    ));
                }
            },
        }
    }
    Ok(out)
}

/// One step of a pointer: a map key, or a list index (digits, no leading zero).
fn step<'v>(value: &'v Value, token: &str, pointer: &str) -> Result<&'v Value, KindError> {
    let found = match value {
        Value::Map(m) => m.get(token),
        Value::List(l) if token == "0" || !token.starts_with('0') => token.parse::<usize>().ok().and_then(|i| l.get(i)),
        _ => None,
    };
    found.ok_or_else(|| {
        kind_error(
            "pointer",
            &format!("`{pointer}`: nothing at `{token}` in {}", value.preview(30)),
        )
    })
}

/// The part of `value` at JSON pointer `pointer` (`""` is the whole value, `/items/0/name` a
/// path); a path that leads nowhere is an error.
#[crate::kind(name = "json.pointer")]
pub fn pointer(value: Value, pointer: String) -> Result<Value, KindError> {
    if pointer.is_empty() {
        return Ok(value);
    }
    let Some(path) = pointer.strip_prefix('/') else {
        return Err(kind_error(
            "pointer",
            &format!("`{pointer}` must be empty or start with `/`"),
        ));
    };
    let mut at = &value;
    for raw in path.split('/') {
        at = step(at, &unescape(raw)?, &pointer)?;
    }
    Ok(at.clone())
}

/// The `json` shelf.
pub fn shelf() -> Shelf {
    Shelf::new("json", "JSON text: parse, stringify, pointer")
        .with(parse_kind())
        .with(stringify_kind())
        .with(pointer_kind())
}
