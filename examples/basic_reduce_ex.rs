//! Seed `basic_reduce_ex`: `seeds.SimpleObject`, whose `__reduce__` returns `(cls, args)`.
//!
//! ```python
//! class SimpleObject:
//!     def __init__(self, value):
//!         self.value = value
//!     def __reduce__(self):
//!         return (SimpleObject, (self.value,))
//! ```
//!
//! Unpickling calls `SimpleObject(value)`: the pickle is the class, the argument tuple and a
//! REDUCE. In Rust, `#[pickle(arg)]` makes a field a positional argument of the class.
//!
//! Run with `cargo run --example basic_reduce_ex`.

use pickle_core::{Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds")]
struct SimpleObject {
    #[pickle(arg)]
    value: i64,
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with vars {vars(loaded)}')
theirs = pickle.dumps(seeds.SimpleObject(42), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = SimpleObject { value: 42 };
    show_both_ways(&value, &[0, 4], PYTHON)
}
