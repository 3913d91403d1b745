//! Differential: `loads` of a slice takes a direct path where it can (to a `Value`,
//! `pickle-core/src/de/direct.rs`; to a `Vec` of numbers or strs, `de/flat_list.rs`), a
//! reader always the general loader. On every input both must give the same answer: equal
//! values (for a `Value`, keeping the same objects shared: the same protocol 4 pickle), or
//! the same error at the same offset.

#![no_main]

use std::fmt::Debug;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use pickle_core::{dumps, loads_with, ErrorKind, Reconstruct, Unpickler, UnpicklerOptions, Value};

fn options() -> UnpicklerOptions {
    UnpicklerOptions { max_alloc: 64 << 20, max_depth: 1000, ..UnpicklerOptions::default() }
}

/// Loads `data` as `T` by both paths and checks that they agree; `same` compares values.
fn agree<T: Reconstruct + Debug>(data: &[u8], same: impl Fn(&T, &T)) {
    let direct = loads_with::<T>(data, &options());
    let mut unpickler = Unpickler::new(Cursor::new(data)).with_options(options());
    let general = unpickler.load::<T>();
    match (direct, general) {
        (Ok(d), Ok(g)) => {
            // `loads` refuses trailing bytes, the reader stops at STOP: compare only whole inputs.
            assert!(unpickler.position() == data.len() as u64, "the slice loaded trailing bytes");
            same(&d, &g);
        }
        (Err(d), Err(g)) => assert_eq!(d.to_string(), g.to_string()),
        (Err(d), Ok(_)) if unpickler.position() < data.len() as u64 => {
            assert!(matches!(d.kind(), ErrorKind::TrailingData(_)), "{d}");
        }
        (d, g) => panic!("direct {d:?} but general {g:?}"),
    }
}

fn equal<T: PartialEq + Debug>(d: &T, g: &T) {
    assert_eq!(d, g);
}

fuzz_target!(|data: &[u8]| {
    agree::<Value>(data, |d, g| {
        assert!(d == g, "direct {d} but general {g}");
        assert_eq!(dumps(d, 4).ok(), dumps(g, 4).ok(), "sharing differs");
    });
    agree::<Vec<i64>>(data, equal);
    agree::<Vec<u8>>(data, equal);
    // Floats by bits: NaN is a value like any other here.
    agree::<Vec<f64>>(data, |d, g| {
        assert_eq!(d.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), g.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
    });
    agree::<Vec<Option<String>>>(data, equal);
});
