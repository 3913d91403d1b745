//! Seed `protocol_optimization`: `seeds.OptimizedObject`, which streams its items from protocol 4.
//!
//! ```python
//! class OptimizedObject:
//!     def __init__(self, items=()):
//!         self.items = list(items)
//!     def extend(self, items):
//!         self.items.extend(items)
//!     def __reduce_ex__(self, protocol):
//!         if protocol >= 4:
//!             return (OptimizedObject, (), None, iter(self.items))
//!         return (OptimizedObject, (self.items,))
//! ```
//!
//! Up to protocol 3 the items are one list argument of the class; from 4 the object is made
//! empty and the items are appended after it (APPENDS, which calls `extend`), so the
//! unpickler never holds a separate copy of the list. The sizes show that the gain is not in
//! bytes (protocol 4 adds a frame header). In Rust:
//! `#[pickle(arg(until = 3), list_items(since = 4))]`.
//!
//! Run with `cargo run --example protocol_optimization`.

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce, HIGHEST_PROTOCOL};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds")]
struct OptimizedObject {
    #[pickle(arg(until = 3), list_items(since = 4))]
    items: Vec<i64>,
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with items {loaded.items}')
theirs = pickle.dumps(seeds.OptimizedObject([10, 20, 30]), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let big = OptimizedObject { items: (0..2500).collect() };
    println!("=== the pickle of 2500 items, per protocol");
    for protocol in 0..=HIGHEST_PROTOCOL {
        println!("protocol {protocol}: {:>6} bytes", dumps(&big, protocol)?.len());
    }
    let value = OptimizedObject { items: vec![10, 20, 30] };
    let mut pickles = Vec::new();
    for protocol in [3, 4] {
        let bytes = dumps(&value, protocol)?;
        println!("\n=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}", loads::<OptimizedObject>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("\n=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<OptimizedObject>(&theirs)?);
    }
    Ok(())
}
