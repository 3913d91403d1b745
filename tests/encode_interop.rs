//! The encoder against CPython 3.11: every builtin value at every protocol, byte for byte.
//!
//! The expected bytes come from running `pickle.dumps` on the mirrored Python object at test
//! time (see `common/cpython.py`); nothing here is a recorded pickle.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use common::matrix::matrix;
use common::{assert_same_pickles, python_available, Case};
use num_bigint::BigInt;
use pickle_core::{ByteArray, Bytes, Value};

#[test]
fn builtin_values_pickle_as_cpython_does_at_every_protocol() {
    if !python_available("builtin_values_pickle_as_cpython_does_at_every_protocol") {
        return;
    }
    let values = matrix();
    assert!(values.len() >= 150, "the matrix has {} values", values.len());
    let cases: Vec<Case<'_>> = values.iter().map(|(name, v)| Case::value(name.clone(), v)).collect();
    let compared = assert_same_pickles(&cases);
    assert_eq!(compared, values.len() * 6);
}

#[test]
fn rust_types_pickle_as_their_python_builtins() {
    if !python_available("rust_types_pickle_as_their_python_builtins") {
        return;
    }
    let vec_i64: Vec<i64> = vec![1, -300, 70000, 1 << 40];
    let vec_string: Vec<String> = vec!["alpha".into(), "beta".into(), "alpha".into()];
    let vec_str: Vec<&str> = vec!["x", "yz"];
    let btree: BTreeMap<String, Vec<u8>> = [("a".to_string(), vec![1u8, 2]), ("b".to_string(), vec![])].into();
    let set: BTreeSet<u16> = [3, 1, 2].into();
    let nested: Vec<Vec<u8>> = vec![vec![1], vec![], vec![2, 3]];
    let options: Vec<Option<i32>> = vec![Some(1), None, Some(-1)];
    let tuple12 = (1u8, 2u16, 3u32, 4u64, -5i8, -6i16, -7i32, -8i64, 9.5f64, "ten", true, ());
    let wide: (u64, i128, u128, usize, isize) = (u64::MAX, i128::MIN, u128::MAX, 7, -7);
    let floats: (f32, f64) = (0.1, 0.1);
    let chars: Vec<char> = vec!['a', 'é', '€', '🐍'];
    let byte_values = (Bytes(vec![0u8, 1, 2]), Bytes(&b""[..]), ByteArray(vec![9u8; 300]));
    let boxed: Box<(i32, Box<str>)> = Box::new((1, "boxed".into()));
    let array: [i8; 3] = [-1, 0, 1];
    let deque: VecDeque<bool> = [true, false].into();
    let unit = ();
    let rc = Rc::new(vec![1, 2]);
    let rc_twice = vec![rc.clone(), rc.clone(), Rc::new(vec![1, 2])];
    let rc_str: Rc<str> = Rc::from("shared");
    let rc_str_twice = (rc_str.clone(), rc_str.clone());
    let arc = Arc::new(BTreeMap::from([(1, "one")]));
    let arc_twice = [arc.clone(), arc];
    let bigint = BigInt::from(-7) << 90;
    let slice: &[u32] = &[5, 6];
    let cow: std::borrow::Cow<'_, str> = "cow".into();

    let cases = vec![
        Case::typed("Vec<i64>", "[1, -300, 70000, 1 << 40]", &vec_i64),
        Case::typed("Vec<String>, equal strings separate", "[S('alpha'), S('beta'), S('alpha')]", &vec_string),
        Case::typed("Vec<&str>", "[S('x'), S('yz')]", &vec_str),
        Case::typed("BTreeMap<String, Vec<u8>>", "{S('a'): [1, 2], S('b'): []}", &btree),
        Case::typed("BTreeSet<u16>", "{1, 2, 3}", &set),
        Case::typed("Vec<Vec<u8>>", "[[1], [], [2, 3]]", &nested),
        Case::typed("Vec<Option<i32>>", "[1, None, -1]", &options),
        Case::typed("a 12-tuple", "(1, 2, 3, 4, -5, -6, -7, -8, 9.5, S('ten'), True, ())", &tuple12),
        Case::typed("wide ints", "(2**64 - 1, -2**127, 2**128 - 1, 7, -7)", &wide),
        Case::typed("f32 and f64", "(0.10000000149011612, 0.1)", &floats),
        Case::typed("chars", "['a', 'é', S('€'), S('🐍')]", &chars),
        Case::typed("Bytes and ByteArray", "(B(b'\\x00\\x01\\x02'), b'', bytearray(b'\\x09' * 300))", &byte_values),
        Case::typed("Box", "(1, S('boxed'))", &boxed),
        Case::typed("array", "[-1, 0, 1]", &array),
        Case::typed("VecDeque", "[True, False]", &deque),
        Case::typed("unit", "()", &unit),
        Case::typed("Rc shared twice, and an equal separate one", "(lambda r: [r, r, [1, 2]])([1, 2])", &rc_twice),
        Case::typed("Rc<str> shared", "(lambda s: (s, s))(S('shared'))", &rc_str_twice),
        Case::typed("Arc shared", "(lambda d: [d, d])({1: S('one')})", &arc_twice),
        Case::typed("BigInt", "-7 << 90", &bigint),
        Case::typed("a slice", "[5, 6]", &slice),
        Case::typed("Cow<str>", "S('cow')", &cow),
    ];
    assert_same_pickles(&cases);
}

#[test]
fn protocol_0_floats_match_python_repr_on_many_values() {
    if !python_available("protocol_0_floats_match_python_repr_on_many_values") {
        return;
    }
    // Random bit patterns, decimal fractions, integers near 2**53 and exact halves at
    // magnitudes where the shortest repr has to break a tie.
    let mut state = 0x9E3779B97F4A7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut floats = Vec::new();
    for i in 0..30_000u64 {
        let r = next();
        let f = match i % 5 {
            0 => f64::from_bits(r),
            1 => (r % 1_000_000) as f64 / 10f64.powi((r % 12) as i32),
            2 => ((1u64 << 53) as f64) + (r % 4096) as f64 * if r & 1 == 0 { 1.0 } else { -1.0 },
            3 => (r >> 11) as f64 * 0.25 * if r & 2 == 0 { 1.0 } else { -1.0 },
            _ => f64::from_bits(r & 0x000F_FFFF_FFFF_FFFF),
        };
        floats.push(if f.is_nan() { 0.0 } else { f });
    }
    let value = Value::List(floats.into_iter().map(Value::Float).collect());
    let case = Case::value("30000 floats", &value);
    let theirs = common::cpython_dumps(&[(case.python.clone(), vec![0])]).remove(0).remove(0).unwrap();
    assert!((case.rust)(0).unwrap() == theirs, "protocol 0 float text differs from CPython's repr");
}
