//! Flows: a set of processors wired by stream name, checked when built.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::names::{ProcessorName, StreamName};
use crate::processor::Processor;

/// Position of a processor in its [`Flow`] (declaration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcIndex(usize);

impl ProcIndex {
    pub(crate) fn from_usize(i: usize) -> ProcIndex {
        ProcIndex(i)
    }
}

impl From<ProcIndex> for usize {
    fn from(i: ProcIndex) -> usize {
        i.0
    }
}

/// Who writes a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Producer {
    /// The flow's caller, through the run's input API.
    FlowInput,
    /// A processor of the flow.
    Processor(ProcIndex),
}

/// What the flow knows about one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Who writes it.
    pub producer: Producer,
    /// Who reads it, in declaration order.
    pub consumers: Vec<ProcIndex>,
    /// Most entries a consumer group may have unacknowledged (lag + pending) before producers
    /// wait; `None` when unbounded (always for inputs of `wait` and stream processors and
    /// for flow outputs).
    pub cap: Option<usize>,
    /// Declared as a flow output.
    pub is_output: bool,
}

/// Why a set of processors does not form a flow. Every message names the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// Two processors share a name.
    #[error("flow `{flow}`: two processors are named `{processor}`; rename one")]
    DuplicateProcessor {
        /// The flow.
        flow: String,
        /// The repeated name.
        processor: ProcessorName,
    },
    /// A processor has no handler.
    #[error(
        "flow `{flow}`: processor `{processor}` has no handler; call .each(..), .wait(..), .stream(..) or .flow(..)"
    )]
    NoHandler {
        /// The flow.
        flow: String,
        /// The processor.
        processor: ProcessorName,
    },
    /// Two producers write the same stream.
    #[error("flow `{flow}`: stream `{stream}` has two producers, {first} and {second}; a stream has exactly one")]
    TwoProducers {
        /// The flow.
        flow: String,
        /// The stream.
        stream: StreamName,
        /// The first producer ("processor `x`" or "the flow input").
        first: String,
        /// The second producer.
        second: String,
    },
    /// A processor reads a stream nobody writes.
    #[error(
        "flow `{flow}`: processor `{processor}` reads stream `{stream}`, which no processor writes; \
         declare it with .input(\"{stream}\") or add its producer"
    )]
    Unproduced {
        /// The flow.
        flow: String,
        /// The stream.
        stream: StreamName,
        /// The reader.
        processor: ProcessorName,
    },
    /// A declared flow output nobody writes.
    #[error("flow `{flow}`: output stream `{stream}` is written by no processor")]
    UnproducedOutput {
        /// The flow.
        flow: String,
        /// The stream.
        stream: StreamName,
    },
    /// A stream is written but never read.
    #[error(
        "flow `{flow}`: stream `{stream}` is written by {producer} but read by nobody; \
         declare it with .output(\"{stream}\") or remove it"
    )]
    Unread {
        /// The flow.
        flow: String,
        /// The stream.
        stream: StreamName,
        /// Its producer.
        producer: String,
    },
    /// The processors form a cycle.
    #[error("flow `{flow}`: processors form a cycle: {}", path.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" -> "))]
    Cycle {
        /// The flow.
        flow: String,
        /// The processors around the cycle, the first repeated at the end.
        path: Vec<ProcessorName>,
    },
}

/// Collects processors, flow inputs and outputs; [`FlowBuilder::build`] resolves them.
#[derive(Debug)]
pub struct FlowBuilder {
    name: String,
    processors: Vec<Processor>,
    inputs: Vec<StreamName>,
    outputs: Vec<StreamName>,
    caps: HashMap<StreamName, usize>,
    default_cap: Option<usize>,
    max_deliveries: u32,
}

impl FlowBuilder {
    /// An empty flow called `name` (workers find flows by this name).
    pub fn new(name: &str) -> FlowBuilder {
        FlowBuilder {
            name: name.to_string(),
            processors: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            caps: HashMap::new(),
            default_cap: Some(1024),
            max_deliveries: 5,
        }
    }

    /// Adds a processor.
    pub fn processor(mut self, p: Processor) -> FlowBuilder {
        self.processors.push(p);
        self
    }

    /// Declares a stream the caller feeds when starting a run.
    pub fn input(mut self, stream: &str) -> FlowBuilder {
        self.inputs.push(stream.into());
        self
    }

    /// Declares a stream the caller reads.
    pub fn output(mut self, stream: &str) -> FlowBuilder {
        self.outputs.push(stream.into());
        self
    }

    /// Bounds `stream`: producers wait while a consumer has `cap` entries unacknowledged.
    pub fn cap(mut self, stream: &str, cap: usize) -> FlowBuilder {
        self.caps.insert(stream.into(), cap.max(1));
        self
    }

    /// The bound for streams without their own [`FlowBuilder::cap`] (1024 by default;
    /// `None` for unbounded).
    pub fn default_cap(mut self, cap: Option<usize>) -> FlowBuilder {
        self.default_cap = cap.map(|c| c.max(1));
        self
    }

    /// Deliveries of one entry before it goes to the dead-letter stream (5 by default): after
    /// that many handler errors, or — on Redis — when its workers died that many times while
    /// handling it (a crash poison; a worker that dies charges a delivery to every entry of
    /// the batch it held, so keep this above the crashes an innocent entry may share).
    pub fn max_deliveries(mut self, n: u32) -> FlowBuilder {
        self.max_deliveries = n.max(1);
        self
    }

    /// Resolves the flow: matches readers to writers by stream name and checks the result.
    ///
    /// # Errors
    /// A [`FlowError`] for duplicate names, missing handlers, two producers of a stream, a
    /// stream read but never written (or written but never read), and cycles.
    pub fn build(self) -> Result<Flow, FlowError> {
        let flow = self.name.clone();
        self.check_processors()?;
        let mut streams = self.producers()?;
        self.attach_consumers(&mut streams)?;
        self.check_outputs(&mut streams)?;
        let order = topological_order(&flow, &self.processors, &streams)?;
        self.apply_caps(&mut streams);
        Ok(Flow {
            inner: Rc::new(FlowInner {
                name: self.name,
                processors: self.processors,
                streams,
                inputs: self.inputs,
                outputs: self.outputs,
                order,
                max_deliveries: self.max_deliveries,
            }),
        })
    }

    fn check_processors(&self) -> Result<(), FlowError> {
        let mut seen = std::collections::HashSet::new();
        for p in &self.processors {
            if !seen.insert(&p.name) {
                return Err(FlowError::DuplicateProcessor {
                    flow: self.name.clone(),
                    processor: p.name.clone(),
                });
            }
            if p.handler.is_none() {
                return Err(FlowError::NoHandler {
                    flow: self.name.clone(),
                    processor: p.name.clone(),
                });
            }
        }
        Ok(())
    }

    fn producers(&self) -> Result<BTreeMap<StreamName, StreamInfo>, FlowError> {
        let mut streams: BTreeMap<StreamName, StreamInfo> = BTreeMap::new();
        let writers = self.inputs.iter().map(|s| (s, Producer::FlowInput));
        let writers = writers.chain(
            self.processors
                .iter()
                .enumerate()
                .flat_map(|(i, p)| p.outputs.iter().map(move |s| (s, Producer::Processor(ProcIndex(i))))),
        );
        for (stream, producer) in writers {
            if let Some(existing) = streams.get(stream) {
                return Err(FlowError::TwoProducers {
                    flow: self.name.clone(),
                    stream: stream.clone(),
                    first: self.describe(existing.producer),
                    second: self.describe(producer),
                });
            }
            let info = StreamInfo {
                producer,
                consumers: Vec::new(),
                cap: None,
                is_output: false,
            };
            streams.insert(stream.clone(), info);
        }
        Ok(streams)
    }

    fn attach_consumers(&self, streams: &mut BTreeMap<StreamName, StreamInfo>) -> Result<(), FlowError> {
        for (i, p) in self.processors.iter().enumerate() {
            for stream in &p.inputs {
                let info = streams.get_mut(stream).ok_or_else(|| FlowError::Unproduced {
                    flow: self.name.clone(),
                    stream: stream.clone(),
                    processor: p.name.clone(),
                })?;
                info.consumers.push(ProcIndex(i));
            }
        }
        Ok(())
    }

    fn check_outputs(&self, streams: &mut BTreeMap<StreamName, StreamInfo>) -> Result<(), FlowError> {
        for stream in &self.outputs {
            let info = streams.get_mut(stream).ok_or_else(|| FlowError::UnproducedOutput {
                flow: self.name.clone(),
                stream: stream.clone(),
            })?;
            info.is_output = true;
        }
        match streams
            .iter()
            .find(|(_, info)| info.consumers.is_empty() && !info.is_output)
        {
            Some((stream, info)) => Err(FlowError::Unread {
                flow: self.name.clone(),
                stream: stream.clone(),
                producer: self.describe(info.producer),
            }),
            None => Ok(()),
        }
    }

    fn apply_caps(&self, streams: &mut BTreeMap<StreamName, StreamInfo>) {
        for (name, info) in streams.iter_mut() {
            // Only consumers that acknowledge entry by entry let a bounded stream drain; `wait`
            // and stream processors read the stream whole (and replay it after a crash).
            let feeds_reader = info.consumers.iter().any(|c| !self.processors[c.0].acks_entries());
            let bounded = !feeds_reader && !info.is_output;
            info.cap = if bounded {
                self.caps.get(name).copied().or(self.default_cap)
            } else {
                None
            };
        }
    }

    fn describe(&self, producer: Producer) -> String {
        match producer {
            Producer::FlowInput => "the flow input".to_string(),
            Producer::Processor(i) => format!("processor `{}`", self.processors[i.0].name),
        }
    }
}

fn topological_order(
    flow: &str,
    processors: &[Processor],
    streams: &BTreeMap<StreamName, StreamInfo>,
) -> Result<Vec<ProcIndex>, FlowError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let next = |i: usize| -> Vec<usize> {
        processors[i]
            .outputs
            .iter()
            .flat_map(|s| streams[s].consumers.iter().map(|c| c.0))
            .collect()
    };
    let mut marks = vec![Mark::New; processors.len()];
    let mut order = Vec::new();
    let mut path: Vec<usize> = Vec::new();
    fn visit(
        i: usize,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
        next: &dyn Fn(usize) -> Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Open => {
                let start = path.iter().position(|&p| p == i).expect("an open node is on the path");
                let mut cycle = path[start..].to_vec();
                cycle.push(i);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks[i] = Mark::Open;
        path.push(i);
        for n in next(i) {
            visit(n, marks, path, order, next)?;
        }
        path.pop();
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    for i in 0..processors.len() {
        visit(i, &mut marks, &mut path, &mut order, &next).map_err(|cycle| FlowError::Cycle {
            flow: flow.to_string(),
            path: cycle.into_iter().map(|c| processors[c].name.clone()).collect(),
        })?;
    }
    order.reverse();
    Ok(order.into_iter().map(ProcIndex).collect())
}

#[derive(Debug)]
struct FlowInner {
    name: String,
    processors: Vec<Processor>,
    streams: BTreeMap<StreamName, StreamInfo>,
    inputs: Vec<StreamName>,
    outputs: Vec<StreamName>,
    order: Vec<ProcIndex>,
    max_deliveries: u32,
}

/// A resolved flow: the same value runs on the in-process executor and on Redis workers.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Flow {
    inner: Rc<FlowInner>,
}

impl Flow {
    /// The flow's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Processors in declaration order.
    pub fn processors(&self) -> &[Processor] {
        &self.inner.processors
    }

    /// The processor at `i`.
    pub fn processor(&self, i: ProcIndex) -> &Processor {
        &self.inner.processors[i.0]
    }

    /// The processor called `name`.
    pub fn find(&self, name: &str) -> Option<ProcIndex> {
        self.inner
            .processors
            .iter()
            .position(|p| p.name == *name)
            .map(ProcIndex)
    }

    /// Processors so that every producer comes before its consumers.
    pub fn order(&self) -> &[ProcIndex] {
        &self.inner.order
    }

    /// Every stream with its producer, consumers and bound, by name.
    pub fn streams(&self) -> &BTreeMap<StreamName, StreamInfo> {
        &self.inner.streams
    }

    /// The streams the caller feeds.
    pub fn inputs(&self) -> &[StreamName] {
        &self.inner.inputs
    }

    /// The streams the caller reads.
    pub fn outputs(&self) -> &[StreamName] {
        &self.inner.outputs
    }

    /// Deliveries of one entry before it goes to the dead-letter stream.
    pub fn max_deliveries(&self) -> u32 {
        self.inner.max_deliveries
    }
}
