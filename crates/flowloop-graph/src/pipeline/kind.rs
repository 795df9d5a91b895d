//! A pipeline as a node kind of a graph ([`PipelineKind`]) and as a typed-flow node
//! ([`Pipeline::flow_node`]).

use std::sync::Arc;

use flowloop::flow::{FlowBuilder, IntoArgs, Node, Outputs};

use super::{Pipeline, RunError};
use crate::kind::{Call, Inputs, Instance, Kind, KindSpec, OutputSpec, PortSpec, pending};
use crate::{Map, Type, Value};

/// A [`Pipeline`] as a node kind: one input port per argument the pipeline reads
/// ([`Pipeline::inputs`], with their defaults), and either one map output `out` (every
/// output) or one port per chosen output name.
///
/// ```
/// use flowloop_graph::pipeline::{Pipeline, PipelineKind};
/// use flowloop_graph::{Registry, Shelf, kind, seq};
///
/// #[kind(name = "demo.inc", outputs("x"))]
/// async fn inc(x: i64) -> (i64,) { (x + 1,) }
///
/// let p = Pipeline::new(seq![inc_kind(), inc_kind()].named("twice")).unwrap();
/// let k = PipelineKind::new("demo.twice", p).outputs(["x"]);
/// let mut reg = Registry::new();
/// reg.register(Shelf::new("demo", "Demo").with(k)).unwrap();
/// let spec = reg.get("demo.twice").unwrap().spec();
/// assert_eq!(spec.inputs[0].name, "x");
/// assert_eq!(spec.outputs[0].name, "x");
/// ```
#[derive(Debug, Clone)]
pub struct PipelineKind {
    spec: Arc<KindSpec>,
    pipeline: Pipeline,
    outputs: Option<Arc<[String]>>,
}

impl PipelineKind {
    /// The kind `name` (`shelf.kind`) running `pipeline`, with one map output `out`.
    pub fn new(name: &str, pipeline: Pipeline) -> PipelineKind {
        let mut spec = KindSpec::new(name).doc(&format!("Runs pipeline `{}`.", pipeline.step().name()));
        for (input, default) in pipeline.inputs() {
            let port = PortSpec::new(&input, Type::Any);
            spec = spec.input(match default {
                Some(d) => port.default(d),
                None => port,
            });
        }
        PipelineKind {
            spec: Arc::new(spec.output("out", Type::Map)),
            pipeline,
            outputs: None,
        }
    }

    /// With this doc text.
    pub fn doc(mut self, doc: &str) -> PipelineKind {
        Arc::make_mut(&mut self.spec).doc = doc.trim().to_string();
        self
    }

    /// Only these input ports, in this order (keeping computed defaults): for pipelines whose
    /// steps' outputs are known only at run time, so [`Pipeline::inputs`] also lists arguments
    /// that earlier steps will produce.
    pub fn inputs<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> PipelineKind {
        let spec = Arc::make_mut(&mut self.spec);
        let computed = std::mem::take(&mut spec.inputs);
        for name in names {
            let port = computed
                .iter()
                .find(|p| p.name == name)
                .cloned()
                .unwrap_or_else(|| PortSpec::new(name, Type::Any));
            spec.inputs.push(port);
        }
        self
    }

    /// One output port per name, each taking that output of the pipeline.
    pub fn outputs<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> PipelineKind {
        let names: Arc<[String]> = names.into_iter().map(str::to_string).collect();
        Arc::make_mut(&mut self.spec).outputs = names
            .iter()
            .map(|name| OutputSpec {
                name: name.clone(),
                ty: Type::Any,
            })
            .collect();
        self.outputs = Some(names);
        self
    }
}

impl Kind for PipelineKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }

    fn instance(&self) -> Box<dyn Instance> {
        Box::new(PipelineInstance { kind: self.clone() })
    }
}

struct PipelineInstance {
    kind: PipelineKind,
}

impl Instance for PipelineInstance {
    fn call(&mut self, mut inputs: Inputs) -> Call {
        let mut args = Map::new();
        for (i, port) in self.kind.spec.inputs.iter().enumerate() {
            if let Ok(v) = inputs.value(i) {
                args.insert(&port.name, v);
            }
        }
        let run = self.kind.pipeline.run(args);
        let (outputs, root) = (self.kind.outputs.clone(), self.kind.pipeline.step().name().to_string());
        pending(async move {
            let report = run.await?;
            match outputs {
                None => Ok(Outputs::One(Value::from(report.outputs))),
                Some(names) => pick_outputs(&root, &report.outputs, &names).map_err(Into::into),
            }
        })
    }
}

fn pick_outputs(root: &str, produced: &Map, names: &[String]) -> Result<Outputs<Value>, RunError> {
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        match produced.get(name) {
            Some(v) => values.push(v.clone()),
            None => {
                return Err(RunError::BadOutput {
                    step: root.to_string(),
                    problem: format!(
                        "the node kind takes output `{name}`, which the pipeline did not produce (it produced: {})",
                        produced.keys().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }
    Ok(match values.len() {
        1 => Outputs::One(values.remove(0)),
        _ => Outputs::Many(values),
    })
}

impl Pipeline {
    /// This pipeline as the node kind `name` (see [`PipelineKind`]).
    pub fn into_kind(self, name: &str) -> PipelineKind {
        PipelineKind::new(name, self)
    }

    /// A typed-flow node running this pipeline on its map input each time the input has a new
    /// value; its value is the pipeline's outputs, and a failed run is the node's error.
    pub fn flow_node(&self, b: &mut FlowBuilder, args: impl IntoArgs<(Map,)>) -> Node<Map> {
        let pipeline = self.clone();
        let node = b.try_node(
            move |args: Map| {
                let run = pipeline.run(args);
                async move { run.await.map(|report| report.outputs) }
            },
            args,
        );
        b.set_name(node, &format!("pipeline {}", self.root.name));
        b.set_input_names(node, &["args"]);
        node
    }
}
