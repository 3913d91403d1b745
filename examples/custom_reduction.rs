//! Seed `custom_reduction`: `seeds.CustomObject`, whose `__reduce_ex__` branches on the protocol.
//!
//! ```python
//! class CustomObject:
//!     def __init__(self, name, data=None):
//!         self.name = name
//!         self.data = data
//!     def __reduce_ex__(self, protocol):
//!         if protocol >= 2:
//!             return (CustomObject, (self.name,), {"data": self.data})
//!         return (CustomObject, (self.name, self.data))
//! ```
//!
//! Below protocol 2, `data` is a second argument of the class; from 2 it is an entry of the
//! state dict, set by BUILD after `CustomObject(name)` returns. In Rust one field attribute
//! says both: `#[pickle(arg(until = 1), state(since = 2))]`, and the derive checks at compile
//! time that the field has exactly one role at every protocol.
//!
//! Run with `cargo run --example custom_reduction`.

use pickle_core::{Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds")]
struct CustomObject {
    #[pickle(arg)]
    name: String,
    #[pickle(arg(until = 1), state(since = 2))]
    data: Vec<i64>,
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with vars {vars(loaded)}')
theirs = pickle.dumps(seeds.CustomObject('widget', [1, 2, 3]), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = CustomObject { name: "widget".into(), data: vec![1, 2, 3] };
    // Protocol 1 takes the `arg` branch (one REDUCE of two arguments), protocol 2 the
    // `state` branch (REDUCE of one argument, then BUILD with {'data': ...}).
    show_both_ways(&value, &[1, 2], PYTHON)
}
