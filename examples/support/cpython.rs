//! The CPython half of the seed examples, shared by them (`#[path]`-included: not an
//! example of its own). Each example uses part of it.

#![allow(dead_code)]

use std::fmt::Debug;
use std::process::Command;

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

/// Pickles `value` at each protocol, prints the listing and what Rust loads back, then has
/// CPython run `python` on each pickle (see [`cpython`]) and loads CPython's own pickle.
pub fn show_both_ways<T: Reduce + Reconstruct + Debug>(
    value: &T,
    protocols: &[u8],
    python: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut pickles = Vec::new();
    for &protocol in protocols {
        let bytes = dumps(value, protocol)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<T>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(python, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<T>(&theirs)?);
    }
    Ok(())
}

/// Runs `code` in CPython with the seed classes importable and our pickle as `ours`; the
/// code prints what it loaded and binds `theirs` to its own pickle, which is returned.
/// `None` when python3 is not on the PATH.
pub fn cpython(code: &str, ours: &[u8], protocol: u8) -> Result<Option<Vec<u8>>, Box<dyn std::error::Error>> {
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
