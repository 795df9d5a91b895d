//! The `text` shelf: strings. `text.format` fills `{name}` / `{0}` placeholders; the `regex`
//! kinds use the [`regex`] crate's syntax, and a pattern that does not compile is an error
//! naming the `pattern` input.

use regex::Regex;

use crate::kind::{KindError, kind_error};
use crate::{Map, Shelf, Value};

/// A value as text in a formatted string: strings as they are, everything else as shown.
fn display(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => v.to_string(),
    }
}

/// The value for placeholder `name`: a map key, or a list index.
fn lookup(values: &Value, name: &str) -> Result<String, KindError> {
    let found = match values {
        Value::Map(m) => m.get(name),
        Value::List(l) => name.parse::<usize>().ok().and_then(|i| l.get(i)),
        _ => None,
    };
    found
        .map(display)
        .ok_or_else(|| kind_error("values", &format!("no value for placeholder `{{{name}}}`")))
}

/// `template` with each `{name}` replaced by `values[name]` (a map) or `{0}` by `values[0]` (a
/// list); `{{` and `}}` stand for braces. A missing value or unclosed brace is an error.
#[crate::kind(name = "text.format")]
pub fn format(template: String, #[default(Value::Null)] values: Value) -> Result<String, KindError> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' if chars.next_if(|(_, c)| *c == '{').is_some() => out.push('{'),
            '}' if chars.next_if(|(_, c)| *c == '}').is_some() => out.push('}'),
            '{' => {
                let rest = &template[at + 1..];
                let end = rest
                    .find('}')
                    .ok_or_else(|| kind_error("template", &format!("unclosed `{{` at byte {at}")))?;
                out.push_str(&lookup(&values, &rest[..end])?);
                for _ in 0..=rest[..end].chars().count() {
                    chars.next();
                }
            }
            '}' => {
                return Err(kind_error(
                    "template",
                    &format!("unmatched `}}` at byte {at} (write `}}}}`)"),
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `text` split at every `separator` (an empty separator splits into characters).
#[crate::kind(name = "text.split")]
pub fn split(text: String, #[default(",")] separator: String) -> Vec<Value> {
    if separator.is_empty() {
        return text.chars().map(|c| Value::from(c.to_string())).collect();
    }
    text.split(separator.as_str()).map(Value::str).collect()
}

/// The items of a list as text (strings as they are), joined by `separator`.
#[crate::kind(name = "text.join")]
pub fn join(items: Vec<Value>, #[default(",")] separator: String) -> String {
    items.iter().map(display).collect::<Vec<_>>().join(&separator)
}

/// Upper-cases text.
#[crate::kind(name = "text.upper")]
pub fn upper(text: String) -> String {
    text.to_uppercase()
}

/// Lower-cases text.
#[crate::kind(name = "text.lower")]
pub fn lower(text: String) -> String {
    text.to_lowercase()
}

/// Text without leading and trailing whitespace.
#[crate::kind(name = "text.trim")]
pub fn trim(text: String) -> String {
    text.trim().to_string()
}

/// Compiles `pattern`, naming the input when it is not a valid regex.
fn compile(pattern: &str) -> Result<Regex, KindError> {
    Regex::new(pattern).map_err(|e| kind_error("pattern", &format!("not a valid regex: {e}")))
}

/// Whether `pattern` matches somewhere in `text`.
#[crate::kind(name = "text.regex_match")]
pub fn regex_match(text: String, pattern: String) -> Result<bool, KindError> {
    Ok(compile(&pattern)?.is_match(&text))
}

/// Every non-overlapping match of `pattern` in `text`.
#[crate::kind(name = "text.regex_find")]
pub fn regex_find(text: String, pattern: String) -> Result<Vec<Value>, KindError> {
    Ok(compile(&pattern)?
        .find_iter(&text)
        .map(|m| Value::str(m.as_str()))
        .collect())
}

/// `text` with every match of `pattern` replaced by `with` (`$1`, `$name` insert groups).
#[crate::kind(name = "text.regex_replace")]
pub fn regex_replace(text: String, pattern: String, with: String) -> Result<String, KindError> {
    Ok(compile(&pattern)?.replace_all(&text, with.as_str()).into_owned())
}

/// The groups of the first match of `pattern` in `text`: a map from group name (or number)
/// to text, `"0"` being the whole match; null when nothing matches.
#[crate::kind(name = "text.regex_captures")]
pub fn regex_captures(text: String, pattern: String) -> Result<Value, KindError> {
    let re = compile(&pattern)?;
    let Some(caps) = re.captures(&text) else {
        return Ok(Value::Null);
    };
    let mut out = Map::new();
    for (i, name) in re.capture_names().enumerate() {
        let key = name.map_or_else(|| i.to_string(), str::to_string);
        out.insert(&key, caps.get(i).map(|m| Value::str(m.as_str())).unwrap_or(Value::Null));
    }
    Ok(Value::from(out))
}

/// The `text` shelf.
pub fn shelf() -> Shelf {
    Shelf::new(
        "text",
        "Strings: format, split, join, upper, lower, trim, and regex match/find/replace/captures",
    )
    .with(format_kind())
    .with(split_kind())
    .with(join_kind())
    .with(upper_kind())
    .with(lower_kind())
    .with(trim_kind())
    .with(regex_match_kind())
    .with(regex_find_kind())
    .with(regex_replace_kind())
    .with(regex_captures_kind())
}
