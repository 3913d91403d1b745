//! One interop test per derive attribute: the derived type pickles as CPython pickles the
//! mirrored Python class (defined in the test's Python code), at protocols 0 to 5.

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;

use common::{assert_same_pickles, cpython_dumps, python_available, Case};
use pickle_core::{dumps, loads, Node, Reconstruct, Reduce};

/// The Python classes the derived types mirror, defined in a module `attrs_mod` made on
/// the fly so that pickle can find them.
const PYTHON_CLASSES: &str = r#"
import sys, types, enum, copyreg
m = types.ModuleType('attrs_mod'); sys.modules['attrs_mod'] = m
exec('''
import copyreg, enum

class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b

class Empty:
    pass

class Renamed:
    def __init__(self, x):
        self.py_name = x

class Both:
    __slots__ = ('s', '__dict__')
    def __init__(self, s, d):
        self.s = s
        self.d = d

class Versioned:
    """An argument until protocol 1, state from 2."""
    def __init__(self, v=None):
        self.v = v
    def __reduce_ex__(self, protocol):
        if protocol < 2:
            return (Versioned, (self.v,))
        return (Versioned, (), {'v': self.v})

class Registry:
    def __init__(self, name):
        self.name = name
        self.entries = {}
    def __setitem__(self, k, v):
        self.entries[k] = v
    def __reduce__(self):
        return (Registry, (self.name,), None, None, iter(self.entries.items()))

class Color(enum.Enum):
    RED = 1
    GREEN = 2

class Mode(enum.Enum):
    FAST = 'fast'
    SLOW = 'slow'

class Circle:
    def __init__(self, r):
        self.r = r
    def __reduce__(self):
        return (Circle, (self.r,))

class Square:
    def __init__(self, side):
        self.side = side

class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def __reduce__(self):
        return (Pair, (self.a, self.b))

class Outer:
    class Inner:
        def __init__(self, v):
            self.v = v
        def __reduce__(self):
            return (Outer.Inner, (self.v,))

class Holder:
    def __init__(self, items):
        self.items = items

class Stamp:
    def __init__(self, when):
        self.when = when

class Coord:
    """Arguments of `__new__` from protocol 2, the `__dict__` below it."""
    def __new__(cls, x, y):
        self = object.__new__(cls)
        self.x, self.y = x, y
        return self
    def __reduce_ex__(self, protocol):
        if protocol < 2:
            return (copyreg._reconstructor, (Coord, object, None), {'x': self.x, 'y': self.y})
        return (copyreg.__newobj__, (Coord, self.x, self.y))
''', m.__dict__)
for name in ('Color', 'Mode'):
    getattr(m, name).__module__ = 'attrs_mod'
"#;

fn py(expr: &str) -> String {
    format!("{PYTHON_CLASSES}\nfrom attrs_mod import *\nvalue = {expr}")
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Plain {
    a: i64,
    b: BTreeMap<String, Vec<u8>>,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Empty;

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Renamed {
    #[pickle(rename = "py_name")]
    x: String,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod", slots)]
struct Both {
    /// A slot by default under `slots`; said explicitly, as the `slot` error's hint leads to.
    #[pickle(slot)]
    s: i64,
    #[pickle(state(since = 2))]
    d: String,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Versioned {
    #[pickle(arg(until = 1), state(since = 2))]
    v: i64,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Registry {
    #[pickle(arg)]
    name: String,
    #[pickle(dict_items)]
    entries: BTreeMap<String, i64>,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
enum Color {
    Red = 1,
    Green = 2,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
enum Mode {
    #[pickle(value = "fast")]
    Fast,
    #[pickle(value = "slow")]
    Slow,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
enum Shape {
    Circle(#[pickle(arg)] f64),
    Square { side: i64 },
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Pair<A, B>(A, B);

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod", name = "Outer.Inner")]
struct Inner(i64);

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Holder {
    items: Vec<Rc<Inner>>,
}

/// A field type this crate does not own, converted by a `with` module.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod")]
struct Stamp {
    #[pickle(with = duration_as_seconds)]
    when: std::time::Duration,
}

/// A tuple struct with `newobj`: its fields are arguments from protocol 2 and the state
/// below it, where `newobj` has no arguments (left to the default, they were lost there).
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "attrs_mod", newobj)]
struct Coord(
    #[pickle(arg(since = 2), state(until = 1), rename = "x")] i64,
    #[pickle(arg(since = 2), state(until = 1), rename = "y")] String,
);

mod duration_as_seconds {
    pub fn reduce(d: &std::time::Duration) -> f64 {
        d.as_secs_f64()
    }

    pub fn reconstruct(node: super::Node<'_>) -> pickle_core::Result<std::time::Duration> {
        let seconds: f64 = node.get()?;
        std::time::Duration::try_from_secs_f64(seconds).map_err(|e| node.error(e))
    }
}

#[test]
fn each_attribute_pickles_as_cpython_pickles_the_mirrored_class() {
    if !python_available("each_attribute_pickles_as_cpython_pickles_the_mirrored_class") {
        return;
    }
    let plain = Plain { a: 1, b: BTreeMap::from([("k".to_string(), vec![1, 2])]) };
    let empty = Empty;
    let renamed = Renamed { x: "value".into() };
    let both = Both { s: 7, d: "dee".into() };
    let versioned = Versioned { v: 9 };
    let registry = Registry { name: "reg".into(), entries: BTreeMap::from([("a".into(), 1), ("b".into(), 2)]) };
    let colors = vec![Color::Red, Color::Green, Color::Red];
    let modes = (Mode::Fast, Mode::Slow);
    let shapes = vec![Shape::Circle(1.5), Shape::Square { side: 3 }];
    let pair = Pair(1u8, "two".to_string());
    let inner = Rc::new(Inner(5));
    let holder = Holder { items: vec![inner.clone(), inner, Rc::new(Inner(6))] };
    let stamp = Stamp { when: std::time::Duration::from_millis(1500) };
    let coord = Coord(3, "north".into());
    let cases = vec![
        Case::with_python("default shape: a plain class", py("Plain(1, {'k': [1, 2]})"), &plain),
        Case::with_python("default shape: no attributes", py("Empty()"), &empty),
        Case::with_python("rename", py("Renamed('value')"), &renamed),
        Case::with_python("slots with a __dict__ field", py("Both(7, 'dee')"), &both),
        Case::with_python("a role that changes at protocol 2", py("Versioned(9)"), &versioned),
        Case::with_python(
            "dict_items",
            py("(lambda r: (r.__setitem__('a', 1), r.__setitem__('b', 2), r)[2])(Registry('reg'))"),
            &registry,
        ),
        Case::with_python("enum members by discriminant", py("[Color.RED, Color.GREEN, Color.RED]"), &colors),
        Case::with_python("enum members by value", py("(Mode.FAST, Mode.SLOW)"), &modes),
        Case::with_python("data variants as classes", py("[Circle(1.5), Square(3)]"), &shapes),
        Case::with_python("a generic tuple struct", py("Pair(1, 'two')"), &pair),
        Case::with_python(
            "nested qualname, Rc-shared derived values",
            py("(lambda i: Holder([i, i, Outer.Inner(6)]))(Outer.Inner(5))"),
            &holder,
        ),
        Case::with_python("with", py("Stamp(1.5)"), &stamp),
        Case::with_python("a tuple struct with newobj", py("Coord(3, 'north')"), &coord),
    ];
    assert_same_pickles(&cases);
}

/// What CPython writes for each mirrored class loads into the derived type, and the type's
/// own pickle loads back to it, at protocols 0 to 5.
#[test]
fn each_attribute_loads_what_cpython_writes_for_the_mirrored_class() {
    if !python_available("each_attribute_loads_what_cpython_writes_for_the_mirrored_class") {
        return;
    }
    fn check<T: Reconstruct + Reduce + PartialEq + std::fmt::Debug>(name: &str, answers: &[common::Answer], want: &T) {
        for (p, answer) in answers.iter().enumerate() {
            let p = p as u8 + if name.starts_with("slots") { 2 } else { 0 };
            let bytes = answer.as_ref().unwrap_or_else(|e| panic!("{name}: CPython at {p}: {e}"));
            let got: T = loads(bytes).unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"));
            assert_eq!(&got, want, "{name} at protocol {p}");
            let ours: T = loads(&dumps(want, p).unwrap()).unwrap_or_else(|e| panic!("{name}: ours at {p}: {e}"));
            assert_eq!(&ours, want, "{name}: our pickle at protocol {p}");
        }
    }
    let all: Vec<u8> = (0..=5).collect();
    let cases = [
        ("plain", "Plain(1, {'k': [1, 2]})"),
        ("empty", "Empty()"),
        ("rename", "Renamed('value')"),
        ("slots", "Both(7, 'dee')"),
        ("versioned", "Versioned(9)"),
        ("dict_items", "(lambda r: (r.__setitem__('a', 1), r.__setitem__('b', 2), r)[2])(Registry('reg'))"),
        ("colors", "[Color.RED, Color.GREEN, Color.RED]"),
        ("modes", "(Mode.FAST, Mode.SLOW)"),
        ("shapes", "[Circle(1.5), Square(3)]"),
        ("pair", "Pair(1, 'two')"),
        ("holder", "(lambda i: Holder([i, i, Outer.Inner(6)]))(Outer.Inner(5))"),
        ("with", "Stamp(1.5)"),
        ("newobj tuple struct", "Coord(3, 'north')"),
    ];
    let asks: Vec<(String, Vec<u8>)> = cases
        .iter()
        .map(|(name, code)| (py(code), if *name == "slots" { (2..=5).collect() } else { all.clone() }))
        .collect();
    let answers = cpython_dumps(&asks);
    let a = |name: &str| &answers[cases.iter().position(|(n, _)| *n == name).unwrap()][..];
    check("plain", a("plain"), &Plain { a: 1, b: BTreeMap::from([("k".to_string(), vec![1, 2])]) });
    check("empty", a("empty"), &Empty);
    check("rename", a("rename"), &Renamed { x: "value".into() });
    check("slots", a("slots"), &Both { s: 7, d: "dee".into() });
    check("versioned", a("versioned"), &Versioned { v: 9 });
    let entries = BTreeMap::from([("a".into(), 1), ("b".into(), 2)]);
    check("dict_items", a("dict_items"), &Registry { name: "reg".into(), entries });
    check("colors", a("colors"), &vec![Color::Red, Color::Green, Color::Red]);
    check("modes", a("modes"), &(Mode::Fast, Mode::Slow));
    check("shapes", a("shapes"), &vec![Shape::Circle(1.5), Shape::Square { side: 3 }]);
    check("pair", a("pair"), &Pair(1u8, "two".to_string()));
    let inner = Rc::new(Inner(5));
    check("holder", a("holder"), &Holder { items: vec![inner.clone(), inner, Rc::new(Inner(6))] });
    for answer in a("holder") {
        let holder: Holder = loads(answer.as_ref().unwrap()).unwrap();
        assert!(Rc::ptr_eq(&holder.items[0], &holder.items[1]) && !Rc::ptr_eq(&holder.items[0], &holder.items[2]));
    }
    check("with", a("with"), &Stamp { when: std::time::Duration::from_millis(1500) });
    check("newobj tuple struct", a("newobj tuple struct"), &Coord(3, "north".into()));
}

mod hygiene {
    //! The generated code names nothing the user's crate could shadow.
    #![allow(dead_code, non_camel_case_types)]

    struct Result;
    struct Option;
    struct Vec;
    struct String;
    struct Ok;
    struct Some;
    mod pickle_core {}
    mod core {}

    #[derive(::pickle_core::Reduce, ::pickle_core::Reconstruct)]
    #[pickle(module = "m")]
    pub struct Shadowed {
        #[pickle(arg)]
        a: i64,
        b: ::std::vec::Vec<u8>,
        #[pickle(list_items)]
        c: ::std::vec::Vec<i32>,
    }

    #[test]
    fn generated_code_survives_shadowed_names() {
        let v = Shadowed { a: 1, b: ::std::vec![2], c: ::std::vec![3] };
        assert!(::pickle_core::dumps(&v, 2).is_ok());
    }
}

mod reexport {
    //! `#[pickle(crate = "...")]` for crates that re-export pickle_core.
    pub mod my_runtime {
        pub use ::pickle_core as pickle;
    }

    #[derive(::pickle_core::Reduce)]
    #[pickle(crate = "crate::reexport::my_runtime::pickle", module = "m")]
    pub struct ViaReexport(#[pickle(arg)] pub i64);

    #[test]
    fn the_crate_path_can_be_a_reexport() {
        assert_eq!(
            ::pickle_core::dumps(&ViaReexport(1), 2).unwrap(),
            ::pickle_core::dumps(&pickle_core_call(), 2).unwrap()
        );
    }

    fn pickle_core_call() -> ::pickle_core::Value {
        ::pickle_core::Value::object(::pickle_core::Object::new(
            ::pickle_core::Value::global("m", "ViaReexport"),
            ::pickle_core::Value::tuple([1]),
        ))
    }
}

#[test]
fn derived_and_hand_written_agree() {
    // The Point seed both ways: derived here, hand-written in tests/reduce_seeds.rs style.
    #[derive(Reduce)]
    #[pickle(module = "seeds")]
    struct Point(i64, i64);
    struct HandPoint(i64, i64);
    impl Reduce for HandPoint {
        fn reduce_ex(&self, _: u8) -> pickle_core::Result<pickle_core::Reduction<'_>> {
            Ok(pickle_core::Call::new(pickle_core::GlobalName::new("seeds", "Point"), (&self.0, &self.1)).into())
        }
    }
    for p in 0..=5 {
        assert_eq!(pickle_core::dumps(&Point(3, 4), p).unwrap(), pickle_core::dumps(&HandPoint(3, 4), p).unwrap());
    }
}
