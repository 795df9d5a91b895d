//! The `text` shelf: strings. `text.format` fills `{name}` / `{0}` placeholders; the `regex`
//! kinds use the [`regex`] crate's syntax, and a pattern that does not compile is an error
//! naming the `pattern` input. Each regex node compiles its pattern once and keeps it
//! until the pattern changes (not once per run).

use std::sync::Arc;

use flowloop::flow::Outputs;
use regex::Regex;

use crate::kind::{Call, Inputs, Instance, Kind, KindError, KindSpec, kind_error, ready};
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
    Ok(find_all(&compile(&pattern)?, &text))
}

fn find_all(re: &Regex, text: &str) -> Vec<Value> {
    re.find_iter(text).map(|m| Value::str(m.as_str())).collect()
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
    Ok(captures_of(&compile(&pattern)?, &text))
}

fn captures_of(re: &Regex, text: &str) -> Value {
    let Some(caps) = re.captures(text) else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (i, name) in re.capture_names().enumerate() {
        let key = name.map_or_else(|| i.to_string(), str::to_string);
        out.insert(&key, caps.get(i).map(|m| Value::str(m.as_str())).unwrap_or(Value::Null));
    }
    Value::from(out)
}

/// Which regex kind a [`RegexKind`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegexOp {
    Match,
    Find,
    Replace,
    Captures,
}

/// A regex kind whose nodes keep their compiled pattern between runs. Its spec (ports,
/// defaults, doc) is the one `#[kind]` generated for the function of the same name.
struct RegexKind {
    spec: KindSpec,
    op: RegexOp,
}

impl std::fmt::Debug for RegexKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegexKind").field("name", &self.spec.name).finish()
    }
}

impl RegexKind {
    fn new(kind: impl Kind, op: RegexOp) -> RegexKind {
        RegexKind {
            spec: kind.spec().clone(),
            op,
        }
    }
}

impl Kind for RegexKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(RegexNode {
            spec: Arc::new(self.spec.clone()),
            op: self.op,
            compiled: None,
        })
    }
}

/// One regex node: the last pattern and its compiled form.
struct RegexNode {
    spec: Arc<KindSpec>,
    op: RegexOp,
    compiled: Option<(String, Regex)>,
}

impl RegexNode {
    /// The compiled `pattern`, compiling only when it differs from the last one.
    fn regex(&mut self, pattern: String) -> Result<&Regex, KindError> {
        if self.compiled.as_ref().is_none_or(|(p, _)| *p != pattern) {
            let re = compile(&pattern)?;
            self.compiled = Some((pattern, re));
        }
        Ok(&self.compiled.as_ref().expect("set just above").1)
    }

    fn run(&mut self, inputs: &mut Inputs) -> Result<Value, KindError> {
        let text: String = inputs.take(0)?;
        let pattern: String = inputs.take(1)?;
        let with: Option<String> = match self.op {
            RegexOp::Replace => Some(inputs.take(2)?),
            _ => None,
        };
        let op = self.op;
        let re = self.regex(pattern)?;
        Ok(match (op, with) {
            (RegexOp::Match, _) => Value::Bool(re.is_match(&text)),
            (RegexOp::Find, _) => Value::list(find_all(re, &text)),
            (RegexOp::Replace, with) => Value::str(&re.replace_all(&text, with.unwrap_or_default().as_str())),
            (RegexOp::Captures, _) => captures_of(re, &text),
        })
    }
}

impl Instance for RegexNode {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        inputs.set_spec(Arc::clone(&self.spec));
        ready(self.run(&mut inputs).map(Outputs::One).map_err(Into::into))
    }
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
    .with(RegexKind::new(regex_match_kind(), RegexOp::Match))
    .with(RegexKind::new(regex_find_kind(), RegexOp::Find))
    .with(RegexKind::new(regex_replace_kind(), RegexOp::Replace))
    .with(RegexKind::new(regex_captures_kind(), RegexOp::Captures))
}
