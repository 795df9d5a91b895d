//! Argument plumbing: how a tuple of builder arguments becomes typed input slots, and how a
//! plain `async fn` (or stream producer, or stateful method) becomes a node body.
//!
//! The traits here are implemented for functions of 0 to 8 parameters and tuples of 0 to 8
//! arguments by one macro; users never implement them. The plumbing types are `pub` only so
//! that the public traits can mention them: this module is private, so outside the crate they
//! cannot be named, and [`ArgList`] / [`IntoArgs`] are sealed by [`Sealed`].

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::handles::{IntoInput, Output};
use super::state::{FlowState, Mode};
use super::stream::Emitter;

/// Every node's type-erased value cells: per node, which holder its cells are in and the value
/// cell's index there. A holder is a typed nodes' [`Block`] (shared by up to [`BLOCK`] nodes,
/// so stored once), a dynamic node's own cell, or, for the few streaming or stateful nodes, an
/// `ExtraCells` holding the value cell and their other cells. 8 bytes a node plus its share of
/// a holder, against 24 for a reference-counted pointer per node.
#[derive(Default)]
pub struct CellTable {
    /// The distinct holders, each once.
    holders: Vec<Rc<dyn Any>>,
    /// By node: `(index in holders, value cell index in the holder)`; the index in holders
    /// has [`EXTRA`] set when the holder is an `ExtraCells`.
    nodes: Vec<(u32, u32)>,
}

/// Marks a node whose holder is an `ExtraCells` (a streaming or stateful node), so that the
/// other nodes' cells are found without asking the holder's type.
const EXTRA: u32 = 1 << 31;

/// One node's cells, borrowed from a [`CellTable`].
#[derive(Clone, Copy)]
pub struct Cells<'a> {
    /// The node's holder (see [`CellTable`]).
    value: &'a Rc<dyn Any>,
    /// The value cell's index in its block (0 for dynamic nodes).
    pub(crate) index: u32,
    /// Whether `value` is an `ExtraCells`.
    extra: bool,
}

/// The cells of a streaming or stateful node.
struct ExtraCells {
    /// The value cell (as [`Cells::value`] holds it for other nodes).
    value: Rc<dyn Any>,
    chunk: Option<Rc<dyn Any>>,
    /// Stateful nodes: the `Rc<RefCell<Option<S>>>` holding the state between runs.
    state: Option<Rc<dyn Any>>,
}

/// How many of the latest holders [`CellTable::push`] looks through for the one it is given:
/// a builder fills one block per value type at a time, and flows mix few value types.
const RECENT_HOLDERS: usize = 4;

impl CellTable {
    /// Adds the cells of the next node: final value cell `index` of `value` and (streaming
    /// nodes) chunk cell `chunk`.
    pub(crate) fn push(&mut self, value: Rc<dyn Any>, index: u32, chunk: Option<Rc<dyn Any>>) {
        match chunk {
            None => {
                let holder = self.holder_of(Rc::as_ptr(&value).cast(), || value);
                self.nodes.push((holder, index));
            }
            Some(chunk) => {
                let holder = self.add(Rc::new(ExtraCells {
                    value,
                    chunk: Some(chunk),
                    state: None,
                }));
                self.nodes.push((holder as u32 | EXTRA, index));
            }
        }
    }

    /// Adds the cells of the next node, a typed node whose value cell is `cell` (no reference
    /// count taken unless its block is new here).
    pub(crate) fn push_typed<R: 'static>(&mut self, cell: &ValueCell<R>) {
        let holder = self.holder_of(Rc::as_ptr(&cell.block).cast(), || {
            let block: Rc<dyn Any> = cell.block.clone();
            block
        });
        self.nodes.push((holder, cell.index));
    }

    /// The index of the holder at address `at` among the latest few, else of `make()` added.
    fn holder_of(&mut self, at: *const (), make: impl FnOnce() -> Rc<dyn Any>) -> u32 {
        let recent = self.holders.len().saturating_sub(RECENT_HOLDERS);
        let found = self.holders[recent..]
            .iter()
            .rposition(|h| std::ptr::eq(Rc::as_ptr(h).cast::<()>(), at));
        match found {
            Some(i) => (recent + i) as u32,
            None => self.add(make()) as u32,
        }
    }

    fn add(&mut self, holder: Rc<dyn Any>) -> usize {
        self.holders.push(holder);
        self.holders.len() - 1
    }

    /// Node `n`'s cells, if there is such a node.
    #[inline]
    pub(crate) fn get(&self, n: usize) -> Option<Cells<'_>> {
        let &(holder, index) = self.nodes.get(n)?;
        Some(Cells {
            value: &self.holders[(holder & !EXTRA) as usize],
            index,
            extra: holder & EXTRA != 0,
        })
    }

    /// Node `n`'s cells.
    ///
    /// # Panics
    /// If there is no node `n`.
    #[inline]
    pub(crate) fn at(&self, n: usize) -> Cells<'_> {
        self.get(n).expect("node index within the flow")
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Records the state cell of stateful node `n` (created just before, without chunk).
    pub(crate) fn set_state(&mut self, n: usize, state: Rc<dyn Any>) {
        let cells = self.at(n);
        let extra = ExtraCells {
            value: Rc::clone(cells.value()),
            chunk: cells.chunk().cloned(),
            state: Some(state),
        };
        let holder = self.add(Rc::new(extra));
        self.nodes[n].0 = holder as u32 | EXTRA;
    }
}

impl std::fmt::Debug for CellTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CellTable")
            .field("nodes", &self.nodes.len())
            .field("holders", &self.holders.len())
            .finish()
    }
}

impl<'a> Cells<'a> {
    /// The streaming or stateful node's other cells.
    #[inline]
    fn extra(&self) -> Option<&'a ExtraCells> {
        if self.extra {
            self.value.downcast_ref::<ExtraCells>()
        } else {
            None
        }
    }

    /// The value cell: a typed node's [`Block`], or a dynamic node's own cell.
    #[inline]
    pub(crate) fn value(&self) -> &'a Rc<dyn Any> {
        self.extra().map_or(self.value, |e| &e.value)
    }

    /// The latest-chunk cell of a streaming node.
    pub(crate) fn chunk(&self) -> Option<&'a Rc<dyn Any>> {
        self.extra()?.chunk.as_ref()
    }

    /// The state cell of a stateful node.
    pub(crate) fn state(&self) -> Option<&'a Rc<dyn Any>> {
        self.extra()?.state.as_ref()
    }
}

impl std::fmt::Debug for Cells<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cells")
            .field("streaming", &self.chunk().is_some())
            .finish()
    }
}

/// What a node needs while starting a run.
#[derive(Debug)]
pub struct StartCx<'a> {
    pub(crate) shared: &'a Rc<FlowState>,
    pub(crate) node: u32,
    pub(crate) first_port: u32,
}

/// Reads a projection of a producer's latest value (a tuple element), or opens a stream over
/// its chunks, for one port.
pub type Reader<T> = Rc<dyn Fn(&StartCx<'_>, u32) -> Option<T>>;

/// Where an input slot takes its value from: before `build()` the argument's source, after
/// it the producer's cell. Most ports read a producer's whole value: they keep its typed cell
/// (a reference count, no allocation, no dynamic call per read); only tuple elements and
/// streams go through a [`Reader`].
pub enum Link<T> {
    /// No connection: the slot's constant or default.
    None,
    /// Not bound yet: a producer's output.
    Out(Output<T>),
    /// Not bound yet: a forward reference.
    Fwd(u32),
    /// Bound: the producer's value cell, read whole with the clone function (slot types need
    /// not be `Clone`: a stream input's is not).
    Whole(ValueCell<T>, fn(&T) -> T),
    /// Bound: a projection of the producer's cells.
    Read(Reader<T>),
}

impl<T> Link<T> {
    /// The latest value (or a new stream) through this link for global port `port`; `None`
    /// when the producer has no value yet or the link is not bound.
    #[inline]
    pub(crate) fn read(&self, cx: &StartCx<'_>, port: u32) -> Option<T> {
        match self {
            Link::Whole(cell, clone) => cell.read(clone),
            Link::Read(read) => read(cx, port),
            Link::None | Link::Out(_) | Link::Fwd(_) => None,
        }
    }
}

/// A constant or default together with the function that clones it for each run.
pub type Owned<T> = (T, fn(&T) -> T);

/// Where an argument comes from before the flow is built.
pub enum SourceRef<T> {
    None,
    Out(Output<T>),
    Fwd(u32),
}

/// A converted argument: an optional constant/default and an optional connection.
pub struct InputSpec<T> {
    pub(crate) value: Option<Owned<T>>,
    pub(crate) source: SourceRef<T>,
}

impl<T> std::fmt::Debug for SourceRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceRef::None => f.write_str("None"),
            SourceRef::Out(o) => write!(f, "Out({o:?})"),
            SourceRef::Fwd(id) => write!(f, "Fwd({id})"),
        }
    }
}

impl<T> std::fmt::Debug for InputSpec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSpec")
            .field("has_value", &self.value.is_some())
            .field("source", &self.source)
            .finish()
    }
}

impl<T> std::fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Link::None => f.write_str("None"),
            Link::Out(o) => write!(f, "Out({o:?})"),
            Link::Fwd(id) => write!(f, "Fwd({id})"),
            Link::Whole(..) => f.write_str("Whole"),
            Link::Read(_) => f.write_str("Read"),
        }
    }
}

impl<T> std::fmt::Debug for InputSlot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSlot")
            .field("has_value", &self.value.is_some())
            .field("link", &self.link)
            .finish()
    }
}

/// Untyped summary of one argument, for the scheduler.
#[derive(Debug, Clone, Copy)]
pub enum PortSpec {
    Own { has_default: bool },
    Node { node: u32, level: u8, has_default: bool },
    Fwd { id: u32, has_default: bool },
}

/// Why a port could not be filled when a run started.
#[derive(Debug, Clone, Copy)]
pub struct GatherFault {
    pub(crate) input: usize,
}

/// One typed input slot of a node: its constant or default, and its link to the producer.
pub struct InputSlot<T> {
    value: Option<Owned<T>>,
    link: Link<T>,
}

impl<T: 'static> InputSlot<T> {
    fn new(spec: InputSpec<T>) -> (Self, PortSpec) {
        let has_default = spec.value.is_some();
        let (port, link) = match spec.source {
            SourceRef::None => (PortSpec::Own { has_default }, Link::None),
            SourceRef::Out(o) => (
                PortSpec::Node {
                    node: o.node,
                    level: o.level,
                    has_default,
                },
                Link::Out(o),
            ),
            SourceRef::Fwd(id) => (PortSpec::Fwd { id, has_default }, Link::Fwd(id)),
        };
        (
            InputSlot {
                value: spec.value,
                link,
            },
            port,
        )
    }

    fn own(&self, input: usize) -> Result<T, GatherFault> {
        match &self.value {
            Some((v, clone)) => Ok(clone(v)),
            None => Err(GatherFault { input }),
        }
    }

    #[inline(always)]
    fn fetch(&self, mode: Mode, cx: &StartCx<'_>, input: usize) -> Result<T, GatherFault> {
        match mode {
            Mode::Own => self.own(input),
            Mode::Default => self.own(input),
            Mode::Read | Mode::Stream => match self.link.read(cx, cx.first_port + input as u32) {
                Some(v) => Ok(v),
                None => self.own(input),
            },
        }
    }

    /// Connects the slot: to its own output, or to a forward definition (`Output<T>` as `Any`);
    /// the output is projected once, here, onto the producer's cells.
    fn bind(&mut self, forward: Option<&dyn Any>, cells: &CellTable) -> bool {
        let out = match (&self.link, forward) {
            (Link::Out(o), _) => *o,
            (Link::Fwd(_), Some(def)) => match def.downcast_ref::<Output<T>>() {
                Some(o) => *o,
                None => return false,
            },
            _ => return false,
        };
        self.link = (out.project)(&cells.at(out.node as usize));
        true
    }
}

/// Seals [`ArgList`] and [`IntoArgs`]: implemented for tuples only, and not nameable outside
/// the crate, so nobody else can implement them.
pub trait Sealed {}

/// A tuple of node parameter types `(T1, .., Tn)`.
pub trait ArgList: Sized + 'static + Sealed {
    #[doc(hidden)]
    type Slots: 'static;
    #[doc(hidden)]
    fn fetch(slots: &Self::Slots, modes: &[Mode], cx: &StartCx<'_>) -> Result<Self, GatherFault>;
    /// [`fetch`](ArgList::fetch) when every port is read from its producer (`Mode::Read`): a
    /// chain link's one port, or any node whose ports are all connected, fresh and plain.
    /// Compiled without the per-port mode dispatch.
    #[doc(hidden)]
    fn fetch_read(slots: &Self::Slots, cx: &StartCx<'_>) -> Result<Self, GatherFault>;
    #[doc(hidden)]
    fn bind(slots: &mut Self::Slots, port: usize, forward: Option<&dyn Any>, cells: &CellTable) -> bool;
}

/// A tuple of builder arguments, each convertible ([`IntoInput`]) to the matching parameter.
#[diagnostic::on_unimplemented(
    message = "the arguments `{Self}` do not match the node's parameters `{A}`",
    label = "one argument per parameter, each convertible to its type",
    note = "pass a tuple with one argument per parameter: `()` for none, `(x,)` for one (mind the comma)",
    note = "a stream output (`producer.stream()`) only feeds a `Stream<C>` parameter; pass the producer itself to a plain parameter to get its final value"
)]
pub trait IntoArgs<A: ArgList>: Sealed {
    #[doc(hidden)]
    fn into_slots(self, ports: &mut Vec<PortSpec>) -> A::Slots;
}

/// A plain `async fn` (or closure returning a future) usable as a node body. `M` is an
/// inference marker (the function's signature).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a node body: a node is an `async fn` (or a closure returning a future)",
    label = "not an async node body",
    note = "a sync `fn` cannot be a node: make it `async fn`, or run blocking work with `flowloop::offload` inside one",
    note = "a node takes 0 to 8 parameters and must be `'static` (move owned data into closures)",
    note = "a body whose first parameter is an `Emitter<C>` is a streaming node: create it with `FlowBuilder::stream`"
)]
pub trait NodeFn<M>: 'static {
    /// The parameter types.
    type Args: ArgList;
    /// What the body returns.
    type Output: 'static;
    /// The body's future.
    type Fut: Future<Output = Self::Output> + 'static;
    #[doc(hidden)]
    fn call(&self, args: Self::Args) -> Self::Fut;
}

/// A streaming producer: an `async fn` whose first parameter is an [`Emitter<C>`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a streaming node body",
    label = "expected `async fn(Emitter<C>, ..)`",
    note = "a streaming node is an `async fn` whose FIRST parameter is its `Emitter<C>`: move the `Emitter` to the front",
    note = "a sync `fn` cannot be a node: make it `async fn`",
    note = "a node without an `Emitter` is a plain node: create it with `FlowBuilder::node`"
)]
pub trait StreamFn<C, M>: 'static {
    /// The parameter types after the emitter.
    type Args: ArgList;
    /// The final value (or `Result` of it for fallible producers).
    type Output: 'static;
    /// The body's future.
    type Fut: Future<Output = Self::Output> + 'static;
    #[doc(hidden)]
    fn call(&self, emitter: Emitter<C>, args: Self::Args) -> Self::Fut;
}

/// A method of a stateful node: an `async fn(&mut S, T1, ..) -> R`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a method of a stateful node with state `{S}`",
    label = "expected `async fn(&mut {S}, ..)`",
    note = "a stateful node's body is an `async fn` taking `&mut self` (the state) first, e.g. `State::run`"
)]
pub trait StateFn<S, M>: 'static {
    /// The parameter types after `&mut S`.
    type Args: ArgList;
    /// What the method returns.
    type Output: 'static;
    #[doc(hidden)]
    fn call(f: &Rc<Self>, state: S, args: Self::Args) -> Pin<Box<dyn Future<Output = (S, Self::Output)>>>;
}

macro_rules! arity {
    ($($T:ident $A:ident $i:tt),*) => {
        impl<$($T),*> Sealed for ($($T,)*) {}

        impl<$($T: 'static),*> ArgList for ($($T,)*) {
            type Slots = ($(InputSlot<$T>,)*);

            #[allow(unused_variables)]
            #[inline]
            fn fetch(slots: &Self::Slots, modes: &[Mode], cx: &StartCx<'_>) -> Result<Self, GatherFault> {
                Ok(($(slots.$i.fetch(modes[$i], cx, $i)?,)*))
            }

            #[allow(unused_variables)]
            #[inline(always)]
            fn fetch_read(slots: &Self::Slots, cx: &StartCx<'_>) -> Result<Self, GatherFault> {
                Ok(($(slots.$i.fetch(Mode::Read, cx, $i)?,)*))
            }

            #[allow(unused_variables)]
            fn bind(slots: &mut Self::Slots, port: usize, forward: Option<&dyn Any>, cells: &CellTable) -> bool {
                match port {
                    $($i => slots.$i.bind(forward, cells),)*
                    _ => false,
                }
            }
        }

        #[allow(non_snake_case)]
        impl<$($T: 'static, $A: IntoInput<$T>),*> IntoArgs<($($T,)*)> for ($($A,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn into_slots(self, ports: &mut Vec<PortSpec>) -> <($($T,)*) as ArgList>::Slots {
                let ($($A,)*) = self;
                $(let $A = InputSlot::new($A.into_input());)*
                $(ports.push($A.1);)*
                ($($A.0,)*)
            }
        }

        #[allow(non_snake_case)]
        impl<Func, Fut, $($T: 'static),*> NodeFn<fn($($T),*) -> Fut> for Func
        where
            Func: Fn($($T),*) -> Fut + 'static,
            Fut: Future + 'static,
        {
            type Args = ($($T,)*);
            type Output = Fut::Output;
            type Fut = Fut;

            fn call(&self, args: Self::Args) -> Fut {
                let ($($T,)*) = args;
                self($($T),*)
            }
        }

        #[allow(non_snake_case)]
        impl<Func, Fut, Chunk, $($T: 'static),*> StreamFn<Chunk, fn(Emitter<Chunk>, $($T),*) -> Fut> for Func
        where
            Func: Fn(Emitter<Chunk>, $($T),*) -> Fut + 'static,
            Fut: Future + 'static,
        {
            type Args = ($($T,)*);
            type Output = Fut::Output;
            type Fut = Fut;

            fn call(&self, emitter: Emitter<Chunk>, args: Self::Args) -> Fut {
                let ($($T,)*) = args;
                self(emitter, $($T),*)
            }
        }

        #[allow(non_snake_case)]
        impl<S: 'static, Func, Ret: 'static, $($T: 'static),*> StateFn<S, fn($($T),*) -> Ret> for Func
        where
            Func: for<'a> AsyncFn(&'a mut S, $($T),*) -> Ret + 'static,
        {
            type Args = ($($T,)*);
            type Output = Ret;

            fn call(f: &Rc<Self>, mut state: S, args: Self::Args) -> Pin<Box<dyn Future<Output = (S, Ret)>>> {
                let f = Rc::clone(f);
                let ($($T,)*) = args;
                Box::pin(async move {
                    let out = (*f)(&mut state, $($T),*).await;
                    (state, out)
                })
            }
        }
    };
}

arity!();
arity!(T0 A0 0);
arity!(T0 A0 0, T1 A1 1);
arity!(T0 A0 0, T1 A1 1, T2 A2 2);
arity!(T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3);
arity!(T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4);
arity!(T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5);
arity!(T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5, T6 A6 6);
arity!(T0 A0 0, T1 A1 1, T2 A2 2, T3 A3 3, T4 A4 4, T5 A5 5, T6 A6 6, T7 A7 7);

/// A value cell shared by a node and the readers of its output (streaming chunks, dynamic
/// nodes).
pub(crate) fn new_cell<R: 'static>() -> (Rc<RefCell<Option<R>>>, Rc<dyn Any>) {
    let cell = Rc::new(RefCell::new(None::<R>));
    let erased: Rc<dyn Any> = cell.clone();
    (cell, erased)
}

/// Value cells per [`Block`]: few enough that the last, partly used block of a value type
/// wastes little, enough that a node's cell costs no allocation of its own.
const BLOCK: usize = 16;

/// The final-value cells of up to [`BLOCK`] typed nodes with the same value type, in one
/// allocation under one borrow flag (not one per cell: 8 bytes a node less). Reads and writes
/// borrow the block only for the clone or the store, never across a call into the flow, so
/// two of them never overlap.
pub(crate) type Block<R> = RefCell<[Option<R>; BLOCK]>;

/// A typed node's final-value cell: one cell of a [`Block`], shared by the node's runner and
/// the input slots that read it. Creating a node takes a free cell of the open block of its
/// value type instead of allocating one (a malloc and a free less per node).
pub struct ValueCell<R> {
    block: Rc<Block<R>>,
    index: u32,
}

impl<R> Clone for ValueCell<R> {
    fn clone(&self) -> Self {
        ValueCell {
            block: Rc::clone(&self.block),
            index: self.index,
        }
    }
}

impl<R> ValueCell<R> {
    /// Calls `f` with the cell's value (`None` when the node has published none).
    #[inline]
    pub(crate) fn read<U>(&self, f: impl FnOnce(&R) -> U) -> Option<U> {
        self.block.borrow()[self.index as usize].as_ref().map(f)
    }

    /// Stores `value` (dropping the one before).
    #[inline]
    pub(crate) fn set(&self, value: R) {
        self.block.borrow_mut()[self.index as usize] = Some(value);
    }
}

impl<R: 'static> ValueCell<R> {
    /// The cell of node cells `cells`, if their value type is `R` (a typed node's).
    #[inline]
    pub(crate) fn of(cells: &Cells<'_>) -> Option<ValueCell<R>> {
        let block = Rc::clone(cells.value()).downcast::<Block<R>>().ok()?;
        Some(ValueCell {
            block,
            index: cells.index,
        })
    }

    /// The type-erased block and the index, for [`Cells`].
    pub(crate) fn erased(&self) -> (Rc<dyn Any>, u32) {
        let block: Rc<dyn Any> = self.block.clone();
        (block, self.index)
    }
}

/// Hands out typed value cells: per value type, the block being filled and its next free index.
#[derive(Default)]
pub(crate) struct CellArena {
    /// `(type of R, (Rc<Block<R>>, next index))`, most recently used type first.
    open: Vec<(std::any::TypeId, Box<dyn Any>)>,
}

impl CellArena {
    /// A fresh cell for a value of type `R`.
    pub(crate) fn cell<R: 'static>(&mut self) -> ValueCell<R> {
        let ty = std::any::TypeId::of::<R>();
        let pos = match self.open.iter().position(|(t, _)| *t == ty) {
            Some(pos) => pos,
            None => {
                self.open.push((ty, Box::new((new_block::<R>(), 0u32))));
                self.open.len() - 1
            }
        };
        // Keeps the type in use first: a builder mostly creates nodes of one value type in a row.
        if pos != 0 {
            self.open.swap(0, pos);
        }
        let open = self.open[0]
            .1
            .downcast_mut::<(Rc<Block<R>>, u32)>()
            .expect("the entry of type R holds blocks of R");
        if open.1 as usize == BLOCK {
            *open = (new_block::<R>(), 0);
        }
        let cell = ValueCell {
            block: Rc::clone(&open.0),
            index: open.1,
        };
        open.1 += 1;
        cell
    }
}

impl std::fmt::Debug for CellArena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CellArena").field("types", &self.open.len()).finish()
    }
}

fn new_block<R>() -> Rc<Block<R>> {
    Rc::new(RefCell::new(std::array::from_fn(|_| None)))
}
