//! Seed `custom_reconstructor`: `seeds.ComplexObject`, rebuilt by a module-level function.
//!
//! ```python
//! def reconstruct_complex(x, y):
//!     return ComplexObject(x, y)
//!
//! class ComplexObject:
//!     def __init__(self, x, y):
//!         self.x, self.y = x, y
//!         self.sum = x + y
//!     def __reduce__(self):
//!         return (reconstruct_complex, (self.x, self.y))
//! ```
//!
//! The pickle names the function `seeds.reconstruct_complex`, not the class, and leaves out
//! `sum`, which is recomputed on load. In Rust, `reconstructor = "seeds.reconstruct_complex"`
//! names the callable, `sum` is `#[pickle(skip)]`, and `constructor = ComplexObject::new`
//! plays the function on load, recomputing the sum.
//!
//! Run with `cargo run --example custom_reconstructor`.

use pickle_core::{Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", reconstructor = "seeds.reconstruct_complex", constructor = ComplexObject::new)]
struct ComplexObject {
    #[pickle(arg)]
    x: i64,
    #[pickle(arg)]
    y: i64,
    #[pickle(skip)]
    sum: i64,
}

impl ComplexObject {
    fn new(x: i64, y: i64) -> ComplexObject {
        ComplexObject { x, y, sum: x + y }
    }
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with vars {vars(loaded)}')
theirs = pickle.dumps(seeds.ComplexObject(3, 4), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = ComplexObject::new(3, 4);
    show_both_ways(&value, &[0, 4], PYTHON)
}
