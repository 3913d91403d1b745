//! Seed `string_return`: `seeds.Wrapper`, whose `__reduce__` returns a string.
//!
//! ```python
//! class Wrapper:
//!     def __reduce__(self):
//!         return "SPAM"
//!
//! SPAM = Wrapper()
//! ```
//!
//! A string from `__reduce__` says "I am the global `seeds.SPAM`": the pickle is a reference
//! to that module attribute (GLOBAL, or STACK_GLOBAL from protocol 4), and loading it gives
//! back that very object. In Rust: `#[pickle(global = "SPAM")]` on a unit struct.
//!
//! Run with `cargo run --example string_return`.

use pickle_core::{Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", global = "SPAM")]
struct Wrapper;

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads a {type(loaded).__name__}; it is seeds.SPAM: {loaded is seeds.SPAM}')
theirs = pickle.dumps(seeds.SPAM, protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    show_both_ways(&Wrapper, &[0, 4], PYTHON)
}
