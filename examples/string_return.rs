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

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", global = "SPAM")]
struct Wrapper;

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads a {type(loaded).__name__}; it is seeds.SPAM: {loaded is seeds.SPAM}')
theirs = pickle.dumps(seeds.SPAM, protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let bytes = dumps(&Wrapper, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<Wrapper>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<Wrapper>(&theirs)?);
    }
    Ok(())
}
