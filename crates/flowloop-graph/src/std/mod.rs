//! The standard shelves: `math`, `flow` and `streams` (more shelves come from other modules
//! the same way).
//!
//! # Adding a shelf
//! One file per shelf under `src/std/`: write each kind as a plain function with
//! [`#[kind(name = "shelf.name")]`](macro@crate::kind) (or implement
//! [`Kind`](crate::kind::Kind) by hand for state or lazy inputs), then a `shelf()` function
//! that returns a [`Shelf`] with every `*_kind()`, and list it in [`shelves`]. A third-party
//! crate does the same and calls [`Registry::register`](crate::Registry::register).

pub mod flow;
pub mod math;
pub mod streams;

use crate::Shelf;

/// Every standard shelf.
pub fn shelves() -> Vec<Shelf> {
    vec![math::shelf(), flow::shelf(), streams::shelf()]
}
