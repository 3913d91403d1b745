//! Typed loading: what CPython writes, at every protocol, loads into derived Rust structs,
//! and what the structs write loads back to equal structs.
//!
//! The Python side is the seed classes (`tests/python/seeds.py`) and plain classes as real
//! code writes them (`tests/python/load_classes.py`): no custom reduce, `@dataclass`,
//! `__slots__`, `enum.Enum`, `collections.namedtuple`, a list subclass.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::rc::Rc;

use common::seeds::seed_python;
use common::{cpython_dumps, python_available};
use pickle_core::{dumps, loads, ErrorKind, Node, Reconstruct, Reduce, Result, Value};

// ----- the seeds, derived both ways -----

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds")]
struct SimpleObject {
    #[pickle(arg)]
    value: i64,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds")]
struct CustomObject {
    #[pickle(arg)]
    name: String,
    #[pickle(arg(until = 1), state(since = 2))]
    data: Vec<i64>,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds")]
struct OptimizedObject {
    #[pickle(arg(until = 3), list_items(since = 4))]
    items: Vec<i64>,
}

/// The `__init__` that re-opens the resource: `constructor` plays it on load.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", constructor = DatabaseConnection::connect)]
struct DatabaseConnection {
    #[pickle(arg)]
    connection_string: String,
    #[pickle(skip)]
    connected: bool,
}

impl DatabaseConnection {
    fn connect(connection_string: String) -> DatabaseConnection {
        DatabaseConnection { connection_string, connected: true }
    }
}

/// `reconstruct_complex(x, y)` recomputes the sum; so does the constructor.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", reconstructor = "seeds.reconstruct_complex", constructor = ComplexObject::new)]
struct ComplexObject {
    #[pickle(arg)]
    x: i64,
    #[pickle(arg)]
    y: i64,
    #[pickle(skip)]
    sum: i64,
}

impl ComplexObject {
    fn new(x: i64, y: i64) -> ComplexObject {
        ComplexObject { x, y, sum: x + y }
    }
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", global = "SPAM")]
struct Wrapper;

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds")]
struct Point(i64, i64);

/// Constant args, the fields in the state: the args are not the fields, so load ignores them.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", args = (0, 0))]
struct FrozenPoint {
    x: i64,
    y: i64,
}

/// `Node(value, [])`, then the children appended: the constructor takes the args.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", name = "Node", args = (&self.value, Vec::<i64>::new()), constructor = SeedNode::new)]
struct SeedNode {
    #[pickle(skip)]
    value: String,
    #[pickle(list_items)]
    children: Vec<SeedNode>,
}

impl SeedNode {
    fn new(value: String, children: Vec<SeedNode>) -> SeedNode {
        SeedNode { value, children }
    }
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", slots)]
struct Slotted {
    x: i64,
    y: String,
}

/// `__getnewargs_ex__`: value positional, scale by keyword; `__dict__` repeats both.
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", newobj, ignore_unknown)]
struct Scaled {
    #[pickle(arg(since = 2), state(until = 1))]
    value: i64,
    #[pickle(kwarg(since = 2), state(until = 1))]
    scale: i64,
}

/// The state is the position itself, applied by a state setter: a custom state, so a
/// hand-written `Reconstruct`.
#[derive(Debug, PartialEq)]
struct Placed {
    position: (i64, i64),
}

impl Reconstruct for Placed {
    fn reconstruct(node: Node<'_>) -> Result<Placed> {
        let placed =
            node.instance().filter(|i| i.is("seeds", "Placed")).ok_or_else(|| node.mismatch("`seeds.Placed`"))?;
        let state = placed.state().ok_or_else(|| node.error("`seeds.Placed` without its position"))?;
        Ok(Placed { position: state.get()? })
    }
}

// ----- plain Python classes -----

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Account {
    owner: String,
    balance: i64,
    history: Vec<i64>,
}

#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Measurement {
    sensor: String,
    value: f64,
    tags: Vec<String>,
    account: Option<Account>,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes", slots)]
struct Vec2 {
    x: f64,
    y: f64,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq, Clone, Copy)]
#[pickle(module = "load_classes")]
enum Color {
    Red = 1,
    Green = 2,
    Blue = 3,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
enum Mood {
    #[pickle(value = "happy")]
    Happy,
    #[pickle(value = "sad")]
    Sad,
}

/// A namedtuple: `__newobj__(Pair, left, right)` from protocol 2, and below it
/// `_reconstructor(Pair, tuple, (left, right))`, whose tuple is the arguments too.
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes", newobj)]
struct Pair {
    #[pickle(arg(since = 2), state(until = 1))]
    left: String,
    #[pickle(arg(since = 2), state(until = 1))]
    right: i64,
}

/// A list subclass with an attribute.
#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Tags {
    #[pickle(list_items)]
    items: Vec<String>,
    owner: String,
}

/// A struct that Python sees as a plain dict (`#[pickle(dict)]`), with shared tag strings.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Record {
    id: i64,
    name: String,
    score: f64,
    tags: Vec<Rc<String>>,
    #[pickle(rename = "active")]
    is_active: bool,
}

#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes", name = "Shared")]
struct SharedLabel {
    label: String,
}

/// Checks CPython's pickle at a protocol.
type CheckFn = dyn Fn(&[u8], u8);

/// One case: Python code binding `value`, the protocols to ask for, and a check of what
/// CPython wrote at each.
struct Check {
    name: &'static str,
    code: String,
    protocols: Vec<u8>,
    check: Box<CheckFn>,
}

/// CPython's pickle at each protocol loads to `expected`; with `round_trip`, so does ours.
fn case<T>(name: &'static str, code: String, protocols: std::ops::RangeInclusive<u8>, expected: T) -> Check
where
    T: Reconstruct + Debug + PartialEq + 'static,
{
    let check = move |bytes: &[u8], p: u8| {
        let got: T = loads(bytes).unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"));
        assert_eq!(got, expected, "{name} at protocol {p}");
    };
    Check { name, code, protocols: protocols.collect(), check: Box::new(check) }
}

/// As [`case`], and the struct's own pickle at each protocol loads back to it.
fn round_trip<T>(name: &'static str, code: String, protocols: std::ops::RangeInclusive<u8>, expected: T) -> Check
where
    T: Reconstruct + Reduce + Debug + PartialEq + 'static,
{
    let check = move |bytes: &[u8], p: u8| {
        let got: T = loads(bytes).unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"));
        assert_eq!(got, expected, "{name} at protocol {p}");
        let ours = dumps(&expected, p).unwrap();
        let back: T = loads(&ours).unwrap_or_else(|e| panic!("{name}: our own pickle at protocol {p}: {e}"));
        assert_eq!(back, expected, "{name}: our own pickle at protocol {p}");
    };
    Check { name, code, protocols: protocols.collect(), check: Box::new(check) }
}

fn run(checks: Vec<Check>) {
    let asks: Vec<(String, Vec<u8>)> = checks.iter().map(|c| (c.code.clone(), c.protocols.clone())).collect();
    let answers = cpython_dumps(&asks);
    let mut loaded = 0;
    for (check, answers) in checks.iter().zip(answers) {
        for (&p, answer) in check.protocols.iter().zip(answers) {
            let bytes = answer.unwrap_or_else(|e| panic!("{}: CPython could not pickle at {p}: {e}", check.name));
            (check.check)(&bytes, p);
            loaded += 1;
        }
    }
    eprintln!("loaded {loaded} pickles written by CPython");
}

fn classes(code: &str) -> String {
    format!("import load_classes as m\nvalue = {code}")
}

#[test]
fn seeds_written_by_cpython_load_into_derived_structs() {
    if !python_available("seeds_written_by_cpython_load_into_derived_structs") {
        return;
    }
    let seed = seed_python;
    run(vec![
        round_trip("SimpleObject", seed("SimpleObject"), 0..=5, SimpleObject { value: 42 }),
        round_trip(
            "CustomObject",
            seed("CustomObject"),
            0..=5,
            CustomObject { name: "widget".into(), data: vec![1, 2, 3] },
        ),
        round_trip("OptimizedObject", seed("OptimizedObject"), 0..=5, OptimizedObject { items: (0..2500).collect() }),
        round_trip(
            "DatabaseConnection",
            seed("DatabaseConnection"),
            0..=5,
            DatabaseConnection { connection_string: "postgres://localhost/app".into(), connected: true },
        ),
        round_trip("ComplexObject", seed("ComplexObject"), 0..=5, ComplexObject { x: 3, y: 4, sum: 7 }),
        round_trip("Wrapper", seed("Wrapper"), 0..=5, vec![Wrapper, Wrapper]),
        round_trip("Point", seed("Point"), 0..=5, vec![Point(1, 2), Point(-3, 400)]),
        round_trip("FrozenPoint", seed("FrozenPoint"), 0..=5, FrozenPoint { x: 7, y: 8 }),
        round_trip(
            "Node",
            seed("Node"),
            0..=5,
            SeedNode {
                value: "root".into(),
                children: vec![
                    SeedNode { value: "leaf1".into(), children: vec![] },
                    SeedNode { value: "leaf2".into(), children: vec![] },
                ],
            },
        ),
        round_trip("Slotted", seed("Slotted"), 2..=5, Slotted { x: 5, y: "why".into() }),
        case("Scaled", seed("Scaled"), 0..=5, (Scaled { value: 10, scale: 3 }, Scaled { value: 20, scale: 1 })),
        case("Placed", seed("Placed"), 0..=5, Placed { position: (3, 4) }),
    ]);
}

fn account() -> Account {
    Account { owner: "Ada".into(), balance: 120, history: vec![100, 20] }
}

const ACCOUNT: &str = "m.Account('Ada', 120, [100, 20])";

#[test]
fn plain_python_classes_load_into_derived_structs() {
    if !python_available("plain_python_classes_load_into_derived_structs") {
        return;
    }
    let measurement = Measurement {
        sensor: "t1".into(),
        value: 21.5,
        tags: vec!["lab".into(), "é".into()],
        account: Some(account()),
    };
    run(vec![
        round_trip("plain class", classes(ACCOUNT), 0..=5, account()),
        case("dataclass", classes(&format!("m.Measurement('t1', 21.5, ['lab', 'é'], {ACCOUNT})")), 0..=5, measurement),
        case(
            "dataclass, int for float",
            classes("m.Measurement('t2', 3, [])"),
            0..=5,
            Measurement { sensor: "t2".into(), value: 3.0, tags: vec![], account: None },
        ),
        round_trip("__slots__", classes("m.Vec2(0.5, -2.0)"), 2..=5, Vec2 { x: 0.5, y: -2.0 }),
        round_trip(
            "enum.Enum by int",
            classes("[m.Color.RED, m.Color.BLUE, m.Color.RED]"),
            0..=5,
            vec![Color::Red, Color::Blue, Color::Red],
        ),
        round_trip("enum.Enum by str", classes("[m.Mood.SAD, m.Mood.HAPPY]"), 0..=5, vec![Mood::Sad, Mood::Happy]),
        case("namedtuple", classes("m.Pair('left', 2)"), 0..=5, Pair { left: "left".into(), right: 2 }),
        case(
            "list subclass",
            classes("m.Tags(['a', 'b'], 'me')"),
            0..=5,
            Tags { items: vec!["a".into(), "b".into()], owner: "me".into() },
        ),
    ]);
}

#[test]
fn builtins_written_by_cpython_load_into_rust_types() {
    if !python_available("builtins_written_by_cpython_load_into_rust_types") {
        return;
    }
    let big: u128 = 1 << 100;
    let map: HashMap<String, Vec<i64>> = [("a".to_owned(), vec![1, 2]), ("b".to_owned(), vec![])].into();
    let sorted: BTreeMap<i64, (String, f64)> = [(1, ("x".to_owned(), 1.5)), (-2, ("y".to_owned(), 0.0))].into();
    let code = |c: &str| format!("value = {c}");
    run(vec![
        case("ints", code("[0, -1, 255, 2**31, -2**63]"), 0..=5, vec![0i64, -1, 255, 1 << 31, i64::MIN]),
        case("u128", code("2**100"), 0..=5, big),
        case("floats", code("(1.5, -0.0, 1e300)"), 0..=5, (1.5f64, -0.0f64, 1e300f64)),
        case(
            "strs",
            code("['', 'a', 'héllo', '\\U0001f600']"),
            0..=5,
            vec![String::new(), "a".into(), "héllo".into(), "\u{1f600}".into()],
        ),
        case(
            "bytes",
            code("[b'', b'\\x00\\xff', bytearray(b'ab')]"),
            0..=5,
            (pickle_core::Bytes(vec![]), pickle_core::Bytes(vec![0, 255]), pickle_core::ByteArray(b"ab".to_vec())),
        ),
        case("dict of lists", code("{'a': [1, 2], 'b': []}"), 0..=5, map),
        case("sorted map of tuples", code("{1: ('x', 1.5), -2: ('y', 0.0)}"), 0..=5, sorted),
        case("set", code("{3, 1, 2}"), 0..=5, HashSet::from([1i64, 2, 3])),
        case("option", code("[None, 5]"), 0..=5, vec![None, Some(5u8)]),
        case("array", code("[1, 2, 3]"), 0..=5, [1i32, 2, 3]),
        case("bool", code("[True, False]"), 0..=5, vec![true, false]),
    ]);
}

#[test]
fn dict_structs_load_and_pickle_as_cpython_dicts() {
    if !python_available("dict_structs_load_and_pickle_as_cpython_dicts") {
        return;
    }
    let code = "t = 'tag'\nvalue = [{'id': i, 'name': 'n%d' % i, 'score': i / 2, 'tags': [t, t][:i], 'active': i % 2 == 0} for i in range(3)]";
    let tag = Rc::new("tag".to_owned());
    let expected: Vec<Record> = (0..3)
        .map(|i| Record {
            id: i,
            name: format!("n{i}"),
            score: i as f64 / 2.0,
            tags: vec![Rc::clone(&tag), Rc::clone(&tag)][..i as usize].to_vec(),
            is_active: i % 2 == 0,
        })
        .collect();
    let answers = cpython_dumps(&[(code.to_owned(), (0..=5).collect())]);
    for (p, answer) in answers[0].iter().enumerate() {
        let theirs = answer.as_ref().unwrap();
        let got: Vec<Record> = loads(theirs).unwrap_or_else(|e| panic!("protocol {p}: {e}"));
        assert_eq!(got, expected, "protocol {p}");
        assert!(Rc::ptr_eq(&got[2].tags[0], &got[2].tags[1]), "one str object, one Rc");
        assert_eq!(&dumps(&got, p as u8).unwrap(), theirs, "protocol {p}: our bytes differ from CPython's");
    }
    let e = loads::<Record>(&dumps(&Value::dict([("id", 1)]), 4).unwrap()).unwrap_err();
    assert!(e.to_string().starts_with("`Record.name`: missing"), "{e}");
    let e = loads::<Record>(&answers[0][4].as_ref().unwrap()[..]).unwrap_err();
    assert!(e.to_string().starts_with("expected dict for `Record`, found list"), "{e}");
}

#[test]
fn shared_objects_stay_shared_in_rc() {
    if !python_available("shared_objects_stay_shared_in_rc") {
        return;
    }
    let answers = cpython_dumps(&[(classes("[m.Shared('x')] * 2 + [m.Shared('x')]"), vec![0, 2, 4, 5])]);
    for answer in &answers[0] {
        let bytes = answer.as_ref().unwrap();
        let got: Vec<Rc<SharedLabel>> = loads(bytes).unwrap();
        assert!(Rc::ptr_eq(&got[0], &got[1]), "one Python object is one Rc");
        assert!(!Rc::ptr_eq(&got[0], &got[2]), "two equal Python objects are two Rcs");
        assert_eq!(got[2].label, "x");
    }
}

/// CPython's pickles of objects the Rust type does not fit, and the error each gives.
fn error_of<T: Reconstruct + Debug>(code: &str) -> pickle_core::Error {
    let answers = cpython_dumps(&[(classes(code), vec![4])]);
    let bytes = answers[0][0].as_ref().unwrap();
    loads::<T>(bytes).expect_err("the pickle does not fit the type")
}

#[test]
fn errors_name_the_class_the_field_and_the_byte() {
    if !python_available("errors_name_the_class_the_field_and_the_byte") {
        return;
    }
    let e = error_of::<Account>("m.Circle(2)");
    assert!(matches!(e.kind(), ErrorKind::Mismatch { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("expected `load_classes.Account` for `Account`, found `load_classes.Circle` (at byte "),
        "{text}"
    );

    let e = error_of::<Account>("m.Account(5, 1, [])");
    assert_eq!(e.path().as_deref(), Some("Account.owner"));
    assert!(e.to_string().starts_with("`Account.owner`: expected str, found int"), "{e}");
    assert!(e.offset().is_some());

    let e = error_of::<Measurement>("m.Measurement('t', 1.0, ['a', 2])");
    assert!(e.to_string().starts_with("`Measurement.tags[1]`: expected str, found int"), "{e}");

    let e = error_of::<Measurement>("m.Measurement('t', 1.0, [], m.Account('Ada', 'lots', []))");
    assert!(e.to_string().starts_with("`Measurement.account.balance`: expected int, found str"), "{e}");

    let e = error_of::<Account>("(lambda a: (setattr(a, 'extra', 1), a)[1])(m.Account('Ada', 1, []))");
    assert!(e.to_string().contains("has the attribute 'extra', which `Account` has no field for"), "{e}");

    let e = error_of::<Account>("(lambda a: (delattr(a, 'history'), a)[1])(m.Account('Ada', 1, []))");
    assert!(e.to_string().starts_with("`Account.history`: missing"), "{e}");

    let e = error_of::<Vec<u8>>("[1, 256]");
    assert!(e.to_string().starts_with("`[1]`: the int 256 does not fit in a `u8`"), "{e}");

    let e = error_of::<Color>("m.Mood.SAD");
    assert!(e.to_string().starts_with("expected `load_classes.Color` for `Color`, found `load_classes.Mood`"), "{e}");
}

#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes", name = "Account", ignore_unknown)]
struct Owner {
    owner: String,
    #[pickle(default)]
    nickname: String,
    #[pickle(default = default_currency)]
    currency: String,
}

fn default_currency() -> String {
    "EUR".into()
}

#[test]
fn ignore_unknown_and_default() {
    if !python_available("ignore_unknown_and_default") {
        return;
    }
    let expected = Owner { owner: "Ada".into(), nickname: String::new(), currency: "EUR".into() };
    run(vec![case("ignore_unknown", classes(ACCOUNT), 0..=5, expected)]);
}

#[test]
fn value_loads_anything_and_keeps_sharing() {
    let shared = Value::list([1, 2]).shared();
    let bytes = dumps(&Value::list([shared.clone(), shared]), 4).unwrap();
    let back: Value = loads(&bytes).unwrap();
    let items = back.as_list().unwrap();
    match (&items[0], &items[1]) {
        (Value::Shared(a), Value::Shared(b)) => assert!(a.ptr_eq(b)),
        other => panic!("not shared: {other:?}"),
    }
    // A `Value` field of a typed struct keeps the sharing too.
    let inner = Value::list([0]).shared();
    let pair: (Value, Value) = loads(&dumps(&Value::tuple([inner.clone(), inner]), 4).unwrap()).unwrap();
    match &pair {
        (Value::Shared(a), Value::Shared(b)) => assert!(a.ptr_eq(b)),
        other => panic!("not shared: {other:?}"),
    }
}
