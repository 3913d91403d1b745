//! Seed `setstate`: `seeds.FrozenPoint`, built from constant arguments, then given its state.
//!
//! ```python
//! class FrozenPoint:
//!     def __init__(self, x, y):
//!         self.x, self.y = x, y
//!     def __reduce__(self):
//!         return (FrozenPoint, (0, 0), {"x": self.x, "y": self.y})
//!     def __setstate__(self, state):
//!         self.x, self.y = state["x"], state["y"]
//! ```
//!
//! Loading calls `FrozenPoint(0, 0)`, then BUILD hands the state dict to `__setstate__`. In
//! Rust, `args = (0, 0)` gives the constant arguments and the fields, having no role of
//! their own, are the state dict; on load the arguments are ignored and the fields are read
//! from the state.
//!
//! Run with `cargo run --example setstate`.

use pickle_core::{Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", args = (0, 0))]
struct FrozenPoint {
    x: i64,
    y: i64,
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with vars {vars(loaded)}')
theirs = pickle.dumps(seeds.FrozenPoint(7, 8), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = FrozenPoint { x: 7, y: 8 };
    show_both_ways(&value, &[0, 4], PYTHON)
}
