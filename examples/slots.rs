//! Seed `slots`: `seeds.Slotted`, a class with `__slots__` and no `__dict__`.
//!
//! ```python
//! class Slotted:
//!     __slots__ = ("x", "y")
//!     def __init__(self, x, y):
//!         self.x, self.y = x, y
//! ```
//!
//! `object.__reduce_ex__` pickles it as `copyreg.__newobj__(Slotted)` (NEWOBJ) with the state
//! `(None, {'x': ..., 'y': ...})`: no instance dict, then the slots. Below protocol 2 it has
//! no way to write slots: CPython refuses, and so does `#[pickle(slots)]`.
//!
//! Run with `cargo run --example slots`.

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", slots)]
struct Slotted {
    x: i64,
    y: String,
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with x={loaded.x!r}, y={loaded.y!r}')
try:
    pickle.dumps(seeds.Slotted(5, 'why'), 1)
except TypeError as e:
    print(f'CPython refuses protocol 1 too: {e}')
theirs = pickle.dumps(seeds.Slotted(5, 'why'), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = Slotted { x: 5, y: "why".into() };
    println!("=== protocol 1\nRefused: {}\n", dumps(&value, 1).expect_err("slots need protocol 2"));
    let protocol = 2;
    let bytes = dumps(&value, protocol)?;
    println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
    println!("Rust loads it back: {:?}\n", loads::<Slotted>(&bytes)?);

    println!("=== CPython, with tests/python/seeds.py");
    match cpython(PYTHON, &bytes, protocol)? {
        Some(theirs) => {
            let same = if theirs == bytes { "the same bytes as ours" } else { "different bytes" };
            println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<Slotted>(&theirs)?);
        }
        None => println!("python3 is not on the PATH: skipping CPython's side"),
    }
    Ok(())
}
