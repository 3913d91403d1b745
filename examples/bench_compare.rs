//! The Rust half of `bench/compare` (see `bench/README.md`).
//!
//! `cargo run --release --example bench_compare -- DIR N [--only=SUBSTRING] [--decode-only]`
//!
//! For every `DIR/*.pickle` (sorted by name; with `--only`, only names containing SUBSTRING)
//! prints one line of JSON with the median seconds of N timed runs, after one warm-up run, of:
//!
//! - `ours_decode`: `pickle_core::loads` to a `Value`;
//! - `ours_encode`: `pickle_core::dumps` of that `Value` at the file's protocol, with
//!   `identical` saying whether the bytes equal the file's bytes (checked once);
//! - `serde_decode`: `serde_pickle::value_from_slice` with default `DeOptions`;
//! - `serde_encode`: `serde_pickle::value_to_vec` of that value with `SerOptions::new()`, which
//!   writes protocol 3 whatever the file's protocol (`serde_encode_protocol`);
//! - `typed_decode`: `pickle_core::loads` straight into the Rust type of the workload
//!   (`Vec<i64>`, `Vec<f64>`, `Vec<String>`, `Vec<Record>`, `Vec<Reading>`, `Vec<Mixed>`;
//!   other workloads `null`);
//! - `typed_encode`: `pickle_core::dumps` of that typed value at the file's protocol, with
//!   `typed_identical` saying whether the bytes equal the file's bytes.
//!
//! - `ours_serde_decode`, `ours_serde_encode`: the serde bridge, `pickle_core::serde::from_slice`
//!   into the workload's serde type (`Vec<i64>`, `Vec<f64>`, `Vec<String>`, `Vec<SerdeRecord>`,
//!   `Vec<SerdeReading>`; other workloads `null`) and `pickle_core::serde::to_vec` of it at the
//!   file's protocol; `serde_typed_decode`, `serde_typed_encode`: serde-pickle's `from_slice`
//!   and `to_vec` (protocol 3) of the same serde types, for a like-for-like comparison.
//!
//! - `copy`: for a pickle of one `bytes` value, or of a reduction whose first argument is one,
//!   one `to_vec` of as many bytes as its payload (the copy limit an owned decode and an
//!   encode are held to), and for a `bytes` value `borrowed_decode`: `pickle_core::loads_bytes`,
//!   which borrows the payload where the pickle holds it as it is.
//!
//! A column is `null` when the operation fails; the error is in `<column>_error`.
//! `--ops=ours_decode,typed_decode` times only those columns (for profiling one of them).
//! `--decode-only` decodes the file once, streamed with `pickle_core::load`, nothing else
//! (for peak-RSS runs).

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use pickle_core::{Reconstruct, Reduce};

use serde_json::{json, Map, Value as Json};

thread_local! {
    /// The columns `--ops` asks for; empty for all of them.
    static OPS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Median seconds of `n` timed runs of `f` after one warm-up run, or the first error.
/// The result of each run is dropped outside the timed region.
fn median<R, E: std::fmt::Display>(n: usize, mut f: impl FnMut() -> Result<R, E>) -> Result<f64, String> {
    drop(f().map_err(|e| e.to_string())?);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let r = f();
        let elapsed = start.elapsed().as_secs_f64();
        drop(r.map_err(|e| e.to_string())?);
        times.push(elapsed);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

/// Whether `--ops` asks for `column`.
fn wanted(column: &str) -> bool {
    OPS.with(|o| o.borrow().is_empty() || o.borrow().iter().any(|c| c == column))
}

/// Times `f` for `column`, unless `--ops` leaves the column out.
fn timed<R, E: std::fmt::Display>(
    out: &mut Map<String, Json>,
    column: &str,
    n: usize,
    f: impl FnMut() -> Result<R, E>,
) {
    if wanted(column) {
        record(out, column, median(n, f));
    }
}

fn record(out: &mut Map<String, Json>, column: &str, result: Result<f64, String>) {
    match result {
        Ok(secs) => {
            out.insert(column.into(), json!(secs));
        }
        Err(e) => {
            out.insert(column.into(), Json::Null);
            out.insert(format!("{column}_error"), json!(e));
        }
    }
}

/// The protocol byte of a `PROTO` opcode at the start, as CPython writes for protocol >= 2.
fn protocol_of(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [0x80, p, ..] => Some(*p),
        _ => None,
    }
}

/// One record of the `records` workload: a plain dict on the Python side (`dict`), with
/// literal (so interned, shared) keys and tags picked from a small list (so shared strings).
#[derive(Reduce, Reconstruct)]
#[pickle(dict)]
struct Record {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<Rc<String>>,
    active: bool,
}

/// One instance of `bench_classes.Reading` (`bench/bench_classes.py`), a plain Python class:
/// pickled as its class, NEWOBJ and its `__dict__`; sensor names and tags are shared strs.
#[derive(Reduce, Reconstruct)]
#[pickle(module = "bench_classes")]
struct Reading {
    sensor: Rc<String>,
    value: f64,
    ts: i64,
    tags: Vec<Rc<String>>,
}

/// One record of the `mixed` workload: a dict of a datetime, a Decimal, a tuple, an
/// optional str and a `bench_classes.Tick` (reduced with arguments).
#[derive(Reduce, Reconstruct)]
#[pickle(dict)]
struct Mixed {
    at: chrono::NaiveDateTime,
    price: rust_decimal::Decimal,
    pair: (i64, Rc<String>),
    note: Option<String>,
    tick: Tick,
}

/// `bench_classes.Tick`, whose `__reduce__` is `(Tick, (venue, seq))`.
#[derive(Reduce, Reconstruct)]
#[pickle(module = "bench_classes")]
struct Tick {
    #[pickle(arg)]
    venue: Rc<String>,
    #[pickle(arg)]
    seq: i64,
}

/// The serde type of one record of the `records` workload (a dict on the Python side).
#[derive(serde::Serialize, serde::Deserialize)]
struct SerdeRecord {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<String>,
    active: bool,
}

/// The serde type of one `bench_classes.Reading`: serde reads a class instance as its state.
#[derive(serde::Serialize, serde::Deserialize)]
struct SerdeReading {
    sensor: String,
    value: f64,
    ts: i64,
    tags: Vec<String>,
}

/// Times the serde bridge's decode into `T` and encode of it, and serde-pickle's of the same.
fn serde_typed<T: serde::Serialize + serde::de::DeserializeOwned>(
    out: &mut Map<String, Json>,
    n: usize,
    bytes: &[u8],
    protocol: u8,
) {
    use pickle_core::serde::{from_slice, to_vec, DeOptions, SerOptions};
    timed(out, "ours_serde_decode", n, || from_slice::<T>(bytes, DeOptions::new()));
    timed(out, "serde_typed_decode", n, || serde_pickle::from_slice::<T>(bytes, serde_pickle::DeOptions::new()));
    match from_slice::<T>(bytes, DeOptions::new()) {
        Ok(value) => {
            timed(out, "ours_serde_encode", n, || to_vec(&value, SerOptions::new().protocol(protocol)));
            timed(out, "serde_typed_encode", n, || serde_pickle::to_vec(&value, serde_pickle::SerOptions::new()));
        }
        Err(e) => record(out, "ours_serde_encode", Err(format!("no value to encode: {e}"))),
    }
}

/// Times the typed decode of `T`, and the encode of what it decoded.
fn typed<T: Reconstruct + Reduce>(out: &mut Map<String, Json>, n: usize, bytes: &[u8], protocol: u8) {
    timed(out, "typed_decode", n, || pickle_core::loads::<T>(bytes));
    match pickle_core::loads::<T>(bytes) {
        Ok(value) => {
            let again = pickle_core::dumps(&value, protocol);
            out.insert("typed_identical".into(), json!(again.as_ref().is_ok_and(|b| *b == bytes)));
            drop(again);
            timed(out, "typed_encode", n, || pickle_core::dumps(&value, protocol));
        }
        Err(e) => record(out, "typed_encode", Err(format!("no value to encode: {e}"))),
    }
}

/// The length of the payload of a pickle that is one: a `bytes`, or a `bytes` as the first
/// argument of a reduction (`Blob(payload)`).
fn payload_length(value: &pickle_core::Value) -> Option<usize> {
    use pickle_core::Value;
    match value {
        Value::Bytes(payload) => Some(payload.len()),
        Value::Object(object) => match &object.args {
            Value::Tuple(args) => match args.first() {
                Some(Value::Bytes(payload)) => Some(payload.len()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_compare DIR N [--only=SUBSTRING] [--decode-only]";
    let dir = PathBuf::from(args.first().ok_or(usage)?);
    let n: usize = args.get(1).ok_or(usage)?.parse()?;
    if n == 0 {
        return Err("N must be at least 1".into());
    }
    let only = args.iter().find_map(|a| a.strip_prefix("--only=")).unwrap_or("");
    let decode_only = args.iter().any(|a| a == "--decode-only");
    let ops: Vec<String> = args
        .iter()
        .find_map(|a| a.strip_prefix("--ops="))
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    OPS.with(|o| *o.borrow_mut() = ops);

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pickle"))
        .filter(|p| p.file_name().is_some_and(|f| f.to_string_lossy().contains(only)))
        .collect();
    files.sort();

    for path in files {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if decode_only {
            // Streamed from the file: the payload is read straight into the decoded value.
            let value: pickle_core::Value = pickle_core::load(std::fs::File::open(&path)?)?;
            drop(value);
            println!("{}", json!({ "file": name, "size": std::fs::metadata(&path)?.len(), "decoded": true }));
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let protocol = protocol_of(&bytes).ok_or("no PROTO opcode at the start")?;
        let mut out = Map::new();
        out.insert("file".into(), json!(name));
        out.insert("size".into(), json!(bytes.len()));
        out.insert("protocol".into(), json!(protocol));

        // This project: decode to Value, encode that Value at the same protocol.
        timed(&mut out, "ours_decode", n, || pickle_core::loads::<pickle_core::Value>(&bytes));
        match pickle_core::loads::<pickle_core::Value>(&bytes) {
            Ok(value) => {
                let again = pickle_core::dumps(&value, protocol);
                out.insert("identical".into(), json!(again.as_ref().is_ok_and(|b| *b == bytes)));
                drop(again);
                timed(&mut out, "ours_encode", n, || pickle_core::dumps(&value, protocol));
                if let Some(length) = payload_length(&value) {
                    // The copy limit: one fresh `to_vec` of as many bytes as the payload,
                    // what an owned decode or an encode must do at least once.
                    timed(&mut out, "copy", n, || Ok::<_, String>(bytes[..length].to_vec()));
                }
                if let pickle_core::Value::Bytes(_) = &value {
                    // And the decode that copies nothing, where the pickle allows it.
                    timed(&mut out, "borrowed_decode", n, || pickle_core::loads_bytes(&bytes).map(|p| p.len()));
                }
            }
            Err(e) => {
                out.insert("identical".into(), Json::Null);
                record(&mut out, "ours_encode", Err(format!("no value to encode: {e}")));
            }
        }
        // Typed: straight into the workload's Rust type, and back.
        match name.split('-').next().unwrap_or("") {
            "ints" => typed::<Vec<i64>>(&mut out, n, &bytes, protocol),
            "floats" => typed::<Vec<f64>>(&mut out, n, &bytes, protocol),
            "strs" => typed::<Vec<String>>(&mut out, n, &bytes, protocol),
            "records" => typed::<Vec<Record>>(&mut out, n, &bytes, protocol),
            "objects" => typed::<Vec<Reading>>(&mut out, n, &bytes, protocol),
            "mixed" => typed::<Vec<Mixed>>(&mut out, n, &bytes, protocol),
            _ => {
                out.insert("typed_decode".into(), Json::Null);
                out.insert("typed_encode".into(), Json::Null);
            }
        }

        // The serde bridge and serde-pickle, into and from the same serde types.
        match name.split('-').next().unwrap_or("") {
            "ints" => serde_typed::<Vec<i64>>(&mut out, n, &bytes, protocol),
            "floats" => serde_typed::<Vec<f64>>(&mut out, n, &bytes, protocol),
            "strs" => serde_typed::<Vec<String>>(&mut out, n, &bytes, protocol),
            "records" => serde_typed::<Vec<SerdeRecord>>(&mut out, n, &bytes, protocol),
            "objects" => serde_typed::<Vec<SerdeReading>>(&mut out, n, &bytes, protocol),
            _ => {
                for column in ["ours_serde_decode", "ours_serde_encode", "serde_typed_decode", "serde_typed_encode"] {
                    out.insert(column.into(), Json::Null);
                }
            }
        }

        // serde-pickle: decode to its Value, encode that Value (protocol 3).
        let de = || serde_pickle::value_from_slice(&bytes, serde_pickle::DeOptions::new());
        timed(&mut out, "serde_decode", n, de);
        match de() {
            Ok(value) => {
                let en = || serde_pickle::value_to_vec(&value, serde_pickle::SerOptions::new());
                timed(&mut out, "serde_encode", n, en);
                if let Ok(b) = serde_pickle::value_to_vec(&value, serde_pickle::SerOptions::new()) {
                    out.insert("serde_encode_protocol".into(), json!(protocol_of(&b)));
                    out.insert("serde_encode_size".into(), json!(b.len()));
                }
            }
            Err(e) => record(&mut out, "serde_encode", Err(format!("no value to encode: {e}"))),
        }
        println!("{}", Json::Object(out));
    }
    Ok(())
}
