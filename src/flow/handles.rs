//! Typed handles the builder hands out: nodes, outputs, forward references, defaults.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use super::args::{Cells, InputSpec, Link, Owned, SourceRef, ValueCell};
use super::stream::Stream;

/// Identifies one node of a flow (its index in creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's index in creation order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Anything that names a node: node handles and outputs.
pub trait AsNode {
    /// The node this handle belongs to.
    fn node_id(&self) -> NodeId;
}

impl AsNode for NodeId {
    fn node_id(&self) -> NodeId {
        *self
    }
}

/// A plain node whose body returns `R`. Used as an argument it passes the whole return value;
/// pick one element of a tuple return with [`output`](Node::output).
pub struct Node<R> {
    pub(crate) id: u32,
    _r: PhantomData<fn() -> R>,
}

/// A streaming node that emits chunks of type `C` and finishes with a final value `R`. Used as
/// an argument it passes the final value; [`stream`](StreamNode::stream) passes the chunks to a
/// [`Stream`] input.
pub struct StreamNode<C, R> {
    pub(crate) id: u32,
    _r: PhantomData<fn() -> (C, R)>,
}

/// One typed output of a node: the whole value, one tuple element, or a stream of chunks.
pub struct Output<T> {
    pub(crate) node: u32,
    pub(crate) level: u8,
    /// Binds a consumer to this output: the producer's cells → the consumer's link.
    pub(crate) project: fn(&Cells<'_>) -> Link<T>,
}

/// A reference to an output that is defined later with
/// [`FlowBuilder::define`](super::FlowBuilder::define): lets statements come in any order and
/// lets cycles and self-loops be written.
pub struct Forward<T> {
    pub(crate) id: u32,
    _t: PhantomData<fn() -> T>,
}

/// An argument with a default value, used when its port is unconnected or stale (for example
/// to break a cycle). Made by `.or(value)` on an output, node or forward reference.
pub struct WithDefault<T> {
    pub(crate) source: SourceRef<T>,
    pub(crate) default: Owned<T>,
}

/// An input left unconnected on purpose; building fails unless it gets a default
/// ([`unconnected_or`]).
pub struct Unconnected<T>(PhantomData<fn() -> T>);

/// An input with no connection: `build()` reports it (node and input) as an error.
pub fn unconnected<T>() -> Unconnected<T> {
    Unconnected(PhantomData)
}

/// An input with no connection that always takes `default`.
pub fn unconnected_or<T: Clone>(default: T) -> WithDefault<T> {
    WithDefault {
        source: SourceRef::None,
        default: (default, T::clone),
    }
}

macro_rules! copy_debug {
    ($name:ident < $($g:ident),* >, $($field:ident),*) => {
        impl<$($g),*> Clone for $name<$($g),*> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($g),*> Copy for $name<$($g),*> {}
        impl<$($g),*> fmt::Debug for $name<$($g),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))$(.field(stringify!($field), &self.$field))*.finish()
            }
        }
    };
}

copy_debug!(Node<R>, id);
copy_debug!(StreamNode<C, R>, id);
copy_debug!(Output<T>, node, level);
copy_debug!(Forward<T>, id);

impl<T> fmt::Debug for WithDefault<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithDefault").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Unconnected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unconnected")
    }
}

/// The whole (final) value of node `id`, as a plain output.
fn whole_output<R: Clone + 'static>(id: u32) -> Output<R> {
    Output {
        node: id,
        level: 0,
        project: project_whole::<R>,
    }
}

/// Element `I` of node `id`'s tuple (final) value, as a plain output.
fn field_output<R: TupleField<I> + 'static, const I: usize>(id: u32) -> Output<R::Field> {
    Output {
        node: id,
        level: 0,
        project: project_field::<R, I>,
    }
}

impl<R: Clone + 'static> Node<R> {
    pub(crate) fn new(id: u32) -> Self {
        Node { id, _r: PhantomData }
    }

    /// The whole return value as an [`Output`].
    pub fn out(&self) -> Output<R> {
        whole_output(self.id)
    }

    /// Element `I` of a tuple return value.
    ///
    /// ```
    /// use flowloop::flow::FlowBuilder;
    /// async fn sum_diff(x: i64, y: i64) -> (i64, i64) { (x + y, x - y) }
    /// async fn id(x: i64) -> i64 { x }
    /// let mut b = FlowBuilder::new();
    /// let sd = b.node(sum_diff, (7, 3));
    /// let diff = b.node(id, (sd.output::<1>(),));
    /// let mut flow = b.build().unwrap();
    /// flow.run_until_complete(Default::default()).unwrap();
    /// assert_eq!(flow.value(diff), Some(4));
    /// ```
    pub fn output<const I: usize>(&self) -> Output<<R as TupleField<I>>::Field>
    where
        R: TupleField<I>,
    {
        field_output::<R, I>(self.id)
    }

    /// The whole return value, with `default` for when the port is stale.
    pub fn or(&self, default: R) -> WithDefault<R> {
        self.out().or(default)
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        NodeId(self.id)
    }
}

impl<C: Clone + 'static, R: Clone + 'static> StreamNode<C, R> {
    pub(crate) fn new(id: u32) -> Self {
        StreamNode { id, _r: PhantomData }
    }

    /// The chunks, for an input of type [`Stream<C>`].
    pub fn stream(&self) -> Output<Stream<C>> {
        Output {
            node: self.id,
            level: 1,
            project: project_stream::<C>,
        }
    }

    /// The final value as an [`Output`].
    pub fn out(&self) -> Output<R> {
        whole_output(self.id)
    }

    /// Element `I` of a tuple final value.
    pub fn output<const I: usize>(&self) -> Output<<R as TupleField<I>>::Field>
    where
        R: TupleField<I>,
    {
        field_output::<R, I>(self.id)
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        NodeId(self.id)
    }
}

impl<T> Output<T> {
    /// This output, with `default` for when the port is stale.
    pub fn or(self, default: T) -> WithDefault<T>
    where
        T: Clone,
    {
        WithDefault {
            source: SourceRef::Out(self),
            default: (default, T::clone),
        }
    }

    /// The producing node.
    pub fn id(&self) -> NodeId {
        NodeId(self.node)
    }
}

impl<T> Forward<T> {
    pub(crate) fn new(id: u32) -> Self {
        Forward { id, _t: PhantomData }
    }

    /// This reference, with `default` for when the port is stale (how cycles are broken).
    pub fn or(self, default: T) -> WithDefault<T>
    where
        T: Clone,
    {
        WithDefault {
            source: SourceRef::Fwd(self.id),
            default: (default, T::clone),
        }
    }
}

/// A stream input with no connection that always takes a stream of `chunks`.
pub fn unconnected_stream<C: 'static>(chunks: impl IntoIterator<Item = C>) -> WithDefault<Stream<C>> {
    WithDefault {
        source: SourceRef::None,
        default: (Stream::from_chunks(chunks), Stream::restart),
    }
}

/// Defaults for stream inputs (FLOW_SEMANTICS §5): used when the port is stale or
/// unconnected, for example to break a cycle through a stream edge.
impl<C: 'static> Output<Stream<C>> {
    /// This stream, or an empty stream when the port is stale.
    ///
    /// ```
    /// use flowloop::flow::{Emitter, FlowBuilder, RunOptions, Stream};
    /// async fn total(mut s: Stream<i64>) -> i64 {
    ///     let mut t = 0;
    ///     while let Some(x) = s.next().await { t += x; }
    ///     t
    /// }
    /// async fn upto(out: Emitter<i64>, n: i64) -> i64 {
    ///     for i in 0..n { if out.emit(i).await.is_err() { break; } }
    ///     n
    /// }
    /// // A cycle through a stream edge: `t = total(s)`, `s = upto(t + 3)`.
    /// let mut b = FlowBuilder::new();
    /// let fs = b.forward("s");
    /// let t = b.node(total, (fs.or_empty(),));
    /// let n = b.node(|t: i64| async move { t + 3 }, (t,));
    /// let s = b.stream(upto, (n,));
    /// b.define(fs, s.stream());
    /// let mut flow = b.build().unwrap();
    /// flow.run_until_complete(RunOptions::new().limit(t, (1,))).unwrap();
    /// assert_eq!(flow.value(t), Some(0 + 1 + 2)); // lap 0: empty default; lap 1: upto(3)
    /// ```
    pub fn or_empty(self) -> WithDefault<Stream<C>> {
        self.or_chunks(Vec::new())
    }

    /// This stream, or a stream of `chunks` when the port is stale.
    pub fn or_chunks(self, chunks: impl IntoIterator<Item = C>) -> WithDefault<Stream<C>> {
        WithDefault {
            source: SourceRef::Out(self),
            default: (Stream::from_chunks(chunks), Stream::restart),
        }
    }
}

/// Defaults for forward references to stream outputs (see [`Output::or_empty`]).
impl<C: 'static> Forward<Stream<C>> {
    /// This stream, or an empty stream when the port is stale.
    pub fn or_empty(self) -> WithDefault<Stream<C>> {
        self.or_chunks(Vec::new())
    }

    /// This stream, or a stream of `chunks` when the port is stale.
    pub fn or_chunks(self, chunks: impl IntoIterator<Item = C>) -> WithDefault<Stream<C>> {
        WithDefault {
            source: SourceRef::Fwd(self.id),
            default: (Stream::from_chunks(chunks), Stream::restart),
        }
    }
}

impl<R> AsNode for Node<R> {
    fn node_id(&self) -> NodeId {
        NodeId(self.id)
    }
}

impl<C, R> AsNode for StreamNode<C, R> {
    fn node_id(&self) -> NodeId {
        NodeId(self.id)
    }
}

impl<T> AsNode for Output<T> {
    fn node_id(&self) -> NodeId {
        NodeId(self.node)
    }
}

impl<R: Clone + 'static> From<Node<R>> for Output<R> {
    fn from(n: Node<R>) -> Self {
        n.out()
    }
}

impl<C: Clone + 'static, R: Clone + 'static> From<StreamNode<C, R>> for Output<R> {
    fn from(n: StreamNode<C, R>) -> Self {
        n.out()
    }
}

/// Element `I` of a tuple return value (implemented for tuples of up to 6 elements).
pub trait TupleField<const I: usize> {
    /// The element's type.
    type Field: Clone + 'static;
    /// Borrows the element.
    fn field(&self) -> &Self::Field;
}

macro_rules! tuple_field {
    ($i:tt $F:ident; $($T:ident),+) => {
        impl<$($T: Clone + 'static),+> TupleField<$i> for ($($T,)+) {
            type Field = $F;
            fn field(&self) -> &$F {
                &self.$i
            }
        }
    };
}

tuple_field!(0 A; A);
tuple_field!(0 A; A, B);
tuple_field!(1 B; A, B);
tuple_field!(0 A; A, B, C);
tuple_field!(1 B; A, B, C);
tuple_field!(2 C; A, B, C);
tuple_field!(0 A; A, B, C, D);
tuple_field!(1 B; A, B, C, D);
tuple_field!(2 C; A, B, C, D);
tuple_field!(3 D; A, B, C, D);
tuple_field!(0 A; A, B, C, D, E);
tuple_field!(1 B; A, B, C, D, E);
tuple_field!(2 C; A, B, C, D, E);
tuple_field!(3 D; A, B, C, D, E);
tuple_field!(4 E; A, B, C, D, E);
tuple_field!(0 A; A, B, C, D, E, F);
tuple_field!(1 B; A, B, C, D, E, F);
tuple_field!(2 C; A, B, C, D, E, F);
tuple_field!(3 D; A, B, C, D, E, F);
tuple_field!(4 E; A, B, C, D, E, F);
tuple_field!(5 F; A, B, C, D, E, F);

#[inline]
fn value_cell<R: 'static>(cells: &Cells<'_>) -> ValueCell<R> {
    ValueCell::of(cells).expect("output type is checked at compile time")
}

fn project_whole<R: Clone + 'static>(cells: &Cells<'_>) -> Link<R> {
    Link::Whole(value_cell::<R>(cells), R::clone)
}

fn project_field<R: TupleField<I> + 'static, const I: usize>(cells: &Cells<'_>) -> Link<R::Field> {
    let cell = value_cell::<R>(cells);
    Link::Read(Rc::new(move |_, _| cell.read(|r| r.field().clone())))
}

fn project_stream<C: Clone + 'static>(cells: &Cells<'_>) -> Link<Stream<C>> {
    let chunk: Rc<dyn Any> = Rc::clone(cells.chunk().expect("stream outputs belong to streaming nodes"));
    let chunk = chunk
        .downcast::<RefCell<Option<C>>>()
        .expect("chunk type is checked at compile time");
    Link::Read(Rc::new(move |cx, port| {
        Some(Stream::open(cx.shared, port, Rc::clone(&chunk)))
    }))
}

/// Turns an argument into an input of type `T`: a constant (`T` itself), an [`Output<T>`], a
/// [`Node<T>`] or [`StreamNode<_, T>`] (their value), a [`Forward<T>`], a [`WithDefault<T>`] or
/// an [`Unconnected<T>`].
///
/// Connections are checked by the compiler: an `Output<String>` cannot feed an `i64` input.
///
/// ```compile_fail
/// use flowloop::flow::FlowBuilder;
/// async fn text() -> String { "x".into() }
/// async fn inc(x: i64) -> i64 { x + 1 }
/// let mut b = FlowBuilder::new();
/// let t = b.node(text, ());
/// b.node(inc, (t.out(),)); // Output<String> into an i64 input: does not compile
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot feed an input of type `{T}`",
    label = "this argument does not fit a `{T}` parameter",
    note = "a stream output (`producer.stream()`) only feeds a `Stream<C>` parameter, and a `Stream<C>` parameter only takes `producer.stream()` (or a stream default such as `.or_empty()`)",
    note = "pass the producer itself (not `.stream()`) to a plain parameter to get its final value"
)]
pub trait IntoInput<T> {
    #[doc(hidden)]
    fn into_input(self) -> InputSpec<T>;
}

impl<T: Clone + 'static> IntoInput<T> for T {
    fn into_input(self) -> InputSpec<T> {
        InputSpec {
            value: Some((self, T::clone)),
            source: SourceRef::None,
        }
    }
}

impl<T: 'static> IntoInput<T> for Output<T> {
    fn into_input(self) -> InputSpec<T> {
        InputSpec {
            value: None,
            source: SourceRef::Out(self),
        }
    }
}

impl<R: Clone + 'static> IntoInput<R> for Node<R> {
    fn into_input(self) -> InputSpec<R> {
        self.out().into_input()
    }
}

impl<C: Clone + 'static, R: Clone + 'static> IntoInput<R> for StreamNode<C, R> {
    fn into_input(self) -> InputSpec<R> {
        self.out().into_input()
    }
}

impl<T: 'static> IntoInput<T> for Forward<T> {
    fn into_input(self) -> InputSpec<T> {
        InputSpec {
            value: None,
            source: SourceRef::Fwd(self.id),
        }
    }
}

impl<T: 'static> IntoInput<T> for WithDefault<T> {
    fn into_input(self) -> InputSpec<T> {
        InputSpec {
            value: Some(self.default),
            source: self.source,
        }
    }
}

impl<T: 'static> IntoInput<T> for Unconnected<T> {
    fn into_input(self) -> InputSpec<T> {
        InputSpec {
            value: None,
            source: SourceRef::None,
        }
    }
}
