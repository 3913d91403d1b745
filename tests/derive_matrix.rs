//! Many attribute types through a few class shapes, each checked against CPython at every
//! protocol: a plain class `One(value)`, a namedtuple `Two(first, second)` and a list
//! subclass `Many` holding the values. The Rust mirrors are generic, so one derive serves
//! every type; the bytes must be CPython's and CPython's pickles must load back.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use common::{assert_same_pickles, cpython_dumps, python_available, Case};
use pickle_core::{dumps, loads, BigInt, Bytes, FrozenSet, Reconstruct, Reduce};

const PYTHON_CLASSES: &str = r#"
import sys, types
m = types.ModuleType('matrix_mod'); sys.modules['matrix_mod'] = m
exec('''
import collections

class One:
    def __init__(self, value):
        self.value = value

Two = collections.namedtuple('Two', 'first second')

class Many(list):
    pass
''', m.__dict__)
from matrix_mod import *
"#;

/// `One(value)`: a plain class with one attribute.
#[derive(Reduce, Reconstruct, Debug, PartialEq, Clone)]
#[pickle(module = "matrix_mod")]
struct One<T> {
    value: T,
}

/// `Two(first, second)`: a namedtuple.
#[derive(Reduce, Reconstruct, Debug, PartialEq, Clone)]
#[pickle(module = "matrix_mod", newobj, base = "tuple")]
struct Two<A, B> {
    first: A,
    second: B,
}

/// `Many([...])`: a list subclass.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "matrix_mod", base = "list")]
struct Many<T> {
    #[pickle(list_items)]
    items: Vec<T>,
}

/// Checks one value in the three shapes: bytes equal to CPython's, CPython's pickles load.
fn check<T>(name: &str, python: &str, value: T)
where
    T: Reduce + Reconstruct + Clone + PartialEq + Debug + 'static,
{
    let one = One { value: value.clone() };
    let two = Two { first: value.clone(), second: 1i64 };
    let many = Many { items: vec![value.clone(), value] };
    let shapes = [format!("One({python})"), format!("Two({python}, 1)"), format!("Many([{python}, {python}])")];
    let code = |expr: &str| format!("{PYTHON_CLASSES}\nvalue = {expr}");
    assert_same_pickles(&[
        Case::with_python(format!("One of {name}"), code(&shapes[0]), &one),
        Case::with_python(format!("Two of {name}"), code(&shapes[1]), &two),
        Case::with_python(format!("Many of {name}"), code(&shapes[2]), &many),
    ]);
    let asks: Vec<(String, Vec<u8>)> = shapes.iter().map(|s| (code(s), (0..=5).collect())).collect();
    let answers = cpython_dumps(&asks);
    for p in 0..=5u8 {
        let bytes = |shape: usize| answers[shape][p as usize].as_ref().unwrap().clone();
        assert_eq!(loads::<One<T>>(&bytes(0)).unwrap(), one, "One of {name} at protocol {p}");
        assert_eq!(loads::<Two<T, i64>>(&bytes(1)).unwrap(), two, "Two of {name} at protocol {p}");
        assert_eq!(loads::<Many<T>>(&bytes(2)).unwrap(), many, "Many of {name} at protocol {p}");
        assert_eq!(loads::<One<T>>(&dumps(&one, p).unwrap()).unwrap(), one, "our One of {name} at {p}");
    }
}

#[test]
fn attribute_types_in_three_class_shapes_match_cpython() {
    if !python_available("attribute_types_in_three_class_shapes_match_cpython") {
        return;
    }
    check("int", "7", 7i64);
    check("negative big int", "-2**70", -(BigInt::from(1u8) << 70u32));
    check("float", "2.5", 2.5f64);
    check("bool", "True", true);
    check("None", "None", None::<i64>);
    // S(...) and B(...) (tests/common/cpython.py) keep equal literals separate objects, as two
    // Rust values are; the compiler would merge them.
    check("str", "S('héllo')", "héllo".to_owned());
    check("empty str", "''", String::new());
    check("bytes", "B(b'\\x00\\xff')", Bytes(vec![0u8, 255]));
    check("list", "[1, 2, 3]", vec![1i64, 2, 3]);
    check("tuple", "tuple([1, S('ab')])", (1i64, "ab".to_owned()));
    check("dict", "{'a': 1, 'b': 2}", BTreeMap::from([("a".to_owned(), 1i64), ("b".to_owned(), 2)]));
    check("set", "{1, 2}", BTreeSet::from([1i64, 2]));
    check("frozenset", "frozenset({1, 2})", FrozenSet(BTreeSet::from([1i64, 2])));
    check("nested class", "One(3)", One { value: 3i64 });
    check("nested namedtuple", "Two(S('xy'), 1)", Two { first: "xy".to_owned(), second: 1i64 });
}
