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

use std::process::Command;

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

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
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let bytes = dumps(&value, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<ComplexObject>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<ComplexObject>(&theirs)?);
    }
    Ok(())
}

/// Runs `code` in CPython with the seed classes importable and our pickle as `ours`; the
/// code prints what it loaded and binds `theirs` to its own pickle, which is returned.
/// `None` when python3 is not on the PATH.
fn cpython(code: &str, ours: &[u8], protocol: u8) -> Result<Option<Vec<u8>>, Box<dyn std::error::Error>> {
    let hex: String = ours.iter().map(|b| format!("{b:02x}")).collect();
    let prelude = format!("import pickle, seeds\nours, protocol = bytes.fromhex('{hex}'), {protocol}");
    let script = format!("{prelude}\n{code}\nprint(theirs.hex())");
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python");
    let Ok(out) = Command::new("python3").args(["-c", &script]).env("PYTHONPATH", python).output() else {
        return Ok(None);
    };
    if !out.status.success() {
        return Err(format!("python3 failed:\n{}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let stdout = String::from_utf8(out.stdout)?;
    let (shown, theirs) = stdout.trim_end().rsplit_once('\n').ok_or("python3 printed nothing")?;
    println!("{shown}");
    let byte = |i| u8::from_str_radix(&theirs[i..i + 2], 16);
    Ok(Some((0..theirs.len()).step_by(2).map(byte).collect::<Result<_, _>>()?))
}
