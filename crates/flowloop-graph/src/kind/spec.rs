//! [`KindSpec`]: the description of a kind the registry lists and the graph checks against.

use serde::Serialize;

use crate::{Type, Value};

/// How an input receives its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InputMode {
    /// A plain value (run level 0).
    Value,
    /// A stream of chunks from a streaming node (run level 1).
    Stream,
    /// A plain value computed only when the kind [needs](super::Kind::needed) it (the
    /// branches of `flow.if`). Pull evaluation resolves it on demand. Batch and push
    /// evaluation skip the nodes that feed nothing but lazy inputs of one node when it does
    /// not need them this run: their bodies do not run and they keep their previous outputs
    /// (a batch run still advances their generation). Nodes in or upstream of a cycle,
    /// streaming nodes, and nodes also read elsewhere always run.
    Lazy,
}

/// How a kind's body runs: awaiting on the loop, or computing in place (and possibly
/// blocking). Pipelines run [`Sync`](BodyKind::Sync) bodies on the offload pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BodyKind {
    /// An `async fn`, or a hand-written kind: runs on the loop.
    #[default]
    Async,
    /// A plain `fn` (`#[kind]` on a non-async function).
    Sync,
}

/// One input port of a kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortSpec {
    /// The port's name (the parameter name).
    pub name: String,
    /// The accepted type.
    #[serde(rename = "type", serialize_with = "ser_type")]
    pub ty: Type,
    /// The value used when the port is unconnected (or stale, in a cycle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// How the port receives data.
    pub mode: InputMode,
}

impl PortSpec {
    /// A plain input of type `ty` without default.
    pub fn new(name: &str, ty: Type) -> PortSpec {
        PortSpec {
            name: name.to_string(),
            ty,
            default: None,
            mode: InputMode::Value,
        }
    }

    /// With a default value.
    pub fn default(mut self, value: impl Into<Value>) -> PortSpec {
        self.default = Some(value.into());
        self
    }

    /// With another input mode.
    pub fn mode(mut self, mode: InputMode) -> PortSpec {
        self.mode = mode;
        self
    }
}

/// One output of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputSpec {
    /// The output's name (`out` for a single unnamed output).
    pub name: String,
    /// The produced type.
    #[serde(rename = "type", serialize_with = "ser_type")]
    pub ty: Type,
}

/// The description of a kind.
///
/// ```
/// use flowloop_graph::kind::{KindSpec, PortSpec};
/// use flowloop_graph::Type;
/// let spec = KindSpec::new("math.add")
///     .doc("Adds two numbers.")
///     .input(PortSpec::new("a", Type::Float))
///     .input(PortSpec::new("b", Type::Float).default(1.0))
///     .output("out", Type::Float);
/// assert_eq!(spec.input_index("b"), Some(1));
/// assert_eq!(spec.shelf(), "math");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindSpec {
    /// The full name, `shelf.kind` (`math.add`).
    pub name: String,
    /// What the kind does (the doc comment).
    pub doc: String,
    /// The inputs, in call order.
    pub inputs: Vec<PortSpec>,
    /// The outputs (the final value of a streaming kind).
    pub outputs: Vec<OutputSpec>,
    /// For streaming kinds, the type of the chunks.
    #[serde(
        rename = "stream",
        serialize_with = "ser_opt_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub stream: Option<Type>,
    /// How the body runs (not listed in JSON).
    #[serde(skip)]
    pub body: BodyKind,
    /// For kinds made with `#[kind]`: the typed Rust function (used by code generators).
    #[serde(skip)]
    pub typed: Option<crate::typed::TypedFn>,
}

fn ser_type<S: serde::Serializer>(t: &Type, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

fn ser_opt_type<S: serde::Serializer>(t: &Option<Type>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(t.name()),
        None => s.serialize_none(),
    }
}

impl KindSpec {
    /// A kind named `name` with no ports yet.
    pub fn new(name: &str) -> KindSpec {
        KindSpec {
            name: name.to_string(),
            doc: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            stream: None,
            body: BodyKind::Async,
            typed: None,
        }
    }

    /// With this [`BodyKind`] (`#[kind]` marks plain functions [`Sync`](BodyKind::Sync)).
    pub fn body(mut self, body: BodyKind) -> KindSpec {
        self.body = body;
        self
    }

    /// With this doc text.
    pub fn doc(mut self, doc: &str) -> KindSpec {
        self.doc = doc.trim().to_string();
        self
    }

    /// Appends an input.
    pub fn input(mut self, port: PortSpec) -> KindSpec {
        self.inputs.push(port);
        self
    }

    /// Appends an output.
    pub fn output(mut self, name: &str, ty: Type) -> KindSpec {
        self.outputs.push(OutputSpec {
            name: name.to_string(),
            ty,
        });
        self
    }

    /// Makes the kind streaming, with chunks of type `chunk`.
    pub fn streaming(mut self, chunk: Type) -> KindSpec {
        self.stream = Some(chunk);
        self
    }

    /// Records the typed Rust function behind the kind (what `#[kind]` does).
    pub fn typed_fn(mut self, typed: crate::typed::TypedFn) -> KindSpec {
        self.typed = Some(typed);
        self
    }

    /// The shelf (namespace): the part before the last `.`.
    pub fn shelf(&self) -> &str {
        self.name.rsplit_once('.').map_or("", |(s, _)| s)
    }

    /// The position of input `name`.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        self.inputs.iter().position(|p| p.name == name)
    }

    /// The position of output `name`.
    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.outputs.iter().position(|p| p.name == name)
    }

    /// Positions of the lazy inputs.
    pub fn lazy_inputs(&self) -> impl Iterator<Item = usize> + '_ {
        self.inputs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.mode == InputMode::Lazy)
            .map(|(i, _)| i)
    }

    /// The JSON description (as the registry lists it).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a kind spec always serializes")
    }
}
