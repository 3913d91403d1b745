//! `pickle_core::dis` prints what `pickletools.dis` prints, for every pickle CPython writes
//! for the builtin-value matrix at every protocol.

mod common;

use common::matrix::matrix;
use common::{cpython_dis, cpython_dumps, python_available, python_source};

#[test]
fn listings_match_pickletools() {
    if !python_available("listings_match_pickletools") {
        return;
    }
    let values = matrix();
    let requests: Vec<(String, Vec<u8>)> = values.iter().map(|(_, v)| (python_source(v), (0..=5).collect())).collect();
    let pickles: Vec<(String, u8, Vec<u8>)> = values
        .iter()
        .zip(cpython_dumps(&requests))
        .flat_map(|((name, _), answers)| {
            (0u8..=5).zip(answers).filter_map(move |(p, a)| a.ok().map(|bytes| (name.clone(), p, bytes)))
        })
        .collect();
    let theirs = cpython_dis(&pickles.iter().map(|(_, _, b)| b.as_slice()).collect::<Vec<_>>());
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for ((name, protocol, bytes), theirs) in pickles.iter().zip(&theirs) {
        // pickletools.dis cannot print ints over CPython's 4300-digit limit; nothing to compare.
        if theirs.contains("pickletools.dis failed") {
            continue;
        }
        compared += 1;
        let ours = pickle_core::dis(bytes).unwrap_or_else(|e| format!("error: {e}"));
        if &ours != theirs {
            let line = ours.lines().zip(theirs.lines()).find(|(a, b)| a != b);
            let line = format!("{line:?}");
            mismatches.push(format!("{name} at protocol {protocol}: first differing line {:.300}", line));
        }
    }
    assert!(compared > 1000, "only {compared} listings compared");
    assert!(mismatches.is_empty(), "{} listings differ:\n{}", mismatches.len(), mismatches.join("\n"));
}
