//! The class shapes of issue 18 that the derive once could not mirror, each checked against
//! CPython at every protocol: the Rust mirror pickles to CPython's bytes (so CPython loads it
//! to an equal object), and CPython's pickle loads into the mirror with the right values.

mod common;

use std::collections::BTreeMap;

use common::{assert_same_pickles, cpython_dumps, python_available, Case};
use pickle_core::{dumps, loads, Reconstruct, Reduce};

/// The Python classes the derived types mirror, in a module `classes_mod` made on the fly
/// so that pickle can find them.
const PYTHON_CLASSES: &str = r#"
import sys, types
m = types.ModuleType('classes_mod'); sys.modules['classes_mod'] = m
exec('''
import collections

Coord = collections.namedtuple('Coord', 'x y')

class Tags(list):
    """A list subclass with an attribute of its own."""

class Bare(list):
    """A list subclass without attributes: no state at any protocol."""

class Registry(dict):
    """A dict subclass with an attribute of its own."""
''', m.__dict__)
"#;

fn py(expr: &str) -> String {
    format!("{PYTHON_CLASSES}\nfrom classes_mod import *\nvalue = {expr}")
}

/// `collections.namedtuple('Coord', 'x y')`: `__newobj__(Coord, x, y)` from protocol 2 and
/// `_reconstructor(Coord, tuple, (x, y))` below it.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", newobj, base = "tuple")]
struct Coord {
    x: i64,
    y: String,
}

/// `class Tags(list)` with `self.owner`: `_reconstructor(Tags, list, [items])` and the
/// `__dict__` below protocol 2; `__newobj__(Tags)`, APPENDS and the `__dict__` from 2.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", base = "list")]
struct Tags {
    #[pickle(list_items)]
    items: Vec<String>,
    owner: String,
}

/// `class Bare(list)` with no attributes.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", base = "list")]
struct Bare {
    #[pickle(list_items)]
    items: Vec<i64>,
}

/// `class Registry(dict)` with `self.label`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", base = "dict")]
struct Registry {
    #[pickle(dict_items)]
    entries: BTreeMap<String, i64>,
    label: String,
}

fn coord() -> Coord {
    Coord { x: 3, y: "north".into() }
}

fn tags() -> Tags {
    Tags { items: vec!["a".into(), "b".into()], owner: "me".into() }
}

fn registry() -> Registry {
    Registry { entries: BTreeMap::from([("a".into(), 1), ("b".into(), 2)]), label: "reg".into() }
}

const TAGS: &str = "(lambda t: (setattr(t, 'owner', 'me'), t)[1])(Tags(['a', 'b']))";
const REGISTRY: &str = "(lambda r: (setattr(r, 'label', 'reg'), r)[1])(Registry(a=1, b=2))";

#[test]
fn builtin_bases_pickle_as_cpython_pickles_them() {
    if !python_available("builtin_bases_pickle_as_cpython_pickles_them") {
        return;
    }
    let (coord, tags, registry) = (coord(), tags(), registry());
    let bare = Bare { items: vec![1, 2] };
    let empty = Bare { items: vec![] };
    assert_same_pickles(&[
        Case::with_python("namedtuple", py("Coord(3, 'north')"), &coord),
        Case::with_python("list subclass", py(TAGS), &tags),
        Case::with_python("list subclass without attributes", py("Bare([1, 2])"), &bare),
        Case::with_python("empty list subclass", py("Bare()"), &empty),
        Case::with_python("dict subclass", py(REGISTRY), &registry),
    ]);
}

/// Loads CPython's pickle at each protocol into `T`, and our own pickle back.
fn check_loads<T: Reconstruct + Reduce + PartialEq + std::fmt::Debug>(name: &str, code: &str, want: &T) {
    let answers = cpython_dumps(&[(py(code), (0..=5).collect())]);
    for (p, answer) in answers[0].iter().enumerate() {
        let bytes = answer.as_ref().unwrap_or_else(|e| panic!("{name}: CPython at {p}: {e}"));
        let got: T = loads(bytes).unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"));
        assert_eq!(&got, want, "{name} at protocol {p}");
        let ours: T = loads(&dumps(want, p as u8).unwrap()).unwrap_or_else(|e| panic!("{name}: ours at {p}: {e}"));
        assert_eq!(&ours, want, "{name}: our pickle at protocol {p}");
    }
}

#[test]
fn builtin_bases_load_what_cpython_writes() {
    if !python_available("builtin_bases_load_what_cpython_writes") {
        return;
    }
    check_loads("namedtuple", "Coord(3, 'north')", &coord());
    check_loads("list subclass", TAGS, &tags());
    check_loads("list subclass without attributes", "Bare([1, 2])", &Bare { items: vec![1, 2] });
    check_loads("dict subclass", REGISTRY, &registry());
}
