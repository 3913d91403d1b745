//! CPython's own unpickling tests, replayed: `test.pickletester.AbstractUnpickleTests` runs
//! with a `loads` that records every pickle it is given and what the C unpickler did with
//! it (see `tests/python/harvest_pickletester.py`). Where CPython fails, we must fail with a
//! typed error; where it loads, we must load, and print plain data as CPython's `repr`.

mod common;

use std::process::Command;

use common::{hex_decode, python_available};
use pickle_core::{Encoding, StringErrors, Unpickler};

const HARVEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/harvest_pickletester.py");

#[test]
fn cpython_unpickle_test_vectors() {
    if !python_available("cpython_unpickle_test_vectors") {
        return;
    }
    let out = Command::new("python3").arg(HARVEST).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert!(records.len() > 200, "only {} vectors harvested", records.len());
    let mut failures = Vec::new();
    let mut compared_reprs = 0;
    for rec in records {
        let data = hex_decode(rec["data"].as_str().unwrap());
        let encoding = match rec["kwds"]["encoding"].as_str() {
            Some("bytes") => Encoding::Bytes,
            Some("latin1") => Encoding::Latin1,
            Some("utf-8") => Encoding::Utf8,
            _ => Encoding::Ascii,
        };
        let ours =
            std::panic::catch_unwind(|| Unpickler::from_slice(&data).encoding(encoding, StringErrors::Strict).load());
        let Ok(ours) = ours else {
            failures.push(format!("PANIC on {}", rec["data"]));
            continue;
        };
        match (rec.get("error"), ours) {
            (Some(_), Err(_)) => {}
            (Some(kind), Ok(v)) => failures.push(format!("CPython raised {kind}, we loaded {v}: {}", rec["data"])),
            (None, Err(e)) => failures.push(format!("CPython loaded {}, we failed: {e}: {}", rec["repr"], rec["data"])),
            (None, Ok(v)) => {
                // Plain data only: CPython builds real instances, which stay inert here.
                if !holds_objects(&v) {
                    compared_reprs += 1;
                    let theirs = rec["repr"].as_str().unwrap_or("");
                    if v.to_string() != theirs {
                        failures.push(format!(
                            "repr differs:\n  CPython: {theirs}\n  ours:    {v}\n  pickle: {}",
                            rec["data"]
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors disagree:\n{}", failures.len(), records.len(), failures.join("\n"));
    assert!(compared_reprs > 20, "only {compared_reprs} reprs compared");
}

/// Whether a value holds a global or an inert object, anywhere.
fn holds_objects(v: &pickle_core::Value) -> bool {
    use pickle_core::Value;
    match v.resolve() {
        Value::Object(_) | Value::Global(_) | Value::PersistentId(_) | Value::Cycle(_) => true,
        Value::Dict(pairs) => pairs.iter().any(|(k, v)| holds_objects(k) || holds_objects(v)),
        other => other.as_items().is_some_and(|items| items.iter().any(holds_objects)),
    }
}
