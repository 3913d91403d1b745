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

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

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
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let bytes = dumps(&value, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<FrozenPoint>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<FrozenPoint>(&theirs)?);
    }
    Ok(())
}
