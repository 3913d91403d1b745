//! The serde bridge (`pickle_core::serde`, feature `serde`) against CPython 3.11 and
//! serde-pickle: serde types pickle to the bytes `pickle.dumps` writes for the equivalent
//! Python object at every protocol, and CPython loads them to that object; what CPython
//! writes loads into the serde types; serde-pickle reads our pickles and we read its pickles
//! to the same values; bad input is a typed error with the byte offset.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use common::{cpython_dumps, cpython_run, hex_encode, python_available};
use pickle_core::serde::{from_reader, from_slice, from_value, to_value, to_vec, to_writer, DeOptions, SerOptions};
use pickle_core::{ErrorKind, Value};

// ----- the serde types -----

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Unit,
    Newtype(i64),
    Tuple(i64, String),
    Struct { w: u32, h: u32 },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Meters(f64);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Rgb(u8, u8, u8);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Marker;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Inner {
    name: String,
    tags: Vec<String>,
    score: f64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Outer {
    id: u64,
    inner: Inner,
    shapes: Vec<Shape>,
    maybe: Option<i32>,
    none: Option<i32>,
    by_int: BTreeMap<i64, String>,
    by_pair: BTreeMap<(i32, i32), bool>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    unit: (),
    marker: Marker,
    pair: (i8, String, f32),
    meters: Meters,
    rgb: Rgb,
    big: u64,
    huge: i128,
    ch: char,
    empty: Vec<i32>,
}

fn outer() -> Outer {
    Outer {
        id: 7,
        inner: Inner { name: "alpha".into(), tags: vec!["x1".into(), "y2".into()], score: 0.5 },
        shapes: vec![Shape::Unit, Shape::Newtype(5), Shape::Tuple(1, "two".into()), Shape::Struct { w: 3, h: 4 }],
        maybe: Some(9),
        none: None,
        by_int: BTreeMap::from([(1, "one".into()), (-2, "minus two".into())]),
        by_pair: BTreeMap::from([((1, 2), true), ((3, 4), false)]),
        blob: b"\x00\x01bytes".to_vec(),
        unit: (),
        marker: Marker,
        pair: (-3, "pp".into(), 1.5),
        meters: Meters(2.5),
        rgb: Rgb(1, 2, 3),
        big: u64::MAX,
        huge: -(1i128 << 100),
        ch: 'é',
        empty: vec![],
    }
}

/// `outer()` in Python: strs of Rust values are new objects (`S`), field and variant names
/// are identifiers, as CPython interns them.
const OUTER_PY: &str = "{'id': 7, 'inner': {'name': S('alpha'), 'tags': [S('x1'), S('y2')], 'score': 0.5}, \
    'shapes': ['Unit', {'Newtype': 5}, {'Tuple': [1, S('two')]}, {'Struct': {'w': 3, 'h': 4}}], \
    'maybe': 9, 'none': None, 'by_int': {-2: S('minus two'), 1: S('one')}, \
    'by_pair': {(1, 2): True, (3, 4): False}, 'blob': B(b'\\x00\\x01bytes'), 'unit': None, \
    'marker': None, 'pair': (-3, S('pp'), 1.5), 'meters': 2.5, 'rgb': (1, 2, 3), \
    'big': 2**64 - 1, 'huge': -2**100, 'ch': S('\\xe9'), 'empty': []}";

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Flat {
    a: i32,
    #[serde(flatten)]
    rest: BTreeMap<String, i32>,
}

/// A serde case: our pickle of the value at protocol `p`, and the Python expression of it.
struct Case {
    name: &'static str,
    python: String,
    ours: Box<dyn Fn(u8) -> Vec<u8>>,
}

fn case<T: Serialize + 'static>(name: &'static str, python: impl Into<String>, value: T) -> Case {
    Case {
        name,
        python: python.into(),
        ours: Box::new(move |p| to_vec(&value, SerOptions::new().protocol(p)).unwrap()),
    }
}

fn compat<T: Serialize + 'static>(name: &'static str, python: &str, value: T) -> Case {
    let ours = move |p| to_vec(&value, SerOptions::new().protocol(p).compat_enum_repr()).unwrap();
    Case { name, python: python.into(), ours: Box::new(ours) }
}

fn cases() -> Vec<Case> {
    let thousand: BTreeMap<i32, i32> = (0..1000).map(|i| (i, -i)).collect();
    let thousand_py = "{i: -i for i in range(1000)}";
    let long_list: Vec<i64> = (0..2500).map(|i| i * 1_000_003).collect();
    let inners: Vec<Inner> =
        (0..3).map(|i| Inner { name: format!("n{i}"), tags: vec![format!("t{i}")], score: f64::from(i) }).collect();
    let inners_py = "[{'name': S(f'n{i}'), 'tags': [S(f't{i}')], 'score': float(i)} for i in range(3)]";
    vec![
        case("outer struct", OUTER_PY, outer()),
        case("unit", "None", ()),
        case("unit variant", "'Unit'", Shape::Unit),
        case("newtype variant", "{'Newtype': -1}", Shape::Newtype(-1)),
        case("tuple variant", "{'Tuple': [300, S('x y')]}", Shape::Tuple(300, "x y".into())),
        case("struct variant", "{'Struct': {'w': 70000, 'h': 0}}", Shape::Struct { w: 70000, h: 0 }),
        case("repeated structs", inners_py, inners),
        case("one-item list", "[S('only')]", vec!["only".to_string()]),
        case("1000-entry map", thousand_py, thousand),
        case("one-entry map", "{S('k'): 1}", BTreeMap::from([("k".to_string(), 1)])),
        case("list of 2500 ints", "[i * 1000003 for i in range(2500)]", long_list),
        case("empty tuple", "()", [0u8; 0]),
        case("long tuple", "(1, 2, 3, 4, 5)", (1, 2, 3, 4, 5)),
        case("nested options", "[None, 1, None]", vec![None, Some(1), None]),
        case("set as list", "[1, 2, 3]", BTreeSet::from([1, 2, 3])),
        case("large str", "S('z' * 70000)", "z".repeat(70000)),
        case("large bytes", "B(b'q' * 70000)", serde_bytes::ByteBuf::from(vec![b'q'; 70000])),
        case("flattened struct", "{'a': 1, S('b'): 2, S('c'): 3}", flat()),
        case("floats", "[1.5, float('inf'), -0.0]", vec![1.5f32, f32::INFINITY, -0.0]),
        compat("compat unit", "('Unit',)", Shape::Unit),
        compat("compat newtype", "('Newtype', 5)", Shape::Newtype(5)),
        compat("compat tuple", "('Tuple', [1, S('two')])", Shape::Tuple(1, "two".into())),
        compat("compat struct", "('Struct', {'w': 3, 'h': 4})", Shape::Struct { w: 3, h: 4 }),
    ]
}

fn flat() -> Flat {
    Flat { a: 1, rest: BTreeMap::from([("b".into(), 2), ("c".into(), 3)]) }
}

// ----- writing -----

#[test]
fn serde_values_pickle_to_cpythons_bytes_at_every_protocol() {
    if !python_available("serde_values_pickle_to_cpythons_bytes_at_every_protocol") {
        return;
    }
    let cases = cases();
    let asks: Vec<(String, Vec<u8>)> =
        cases.iter().map(|c| (format!("value = {}", c.python), (0..=5).collect())).collect();
    let mut compared = 0;
    for (case, answers) in cases.iter().zip(cpython_dumps(&asks)) {
        for (p, answer) in (0u8..).zip(answers) {
            let expected = answer.unwrap_or_else(|e| panic!("{}: CPython failed at {p}: {e}", case.name));
            assert_eq!((case.ours)(p), expected, "{} at protocol {p}", case.name);
            compared += 1;
        }
    }
    assert_eq!(compared, cases.len() * 6);
}

#[test]
fn cpython_loads_our_pickles_to_the_equivalent_object() {
    if !python_available("cpython_loads_our_pickles_to_the_equivalent_object") {
        return;
    }
    let cases = cases();
    let codes: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            (0..=5).map(move |p| {
                format!(
                    "import pickle, math\nexpected = {}\nloaded = pickle.loads(bytes.fromhex('{}'))\n\
                     assert repr(loaded) == repr(expected), (loaded, expected)\ndata = b''",
                    c.python,
                    hex_encode(&(c.ours)(p))
                )
            })
        })
        .collect();
    let runs = cpython_run(&codes.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, run) in runs.into_iter().enumerate() {
        run.unwrap_or_else(|e| panic!("{} at protocol {}: {e}", cases[i / 6].name, i % 6));
    }
}

#[test]
fn to_writer_writes_what_to_vec_returns() {
    for p in 0..=5 {
        let mut out = Vec::new();
        to_writer(&mut out, &outer(), SerOptions::new().protocol(p)).unwrap();
        assert_eq!(out, to_vec(&outer(), SerOptions::new().protocol(p)).unwrap(), "protocol {p}");
    }
    assert_eq!(to_vec(&1, SerOptions::new()).unwrap(), to_vec(&1, SerOptions::new().protocol(4)).unwrap());
    assert_eq!(to_vec(&1, SerOptions::new().proto_v2()).unwrap(), to_vec(&1, SerOptions::new().protocol(2)).unwrap());
}

// ----- reading -----

/// CPython's pickle of `python` at every protocol loads into `expected` (with `options`).
fn assert_loads<T: DeserializeOwned + PartialEq + Debug>(cases: &[(&str, T)], options: DeOptions) {
    let asks: Vec<(String, Vec<u8>)> =
        cases.iter().map(|(py, _)| (format!("value = {py}"), (0..=5).collect())).collect();
    for ((py, expected), answers) in cases.iter().zip(cpython_dumps(&asks)) {
        for (p, answer) in (0u8..).zip(answers) {
            let bytes = answer.unwrap();
            let loaded: T = from_slice(&bytes, options.clone()).unwrap_or_else(|e| panic!("{py} at {p}: {e}"));
            assert_eq!(&loaded, expected, "{py} at protocol {p}");
            let read: T = from_reader(&bytes[..], options.clone()).unwrap();
            assert_eq!(&read, expected, "{py} at protocol {p}, from a reader");
        }
    }
}

#[test]
fn cpython_pickles_load_into_serde_types() {
    if !python_available("cpython_pickles_load_into_serde_types") {
        return;
    }
    assert_loads(&[(OUTER_PY, outer())], DeOptions::new());
    let shapes = [
        ("'Unit'", Shape::Unit),
        ("('Unit',)", Shape::Unit),
        ("{'Newtype': 5}", Shape::Newtype(5)),
        ("('Newtype', 5)", Shape::Newtype(5)),
        ("{'Tuple': (1, 'two')}", Shape::Tuple(1, "two".into())),
        ("('Tuple', [1, 'two'])", Shape::Tuple(1, "two".into())),
        ("{'Struct': {'h': 4, 'w': 3}}", Shape::Struct { w: 3, h: 4 }),
    ];
    assert_loads(&shapes, DeOptions::new());
    // Tuples, sets and frozensets load as sequences; bytearrays as bytes.
    let seqs = [
        ("(1, 2, 3)", vec![1, 2, 3]),
        ("{3}", vec![3]),
        ("frozenset([4])", vec![4]),
        ("list(range(2001))", (0..2001).collect()),
    ];
    assert_loads(&seqs, DeOptions::new());
    let sets = [("set(range(1500))", (0..1500).collect::<BTreeSet<i32>>())];
    assert_loads(&sets, DeOptions::new());
    let blobs = [("b'abc'", serde_bytes::ByteBuf::from(b"abc".to_vec())), ("bytearray(b'xy')", b"xy".to_vec().into())];
    assert_loads(&blobs, DeOptions::new());
    let keyed =
        [("{(1, 2): 'a', (3, 4): 'b'}", BTreeMap::from([((1, 2), "a".to_string()), ((3, 4), "b".to_string())]))];
    assert_loads(&keyed, DeOptions::new());
    let big = [("[2**64 - 1, -2**100, 2**127]", (u64::MAX, -(1i128 << 100), 1u128 << 127))];
    assert_loads(&big, DeOptions::new());
}

#[derive(Deserialize, Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

const POINT_CLASS: &str = "import types, sys\nm = types.ModuleType('shapes')\nsys.modules['shapes'] = m\n\
    exec('class Point:\\n    def __init__(self, x, y):\\n        self.x, self.y = x, y\\n', m.__dict__)\n";

#[test]
fn class_instances_load_by_their_state_or_arguments() {
    if !python_available("class_instances_load_by_their_state_or_arguments") {
        return;
    }
    let asks = [
        (format!("{POINT_CLASS}value = m.Point(1, 2)"), (0..=5).collect()),
        ("import fractions\nvalue = fractions.Fraction(3, 4)".to_string(), (0..=5).collect()),
    ];
    let answers = cpython_dumps(&asks);
    for (p, bytes) in answers[0].iter().enumerate() {
        let point: Point = from_slice(bytes.as_ref().unwrap(), DeOptions::new()).unwrap();
        assert_eq!(point, Point { x: 1, y: 2 }, "protocol {p}");
    }
    for (p, bytes) in answers[1].iter().enumerate() {
        let bytes = bytes.as_ref().unwrap();
        // No state: an empty dict by default, the arguments with keep_restore_state.
        let state: BTreeMap<String, i32> = from_slice(bytes, DeOptions::new()).unwrap();
        assert!(state.is_empty(), "protocol {p}");
        let args: (i32, i32) = from_slice(bytes, DeOptions::new().keep_restore_state()).unwrap();
        assert_eq!(args, (3, 4), "protocol {p}");
    }
}

#[test]
fn python_2_strs_load_as_bytes_or_decoded() {
    if !python_available("python_2_strs_load_as_bytes_or_decoded") {
        return;
    }
    // What Python 2 wrote for ['caf\xc3\xa9', 'ab']: STRING at protocol 0, SHORT_BINSTRING at 2.
    let code = "import pickle\nproto0 = b\"(lp0\\nS'caf\\\\xc3\\\\xa9'\\np1\\naS'ab'\\np2\\na.\"\n\
        proto2 = b'\\x80\\x02]q\\x00(U\\x05caf\\xc3\\xa9q\\x01U\\x02abq\\x02e.'\n\
        assert pickle.loads(proto0, encoding='bytes') == [b'caf\\xc3\\xa9', b'ab'] == pickle.loads(proto2, encoding='bytes')\n\
        data = proto0 + proto2\nloaded = len(proto0)";
    let run = cpython_run(&[code]).remove(0).unwrap();
    let at: usize = run.repr.unwrap().parse().unwrap();
    for pickle in [&run.data[..at], &run.data[at..]] {
        let raw: Vec<serde_bytes::ByteBuf> = from_slice(pickle, DeOptions::new()).unwrap();
        assert_eq!(raw, vec![serde_bytes::ByteBuf::from("café".as_bytes().to_vec()), b"ab".to_vec().into()]);
        let text: Vec<String> = from_slice(pickle, DeOptions::new().decode_strings()).unwrap();
        assert_eq!(text, ["café", "ab"]);
    }
}

#[test]
fn globals_and_recursive_structures_are_errors_unless_replaced() {
    if !python_available("globals_and_recursive_structures_are_errors_unless_replaced") {
        return;
    }
    let asks = [
        ("import collections\nvalue = [1, collections.OrderedDict]".to_string(), vec![2, 4]),
        ("value = []\nvalue.append(value)".to_string(), vec![2, 4]),
    ];
    let answers = cpython_dumps(&asks);
    for bytes in &answers[0] {
        let bytes = bytes.as_ref().unwrap();
        let err = from_slice::<Vec<Option<i32>>>(bytes, DeOptions::new()).unwrap_err();
        assert!(err.offset().is_some(), "{err}");
        let replaced: Vec<Option<i32>> = from_slice(bytes, DeOptions::new().replace_unresolved_globals()).unwrap();
        assert_eq!(replaced, [Some(1), None]);
    }
    for bytes in &answers[1] {
        let bytes = bytes.as_ref().unwrap();
        let err = from_slice::<Vec<Option<Vec<i32>>>>(bytes, DeOptions::new()).unwrap_err();
        assert!(err.offset().is_some(), "{err}");
        assert!(err.to_string().contains("recursive"), "{err}");
        assert!(err.offset().is_some(), "{err}");
        let replaced: Vec<Option<Vec<i32>>> =
            from_slice(bytes, DeOptions::new().replace_recursive_structures()).unwrap();
        assert_eq!(replaced, [None]);
    }
}

// ----- bad input -----

#[test]
fn bad_input_is_a_typed_error_with_the_offset() {
    let bytes = to_vec(&outer(), SerOptions::new().protocol(2)).unwrap();
    for cut in [1, 2, 10, bytes.len() / 2, bytes.len() - 1] {
        let err = from_slice::<Outer>(&bytes[..cut], DeOptions::new()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Truncated(_)), "cut at {cut}: {err}");
        assert!(err.offset().is_some(), "cut at {cut}: {err}");
        assert!(from_reader::<_, Outer>(&bytes[..cut], DeOptions::new()).is_err());
    }
    // The wrong type: the error names the offset of the object that is not what was expected.
    let bytes = to_vec(&(1, "two", [3]), SerOptions::new().protocol(4)).unwrap();
    let err = from_slice::<(i32, i32, Vec<i32>)>(&bytes, DeOptions::new()).unwrap_err();
    let at = bytes.windows(5).position(|w| w == b"\x8c\x03two").unwrap() as u64;
    assert_eq!(err.offset(), Some(at), "{err}");
    let err = from_slice::<Point>(&to_vec(&BTreeMap::from([("x", 1)]), SerOptions::new()).unwrap(), DeOptions::new())
        .unwrap_err();
    assert!(err.to_string().contains("missing field `y`") && err.offset().is_some(), "{err}");
    let trailing = [to_vec(&1, SerOptions::new()).unwrap(), b"x".to_vec()].concat();
    assert!(matches!(from_slice::<i32>(&trailing, DeOptions::new()).unwrap_err().kind(), ErrorKind::TrailingData(1)));
    let err = from_reader::<_, i32>(&trailing[..], DeOptions::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::TrailingData(1)), "{err}");
    assert!(to_vec(&1, SerOptions::new().protocol(6)).is_err());
}

#[test]
fn shared_objects_cannot_ask_for_exponential_work() {
    if !python_available("shared_objects_cannot_ask_for_exponential_work") {
        return;
    }
    // 2**40 leaves in a few hundred bytes: each level is a list of the previous one twice.
    let asks = [("value = [0]\nfor _ in range(40):\n    value = [value, value]".to_string(), vec![2, 4])];
    for bytes in &cpython_dumps(&asks)[0] {
        let bytes = bytes.as_ref().unwrap();
        let err = from_slice::<serde_json::Value>(bytes, DeOptions::new()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LimitExceeded { .. }), "{err}");
        assert!(err.offset().is_some(), "{err}");
    }
    // Sharing within the budget reads as copies.
    let asks = [("row = [S('a'), S('b')]\nvalue = [row] * 100".to_string(), vec![4])];
    let bytes = cpython_dumps(&asks)[0][0].clone().unwrap();
    let rows: Vec<Vec<String>> = from_slice(&bytes, DeOptions::new()).unwrap();
    assert_eq!(rows, vec![vec!["a".to_string(), "b".to_string()]; 100]);
}

// ----- Value and serde-pickle -----

#[test]
fn to_value_and_from_value_round_trip() {
    let value = to_value(&outer()).unwrap();
    assert!(matches!(value.resolve(), Value::Dict(_)));
    assert_eq!(from_value::<Outer>(value).unwrap(), outer());
}

/// What serde-pickle reads from our pickles at every protocol, with either enum
/// representation, and what we read from its pickles (protocols 3 and 2), are the original
/// values.
fn assert_serde_pickle_agrees<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    for p in 0..=5 {
        for options in [SerOptions::new().protocol(p), SerOptions::new().protocol(p).compat_enum_repr()] {
            let ours = to_vec(value, options).unwrap();
            let theirs: T = serde_pickle::from_slice(&ours, serde_pickle::DeOptions::new())
                .unwrap_or_else(|e| panic!("serde-pickle reading our protocol {p}: {e}"));
            assert_eq!(&theirs, value, "serde-pickle reading our protocol {p}");
        }
    }
    for options in [serde_pickle::SerOptions::new(), serde_pickle::SerOptions::new().proto_v2().compat_enum_repr()] {
        let theirs = serde_pickle::to_vec(value, options).unwrap();
        let ours: T = from_slice(&theirs, DeOptions::new()).unwrap();
        assert_eq!(&ours, value);
    }
}

#[test]
fn serde_pickle_and_we_read_each_others_pickles() {
    // `outer()` but its ints past i64: serde-pickle has no i128 and reads no int past i64,
    // not even the u64::MAX it writes itself.
    let o = outer();
    let blob = serde_bytes::ByteBuf::from(o.blob);
    assert_serde_pickle_agrees(&(o.id, o.inner, o.shapes, o.maybe, o.none, o.by_int, o.by_pair, blob, o.unit));
    assert_serde_pickle_agrees(&(o.marker, o.pair, o.meters, o.rgb, o.ch, o.empty, 1u64 << 40, -(1i64 << 62)));
    assert_serde_pickle_agrees(&vec![Shape::Unit, Shape::Newtype(-7), Shape::Tuple(2, "b".into())]);
    assert_serde_pickle_agrees(&flat());
    assert_serde_pickle_agrees(&(0..3000).map(|i| (i, i.to_string())).collect::<BTreeMap<i32, String>>());
    assert_serde_pickle_agrees(&"z".repeat(70000));
}
