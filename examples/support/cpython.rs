//! The CPython half of the seed examples, shared by them (`#[path]`-included: not an
//! example of its own).

use std::process::Command;

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
