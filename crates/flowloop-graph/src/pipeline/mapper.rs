//! [`Mapper`]: renames a step's inputs and outputs, and names positional results.

use std::sync::Arc;

use super::leaf::{Param, Params, Raw};
use crate::{Map, Value};

/// Renames a step's inputs and outputs and names the values it returns.
///
/// Applied in this order: input renames when the step picks its arguments; then
/// [`returns`](Mapper::returns) names positional results (one name takes the whole result, a
/// map included; several names split a tuple); then output renames.
///
/// ```
/// use flowloop_graph::pipeline::Mapper;
/// let m = Mapper::new()
///     .input("text", "title") // parameter `text` reads argument `title`
///     .returns(["upper"]) // the single returned value is output `upper`
///     .output("upper", "headline"); // ...then renamed `headline`
/// # let _ = m;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapper {
    inputs: Vec<(String, String)>,
    outputs: Vec<(String, String)>,
    returns: Option<Vec<String>>,
}

impl Mapper {
    /// A mapper that changes nothing.
    pub fn new() -> Mapper {
        Mapper::default()
    }

    /// Parameter `param` takes the argument named `from`.
    pub fn input(mut self, param: &str, from: &str) -> Mapper {
        self.inputs.push((param.to_string(), from.to_string()));
        self
    }

    /// Output `output` is published as `to`.
    pub fn output(mut self, output: &str, to: &str) -> Mapper {
        self.outputs.push((output.to_string(), to.to_string()));
        self
    }

    /// Names the returned values: one name for a single value (or a whole map), one name per
    /// element for a tuple.
    pub fn returns<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Mapper {
        self.returns = Some(names.into_iter().map(str::to_string).collect());
        self
    }

    pub(crate) fn input_renames(&self) -> impl Iterator<Item = &(String, String)> {
        self.inputs.iter()
    }

    pub(crate) fn output_renames(&self) -> impl Iterator<Item = &(String, String)> {
        self.outputs.iter()
    }

    pub(crate) fn returned(&self) -> Option<&[String]> {
        self.returns.as_deref()
    }

    /// The argument name parameter `param` reads.
    pub(crate) fn source<'a>(&'a self, param: &'a str) -> &'a str {
        self.inputs
            .iter()
            .find(|(p, _)| p == param)
            .map_or(param, |(_, from)| from.as_str())
    }

    /// The outputs a step declares after renames, given the names of its positional values
    /// (`None`: known only at run time).
    pub(crate) fn declared(&self, positional: Option<&[String]>) -> Option<Vec<String>> {
        let names = self.returns.clone().or_else(|| positional.map(<[String]>::to_vec))?;
        Some(names.iter().map(|n| self.renamed(n).to_string()).collect())
    }

    fn renamed<'a>(&'a self, output: &'a str) -> &'a str {
        self.outputs
            .iter()
            .find(|(o, _)| o == output)
            .map_or(output, |(_, to)| to.as_str())
    }

    /// The arguments a step with `params` receives out of `visible`, or the first missing
    /// argument's name (the name the caller must pass).
    pub(crate) fn pick(&self, params: &Params, visible: &Map) -> Result<Map, String> {
        match params {
            Params::Open => Ok(self.rename_inputs(visible.clone())),
            Params::Closed(list) => self.pick_closed(list, visible),
        }
    }

    /// `visible` with each renamed argument moved to its parameter's name.
    pub(crate) fn rename_inputs(&self, mut visible: Map) -> Map {
        if self.inputs.is_empty() {
            return visible;
        }
        for (param, from) in &self.inputs {
            if let Some(v) = visible.remove(from) {
                visible.insert(param, v);
            }
        }
        visible
    }

    /// The values of `params` in order (for a kind: its ports), each wrapped by `wrap`, or
    /// the first missing argument's name; a `ByDecoder` parameter without a value is null.
    pub(crate) fn pick_values<T>(
        &self,
        params: &[Param],
        visible: &Map,
        wrap: impl Fn(Value) -> T,
    ) -> Result<Vec<T>, String> {
        use super::leaf::Need;
        let mut values = Vec::with_capacity(params.len());
        for p in params {
            let source = self.source(&p.name);
            values.push(wrap(match (visible.get(source), &p.need) {
                (Some(v), _) => v.clone(),
                (None, Need::Default(d)) => d.clone(),
                (None, Need::Required) => return Err(source.to_string()),
                (None, Need::ByDecoder) => Value::Null,
            }));
        }
        Ok(values)
    }

    fn pick_closed(&self, params: &[Param], visible: &Map) -> Result<Map, String> {
        use super::leaf::Need;
        let mut args = Map::new();
        for p in params {
            let source = self.source(&p.name);
            match (visible.get(source), &p.need) {
                (Some(v), _) => {
                    args.insert(&p.name, v.clone());
                }
                (None, Need::Default(d)) => {
                    args.insert(&p.name, d.clone());
                }
                (None, Need::Required) => return Err(source.to_string()),
                (None, Need::ByDecoder) => {}
            }
        }
        Ok(args)
    }

    /// The final output keys of a step returning `positional` values (after `returns` and
    /// renames), when they are known and distinct: the runner then names results without
    /// looking at the mapper again.
    pub(crate) fn value_keys(&self, positional: Option<&[String]>) -> Option<Arc<[Arc<str>]>> {
        let names = self.declared(positional)?;
        let distinct = names.iter().enumerate().all(|(i, n)| !names[..i].contains(n));
        distinct.then(|| names.iter().map(|n| Arc::<str>::from(n.as_str())).collect())
    }

    /// Names a step's raw result: `returns`, else the positional names, then output renames
    /// (in place: a renamed output keeps its position).
    ///
    /// # Errors
    /// A message saying what did not fit and what to do.
    pub(crate) fn name_outputs(&self, raw: Raw, positional: Option<&[String]>) -> Result<Map, String> {
        let mut map = match (raw, self.returns.as_deref().or(positional)) {
            (Raw::Map(m), Some(names)) if self.returns.is_some() => whole(names, Value::from(m))?,
            (Raw::Map(m), _) => m,
            (Raw::Values(vs), Some(names)) => zip(names, vs)?,
            (Raw::Values(vs), None) => {
                return Err(format!(
                    "it returned {}, not named outputs: return a map or struct, or name the value with \
                     Mapper::returns",
                    preview(&vs)
                ));
            }
        };
        for (from, _) in &self.outputs {
            if !map.contains_key(from) {
                let have: Vec<&str> = map.keys().collect();
                return Err(format!(
                    "the mapper renames output `{from}`, which the step did not produce (it produced: {})",
                    have.join(", ")
                ));
            }
        }
        if !self.outputs.is_empty() {
            map = map.iter().map(|(k, v)| (self.renamed(k), v.clone())).collect();
        }
        Ok(map)
    }
}

fn preview(values: &[Value]) -> String {
    match values {
        [v] => format!("the {} {}", v.type_of(), v.preview(40)),
        vs => format!("{} values", vs.len()),
    }
}

/// One name for the whole map result.
fn whole(names: &[String], value: Value) -> Result<Map, String> {
    match names {
        [name] => Ok(Map::from_iter([(name.as_str(), value)])),
        _ => Err(format!(
            "it returned a map, but the mapper names {} values; name it once, or drop `returns`",
            names.len()
        )),
    }
}

/// Positional values under names: as many names as values, or one list split over the names.
fn zip(names: &[String], values: Vec<Value>) -> Result<Map, String> {
    if names.len() == values.len() {
        return Ok(names.iter().map(String::as_str).zip(values).collect());
    }
    if let [Value::List(items)] = values.as_slice() {
        if items.len() == names.len() {
            let items = Arc::clone(items);
            return Ok(names.iter().map(String::as_str).zip(items.iter().cloned()).collect());
        }
    }
    Err(format!(
        "it returned {}, but the mapper names {} outputs ({})",
        preview(&values),
        names.len(),
        names.join(", ")
    ))
}
