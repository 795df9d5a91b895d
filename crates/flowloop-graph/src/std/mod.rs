//! The standard shelves: `math`, `flow`, `streams`, `compare`, `logic`, `collections`,
//! `text`, `json`, `type`, `state`, `time` and `io`, plus the higher-order kinds of [`each`],
//! which a program makes from its own body graphs.
//!
//! # Adding a shelf
//! One file per shelf under `src/std/`: write each kind as a plain function with
//! [`#[kind(name = "shelf.name")]`](macro@crate::kind) (or implement
//! [`Kind`](crate::kind::Kind) by hand for state or lazy inputs), then a `shelf()` function
//! that returns a [`Shelf`] with every `*_kind()`, and list it in [`shelves`]. A third-party
//! crate does the same and calls [`Registry::register`](crate::Registry::register).

pub mod collections;
pub mod compare;
pub mod each;
pub mod flow;
pub mod io;
pub mod json;
pub mod logic;
pub mod math;
mod order;
pub mod state;
pub mod stream_ops;
pub mod streams;
pub mod text;
pub mod time;
pub mod types;

use crate::Shelf;

/// Every standard shelf.
pub fn shelves() -> Vec<Shelf> {
    vec![
        math::shelf(),
        flow::shelf(),
        streams::shelf(),
        compare::shelf(),
        logic::shelf(),
        collections::shelf(),
        text::shelf(),
        json::shelf(),
        types::shelf(),
        state::shelf(),
        time::shelf(),
        io::shelf(),
    ]
}
