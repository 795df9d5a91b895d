//! Flows shared by the tests: the library's catalog (also served by the
//! `flowloop-redis-worker` test binary and by `flowloop worker`).
#![allow(unused_imports)]

pub use flowloop_redis::catalog::*;
