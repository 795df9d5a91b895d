// The flow plumbing is sealed: its types cannot be named and its traits not implemented.
use flowloop::flow::InputSpec;

pub struct MyArgs;

impl flowloop::flow::ArgList for MyArgs {}
