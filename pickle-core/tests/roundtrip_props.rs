//! Properties of the codec over random values (proptest): what `dumps` writes, `loads`
//! reads back equal at every protocol; pickling what was read gives the same bytes; the
//! reader agrees with itself from a slice and from an `io::Read`, to a `Value` and to typed
//! values; no input panics.

use num_bigint::BigInt;
use pickle_core::{dumps, loads, Pickler, ReducerOverride, Reduction, Unpickler, Value};
use proptest::prelude::*;

/// Atoms every protocol writes exactly: no NaN payloads (protocol 0 writes floats as
/// text), no ints beyond protocol 0's digit limit.
fn atom() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<i128>().prop_map(|i| Value::int(BigInt::from(i) * BigInt::from(i))),
        any::<f64>().prop_filter("NaN payloads are lost in text", |f| !f.is_nan()).prop_map(Value::Float),
        ".{0,40}".prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::bytes),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::bytearray),
        // Prefixed, so that no module is one `fix_imports` renames (Python 2's `repr` loads
        // as `reprlib`, as CPython's does).
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}".prop_map(|m| Value::global(format!("m_{m}"), "Name")),
    ]
}

/// Hashable keys with distinct Python values (no 1 and True, no 0 and 0.0).
fn key() -> impl Strategy<Value = Value> {
    prop_oneof![any::<i32>().prop_map(|i| Value::Int(i as i64)), "[a-z]{0,10}".prop_map(Value::from)]
}

fn value() -> impl Strategy<Value = Value> {
    atom().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Tuple),
            proptest::collection::vec((key(), inner.clone()), 0..6).prop_map(|pairs| {
                // Python dicts keep the first key and the last value: build what loads returns.
                let mut out: Vec<(Value, Value)> = Vec::new();
                for (k, v) in pairs {
                    match out.iter_mut().find(|(existing, _)| *existing == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Value::Dict(out)
            }),
            inner.prop_map(|v| {
                let node = v.shared();
                Value::List(vec![node.clone(), node])
            }),
        ]
    })
}

/// Lists as typed loads read them: numbers, strs (some shared), `None`, lists of those.
fn typed_list() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        Just(Value::None),
        any::<i64>().prop_map(Value::Int),
        (-1e9f64..1e9).prop_map(Value::Float),
        "[a-zé]{0,6}".prop_map(Value::from),
        "[a-z]{1,4}".prop_map(|s| Value::from(s).shared()),
    ];
    let inner = proptest::collection::vec(item.clone(), 0..4).prop_map(Value::List);
    proptest::collection::vec(prop_oneof![item, inner], 0..1100).prop_map(|items| {
        // Share some items by position: a str fetched again is a GET.
        let mut out: Vec<Value> = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            match (&v, i % 7, out.last()) {
                (_, 3, Some(previous @ Value::Shared(_))) => out.push(previous.clone()),
                _ => out.push(v),
            }
        }
        Value::List(out)
    })
}

/// Loads `bytes` as `T` from the slice (the typed fast path where it can) and from a
/// reader (the general loader): the same value, or the same error.
fn typed_agree<T: pickle_core::Reconstruct + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
    let from_slice = loads::<T>(bytes);
    let from_reader = Unpickler::new(std::io::Cursor::new(bytes)).load::<T>();
    match (from_slice, from_reader) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
        (a, b) => prop_assert!(false, "slice {:?} but reader {:?}", a, b),
    }
    Ok(())
}

proptest! {
    // Fewer cases: each is a list of up to 1100 items (two batches) loaded six ways.
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn typed_loads_from_a_reader_and_a_slice_agree(v in typed_list(), protocol in 0u8..=5) {
        let bytes = dumps(&v, protocol).unwrap();
        typed_agree::<Vec<Option<i64>>>(&bytes)?;
        typed_agree::<Vec<Option<f64>>>(&bytes)?;
        typed_agree::<Vec<Option<String>>>(&bytes)?;
        typed_agree::<Vec<std::rc::Rc<String>>>(&bytes)?;
        typed_agree::<Vec<Vec<Option<String>>>>(&bytes)?;
        typed_agree::<Vec<Option<Vec<i64>>>>(&bytes)?;
    }
}

/// A `reducer_override` that keeps every reduction: with a hook installed, the pickler
/// writes `Value`s by their reductions, the general path, rather than by their own.
struct KeepEveryReduction;

impl ReducerOverride for KeepEveryReduction {
    fn reducer_override<'a>(
        &mut self,
        _: Option<&'a dyn std::any::Any>,
        _: &Reduction<'a>,
        _: u8,
    ) -> pickle_core::Result<Option<Reduction<'a>>> {
        Ok(None)
    }
}

/// What a pickler writes for `v`, as bytes or as the error's text.
fn written(v: &Value, protocol: u8, max_depth: usize, hooked: bool) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut pickler = Pickler::new(&mut out).protocol(protocol).max_depth(max_depth);
    if hooked {
        pickler = pickler.reducer_override(KeepEveryReduction);
    }
    pickler.dump(v).map_err(|e| e.to_string())?;
    drop(pickler);
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// `Value`s have a path of their own in the pickler when no hook is installed; it
    /// writes what the general path writes, and fails where it fails (the depth limit,
    /// counted on shared and unshared objects alike).
    #[test]
    fn values_are_written_as_their_reductions_are(v in value(), protocol in 0u8..=5, max_depth in 1usize..=6) {
        prop_assert_eq!(written(&v, protocol, max_depth, false), written(&v, protocol, max_depth, true));
    }

    #[test]
    fn what_dumps_writes_loads_back_equal(v in value(), protocol in 0u8..=5) {
        let bytes = dumps(&v, protocol).unwrap();
        let back = loads::<Value>(&bytes).unwrap();
        prop_assert!(back == v, "protocol {}: {} came back as {}", protocol, v, back);
        // Pickling what was read gives the same bytes: the decoder keeps what the encoder's
        // choices depend on (sharing, singletons, fresh names).
        prop_assert_eq!(dumps(&back, protocol).unwrap(), bytes);
    }

    #[test]
    fn a_reader_and_a_slice_agree(v in value(), protocol in 0u8..=5) {
        let bytes = dumps(&v, protocol).unwrap();
        let from_slice = loads::<Value>(&bytes).unwrap();
        let from_reader: Value = Unpickler::new(std::io::Cursor::new(&bytes)).load().unwrap();
        prop_assert!(from_slice == from_reader);
        // The slice takes the direct path where it can, the reader the general loader:
        // they keep the same objects shared.
        prop_assert_eq!(dumps(&from_slice, protocol).unwrap(), dumps(&from_reader, protocol).unwrap());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = loads::<Value>(&bytes);
        let _ = pickle_core::dis(&bytes);
    }
}
