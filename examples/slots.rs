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

use std::process::Command;

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

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
