//! Differential: `loads` of a slice takes a direct path where it can (to a `Value`,
//! `pickle-core/src/de/direct.rs`, which may hand over to the general loader part way; to a
//! typed value, `de/stream.rs`), a reader always the general loader. On every input both must give the same answer: equal
//! values (for a `Value`, keeping the same objects shared: the same protocol 4 pickle), or
//! the same error at the same offset.

#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Debug;
use std::io::Cursor;
use std::rc::Rc;

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

fn same_repr<T: Debug>(d: &T, g: &T) {
    assert_eq!(format!("{d:?}"), format!("{g:?}"));
}

/// A dict of Python code, as a derived `#[pickle(dict)]` struct.
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Record {
    id: i64,
    name: String,
    tags: Vec<Rc<String>>,
    #[pickle(default)]
    score: Option<f64>,
}

/// A dict with a field of any shape, which the typed path hands to the general loader.
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Loose {
    id: i64,
    #[pickle(default)]
    extra: Value,
}

/// For each item, the position of the first that is the same allocation.
fn sharing<T>(items: &[&Rc<T>]) -> Vec<usize> {
    items.iter().map(|s| items.iter().position(|t| Rc::ptr_eq(s, t)).unwrap_or(usize::MAX)).collect()
}

/// An instance of a plain Python class `m.A` (`object.__reduce_ex__`'s shape).
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "m", name = "A")]
struct Instance {
    a: i64,
    b: Rc<String>,
    #[pickle(default)]
    c: Vec<Option<i64>>,
}

fn same_instances(d: &Vec<Rc<Instance>>, g: &Vec<Rc<Instance>>) {
    assert_eq!(d, g);
    let pointers =
        |v: &Vec<Rc<Instance>>| v.iter().map(|i| v.iter().position(|j| Rc::ptr_eq(i, j))).collect::<Vec<_>>();
    assert_eq!(pointers(d), pointers(g), "instances shared differently");
    let strs = |v: &Vec<Rc<Instance>>| sharing(&v.iter().map(|i| &i.b).collect::<Vec<_>>());
    assert_eq!(strs(d), strs(g), "strs shared differently");
}

fn same_records(d: &Vec<Record>, g: &Vec<Record>) {
    let bits = |records: &Vec<Record>| records.iter().map(|r| r.score.map(f64::to_bits)).collect::<Vec<_>>();
    assert_eq!(bits(d), bits(g));
    let rest =
        |records: &Vec<Record>| records.iter().map(|r| (r.id, r.name.clone(), r.tags.clone())).collect::<Vec<_>>();
    assert_eq!(rest(d), rest(g));
    let tags = |records: &Vec<Record>| sharing(&records.iter().flat_map(|r| &r.tags).collect::<Vec<_>>());
    assert_eq!(tags(d), tags(g), "tags shared differently");
}

/// With hooks (persistent ids kept, an extension code), which the general loader applies
/// after the direct path hands over: a slice and a reader give the same value or error, and
/// stop at the same byte.
fn agree_with_hooks(data: &[u8]) {
    fn hooked<S: pickle_core::de::Source>(unpickler: Unpickler<S>) -> Unpickler<S> {
        unpickler.with_options(options()).persistent_load(pickle_core::PersistentLoad::Keep).extension(1, "m", "A")
    }
    let mut slice = hooked(Unpickler::from_slice(data));
    let mut reader = hooked(Unpickler::new(Cursor::new(data)));
    match (slice.load::<Value>(), reader.load::<Value>()) {
        (Ok(d), Ok(g)) => {
            assert!(d == g, "slice {d} but reader {g}");
            assert_eq!(dumps(&d, 4).ok(), dumps(&g, 4).ok(), "sharing differs");
            assert_eq!(slice.position(), reader.position());
        }
        (Err(d), Err(g)) => assert_eq!(d.to_string(), g.to_string()),
        (d, g) => panic!("slice {d:?} but reader {g:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    agree::<Value>(data, |d, g| {
        assert!(d == g, "direct {d} but general {g}");
        assert_eq!(dumps(d, 4).ok(), dumps(g, 4).ok(), "sharing differs");
    });
    agree_with_hooks(data);
    agree::<Vec<i64>>(data, equal);
    agree::<Vec<u8>>(data, equal);
    // Floats by bits: NaN is a value like any other here.
    agree::<Vec<f64>>(data, |d, g| {
        assert_eq!(d.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), g.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
    });
    agree::<Vec<Option<String>>>(data, equal);
    agree::<Vec<Rc<String>>>(data, |d, g| {
        assert_eq!(d, g);
        assert_eq!(sharing(&d.iter().collect::<Vec<_>>()), sharing(&g.iter().collect::<Vec<_>>()));
    });
    // Tuples: TUPLE1 to TUPLE3 and MARK ... TUPLE, nested, one shared by `Rc`.
    agree::<Vec<(i64, Option<String>)>>(data, equal);
    agree::<Vec<((i64,), (i64, i64, i64, i64))>>(data, equal);
    agree::<Vec<Rc<(String, i64, i64)>>>(data, |d, g| {
        assert_eq!(d, g);
        assert_eq!(sharing(&d.iter().collect::<Vec<_>>()), sharing(&g.iter().collect::<Vec<_>>()));
    });
    // Maps (any keys, a repeated key left to the general loader); a deque of boxed arrays.
    agree::<HashMap<String, Vec<i64>>>(data, equal);
    agree::<BTreeMap<i64, Option<String>>>(data, equal);
    agree::<VecDeque<Box<[i64; 2]>>>(data, equal);
    // Sets and frozensets, by opcode or by `set(list)` reduction, nested in a list.
    agree::<Vec<HashSet<i64>>>(data, equal);
    agree::<BTreeSet<String>>(data, equal);
    // Calls read straight: datetimes (a timezone met again by GET), Decimals.
    agree::<Vec<(chrono::DateTime<chrono::FixedOffset>, rust_decimal::Decimal)>>(data, |d, g| {
        assert_eq!(d, g);
        assert_eq!(
            d.iter().map(|(t, _)| *t.offset()).collect::<Vec<_>>(),
            g.iter().map(|(t, _)| *t.offset()).collect::<Vec<_>>()
        );
    });
    // Objects of shapes the typed path does not read, read by the general loader where they
    // are and the typed path going on after them: `Value` items, entries and fields.
    // By their repr (so maps in key order): `Value`'s `==` tells apart two items that are the same cycle converted
    // twice (a known flaw, even between two loads from one reader).
    agree::<Vec<Value>>(data, same_repr);
    agree::<Vec<(i64, Value, Option<String>)>>(data, same_repr);
    agree::<BTreeMap<String, Value>>(data, same_repr);
    agree::<Vec<Loose>>(data, same_repr);
    agree::<Vec<Record>>(data, same_records);
    agree::<Vec<Rc<Instance>>>(data, same_instances);
    // A bytes borrowed where it can be: what loads gives for Bytes, payload or error.
    match (pickle_core::loads_bytes_with(data, &options()), loads_with::<pickle_core::Bytes>(data, &options())) {
        (Ok(borrowed), Ok(owned)) => assert_eq!(&borrowed[..], &owned.0[..]),
        (Err(b), Err(o)) => assert_eq!(b.to_string(), o.to_string()),
        (b, o) => panic!("loads_bytes {b:?} but loads {o:?}"),
    }
});
