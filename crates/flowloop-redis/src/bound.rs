//! Flowloop flows as processors: a typed [`flowloop::flow::Flow`] whose stream inputs and
//! outputs are bound to the processor's named streams ([`Processor::flow`]).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use flowloop::flow::{Emitter, FlowBuilder, Output, RunOptions, Stream, StreamNode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::processor::{Context, ProcessError, Processor};
use crate::stream_io::{InputStream, OutputStream, StreamIo};

/// Binds a processor's named streams into a flowloop flow while it is built: an input becomes
/// a streaming source node, an output a sink node draining a stream of the flow.
pub struct FlowIo {
    io: StreamIo,
}

impl fmt::Debug for FlowIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowIo").field("io", &self.io).finish()
    }
}

impl FlowIo {
    /// A streaming source node emitting every entry of input `stream`, decoded as `T`; its
    /// final value is the number of entries. Pass `node.stream()` to the nodes that read it.
    ///
    /// # Errors
    /// When the processor does not declare `stream` as an input (or it was bound before).
    pub fn input<T>(&mut self, b: &mut FlowBuilder, stream: &str) -> Result<StreamNode<T, u64>, ProcessError>
    where
        T: DeserializeOwned + Clone + 'static,
    {
        let source = Rc::new(RefCell::new(Some(self.io.input(stream)?)));
        let node = b.try_stream(
            move |emitter: Emitter<T>| {
                let taken = source.borrow_mut().take();
                async move { pump_in(taken, emitter).await }
            },
            (),
        );
        b.set_name(node, &format!("input {stream}"));
        Ok(node)
    }

    /// A sink node writing every chunk of `from` to output `stream`; its value is the number of
    /// entries written.
    ///
    /// # Errors
    /// When the processor does not declare `stream` as an output (or it was bound before).
    pub fn output<T>(&mut self, b: &mut FlowBuilder, stream: &str, from: Output<Stream<T>>) -> Result<(), ProcessError>
    where
        T: Serialize + Clone + 'static,
    {
        let sink = Rc::new(RefCell::new(Some(self.io.output(stream)?)));
        let node = b.try_node(
            move |chunks: Stream<T>| {
                let taken = sink.borrow_mut().take();
                async move { pump_out(chunks, taken).await }
            },
            (from,),
        );
        b.set_name(node, &format!("output {stream}"));
        Ok(())
    }
}

async fn pump_in<T: DeserializeOwned + Clone>(
    source: Option<InputStream>,
    emitter: Emitter<T>,
) -> Result<u64, ProcessError> {
    let Some(mut source) = source else {
        return Ok(0); // a second run of the flow: the input was read to its end by the first
    };
    let mut count = 0;
    while let Some(item) = source.next().await? {
        if emitter.emit(item.decode::<T>()?).await.is_err() {
            break; // every consumer cancelled the stream
        }
        count += 1;
    }
    Ok(count)
}

async fn pump_out<T: Serialize + Clone>(
    mut chunks: Stream<T>,
    sink: Option<OutputStream>,
) -> Result<u64, ProcessError> {
    let Some(mut sink) = sink else {
        return Ok(0);
    };
    let mut count = 0;
    while let Some(chunk) = chunks.next().await {
        sink.emit(&chunk).await?;
        count += 1;
    }
    Ok(count)
}

impl Processor {
    /// A processor whose body is a flowloop flow: `build` adds nodes to a fresh
    /// [`FlowBuilder`] and binds the processor's declared streams with [`FlowIo::input`] and
    /// [`FlowIo::output`]. Each run builds the flow and runs it to the end; nodes read the
    /// processor's [`Context`] with `flowloop::flow::context::<Context>()`. It runs like a
    /// [`Processor::stream`] (once, on one worker at a time; replayed by a new owner after a
    /// crash, so keep it deterministic); a node error ends it with a dead letter.
    ///
    /// ```
    /// use flowloop::flow::{Emitter, Stream};
    /// use flowloop_redis::{FlowBuilder, FlowInputs, InProcess, Processor};
    ///
    /// async fn double(out: Emitter<i64>, mut numbers: Stream<i64>) -> u64 {
    ///     let mut n = 0;
    ///     while let Some(x) = numbers.next().await {
    ///         if out.emit(2 * x).await.is_err() {
    ///             break;
    ///         }
    ///         n += 1;
    ///     }
    ///     n
    /// }
    ///
    /// let doubler = Processor::new("doubler").reads("numbers").writes("doubled").flow(|b, io| {
    ///     let numbers = io.input::<i64>(b, "numbers")?;
    ///     let doubled = b.stream(double, (numbers.stream(),));
    ///     io.output(b, "doubled", doubled.stream())
    /// });
    /// let flow = FlowBuilder::new("d").input("numbers").processor(doubler).output("doubled").build().unwrap();
    /// let out = flowloop::run(async move {
    ///     InProcess::new(&flow).run(FlowInputs::new().feed("numbers", &[1, 2, 3]).unwrap()).await.unwrap()
    /// })
    /// .unwrap();
    /// assert_eq!(out.get::<i64>("doubled").unwrap(), [2, 4, 6]);
    /// ```
    pub fn flow<F>(self, build: F) -> Processor
    where
        F: Fn(&mut FlowBuilder, &mut FlowIo) -> Result<(), ProcessError> + 'static,
    {
        let build = Rc::new(build);
        self.stream(move |io, ctx| {
            let build = build.clone();
            async move { run_bound(io, ctx, &*build).await }
        })
    }
}

async fn run_bound(
    io: StreamIo,
    ctx: Context,
    build: &dyn Fn(&mut FlowBuilder, &mut FlowIo) -> Result<(), ProcessError>,
) -> Result<(), ProcessError> {
    let processor = ctx.processor().clone();
    let mut b = FlowBuilder::new();
    build(&mut b, &mut FlowIo { io })?;
    let mut flow = b.build().map_err(|e| {
        ProcessError(format!(
            "processor `{processor}`: its flowloop flow does not build: {e}"
        ))
    })?;
    flow.run(RunOptions::new().context(ctx))
        .await
        .map_err(|e| ProcessError(format!("processor `{processor}`: its flowloop flow failed: {e}")))?;
    Ok(())
}
