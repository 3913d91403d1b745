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

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

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
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let bytes = dumps(&value, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<SimpleObject>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<SimpleObject>(&theirs)?);
    }
    Ok(())
}
