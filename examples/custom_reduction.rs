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

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

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
    let mut pickles = Vec::new();
    // Protocol 1 takes the `arg` branch (one REDUCE of two arguments), protocol 2 the
    // `state` branch (REDUCE of one argument, then BUILD with {'data': ...}).
    for protocol in [1, 2] {
        let bytes = dumps(&value, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<CustomObject>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<CustomObject>(&theirs)?);
    }
    Ok(())
}
