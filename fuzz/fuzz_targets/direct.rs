//! Differential: `loads` of a slice takes the direct path where it can
//! (`pickle-core/src/de/direct.rs`), a reader always the general loader. On every input both
//! must give the same answer: equal values that keep the same objects shared (the same
//! protocol 4 pickle), or the same error at the same offset.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pickle_core::{dumps, loads_with, ErrorKind, Unpickler, UnpicklerOptions, Value};

fuzz_target!(|data: &[u8]| {
    let options = UnpicklerOptions { max_alloc: 64 << 20, max_depth: 1000, ..UnpicklerOptions::default() };
    let direct = loads_with::<Value>(data, &options);
    let mut unpickler = Unpickler::new(Cursor::new(data)).with_options(options);
    let general = unpickler.load::<Value>();
    match (direct, general) {
        (Ok(d), Ok(g)) => {
            // `loads` refuses trailing bytes, the reader stops at STOP: compare only whole inputs.
            assert!(unpickler.position() == data.len() as u64, "the slice loaded trailing bytes");
            assert!(d == g, "direct {d} but general {g}");
            assert_eq!(dumps(&d, 4).ok(), dumps(&g, 4).ok(), "sharing differs");
        }
        (Err(d), Err(g)) => assert_eq!(d.to_string(), g.to_string()),
        (Err(d), Ok(_)) if unpickler.position() < data.len() as u64 => {
            assert!(matches!(d.kind(), ErrorKind::TrailingData(_)), "{d}");
        }
        (d, g) => panic!("direct {d:?} but general {g:?}"),
    }
});
