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
import collections, dataclasses, functools

Coord = collections.namedtuple('Coord', 'x y')

class Tags(list):
    """A list subclass with an attribute of its own."""

class Bare(list):
    """A list subclass without attributes: no state at any protocol."""

class Registry(dict):
    """A dict subclass with an attribute of its own."""

class Money:
    """Reduced to a classmethod: CPython writes `getattr(Money, 'from_cents')`."""
    def __init__(self, cents):
        self.cents = cents
    @classmethod
    def from_cents(cls, cents):
        return cls(cents)
    def __reduce__(self):
        return (Money.from_cents, (self.cents,))
    def __eq__(self, other):
        return type(other) is Money and other.cents == self.cents

class Report:
    """A lazily cached attribute: `summary` is in `__dict__` once computed, absent before."""
    def __init__(self, title):
        self.title = title
    @functools.cached_property
    def summary(self):
        return self.title.upper()

class Lazy:
    """Nothing but a cached attribute: no state at all until it is computed."""
    @functools.cached_property
    def value(self):
        return 42

class Point3:
    """A slot that may be unset."""
    __slots__ = ('x', 'z')
    def __init__(self, x):
        self.x = x

@dataclasses.dataclass(frozen=True, slots=True)
class Frozen:
    """A frozen slots dataclass: its `__getstate__` returns the field values as a list."""
    x: int
    y: int

class Temp:
    """A tuple state, set back by `__setstate__`."""
    def __init__(self, c, unit):
        self.c, self.unit = c, unit
    def __getstate__(self):
        return (self.c, self.unit)
    def __setstate__(self, state):
        self.c, self.unit = state
    def __eq__(self, other):
        return type(other) is Temp and (other.c, other.unit) == (self.c, self.unit)

class Disk:
    """A cached attribute left out by `__getstate__` and recomputed by `__setstate__`."""
    def __init__(self, r):
        self.r = r
        self.area = 3 * r * r
    def __getstate__(self):
        return {'r': self.r}
    def __setstate__(self, state):
        self.r = state['r']
        self.area = 3 * self.r * self.r

class Point2:
    """`__getnewargs__` returns (x, name), which `__init__` also keeps in `__dict__`."""
    def __new__(cls, x, name):
        return object.__new__(cls)
    def __init__(self, x, name):
        self.x, self.name = x, name
    def __getnewargs__(self):
        return (self.x, self.name)

class Tagged:
    """`__reduce__` calls the class with `tag` and gives `__dict__`, which holds it too."""
    def __init__(self, tag):
        self.tag = tag
        self.count = 0
    def __reduce__(self):
        return (Tagged, (self.tag,), self.__dict__)

class TreeNode:
    """A tree whose children point back at their parent: a cycle."""
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)

class Sensor:
    """Called with its name; the rest is a tuple state for `__setstate__`."""
    def __init__(self, name, low=0, high=0):
        self.name, self.low, self.high = name, low, high
    def __reduce__(self):
        return (Sensor, (self.name,), (self.low, self.high))
    def __setstate__(self, state):
        self.low, self.high = state

import enum

class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1

class Doc:
    """A frozenset attribute (of ints, whose order does not depend on the hash seed)."""
    def __init__(self, pages):
        self.pages = frozenset(pages)

class Branch:
    """A tree node whose children point back at it: `parent` is set before `children`."""
    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)

class Price:
    """Reduced to a staticmethod: a function whose qualname is `Price.make`."""
    def __init__(self, cents):
        self.cents = cents
    @staticmethod
    def make(cents):
        return Price(cents)
    def __reduce__(self):
        return (Price.make, (self.cents,))
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

/// `Money`, whose `__reduce__` returns `(Money.from_cents, (cents,))`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", classmethod = "from_cents")]
struct Money {
    #[pickle(arg)]
    cents: i64,
}

/// `Price`, whose `__reduce__` returns `(Price.make, (cents,))`, a staticmethod: the module
/// and the qualname are told apart by the colon.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", reconstructor = "classes_mod:Price.make")]
struct Price {
    #[pickle(arg)]
    cents: i64,
}

/// `Price` without `module`: the reconstructor's module is the class's.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(name = "Price", reconstructor = "classes_mod:Price.make")]
struct PriceWithoutModule {
    #[pickle(arg)]
    cents: i64,
}

/// `Money` as it was written before `classmethod`: the path split at its last dot, into a
/// module `classes_mod.Money` that does not exist.
#[derive(Reduce, Debug)]
#[pickle(module = "classes_mod", name = "Money", reconstructor = "classes_mod.Money.from_cents")]
struct MoneySplitWrong {
    #[pickle(arg)]
    cents: i64,
}

/// `Report`, whose `functools.cached_property` `summary` may not be computed yet.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct Report {
    title: String,
    #[pickle(absent_if_none)]
    summary: Option<String>,
}

/// `Lazy`: its only attribute is cached, so an instance may have no state.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct Lazy {
    #[pickle(absent_if_none)]
    value: Option<i64>,
}

/// `Point3`, with `__slots__ = ('x', 'z')` and `z` unset until assigned.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", slots)]
struct Point3 {
    x: i64,
    #[pickle(absent_if_none)]
    z: Option<i64>,
}

/// The frozen slots dataclass `Frozen(x, y)`: its state is the list `[x, y]`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", state = [self.x, self.y], from_state = Frozen::from_state)]
struct Frozen {
    x: i64,
    y: i64,
}

impl Frozen {
    fn from_state(state: Vec<i64>) -> Result<Frozen, String> {
        match state[..] {
            [x, y] => Ok(Frozen { x, y }),
            _ => Err(format!("Frozen has two fields, and its state has {} values", state.len())),
        }
    }
}

/// `Temp`, whose `__getstate__` returns `(c, unit)`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", state = (&self.c, &self.unit), from_state = Temp::from_state)]
struct Temp {
    c: f64,
    unit: String,
}

impl Temp {
    fn from_state((c, unit): (f64, String)) -> Temp {
        Temp { c, unit }
    }
}

/// `Disk`: `area` is never pickled, and `__setstate__` computes it again.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", setstate = Disk::recompute)]
struct Disk {
    r: i64,
    #[pickle(skip)]
    area: i64,
}

impl Disk {
    fn recompute(&mut self) {
        self.area = 3 * self.r * self.r;
    }
}

/// `Point2`: from protocol 2 `x` and `name` are arguments of `__new__` and entries of
/// `__dict__` both; below it, entries only.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", newobj)]
struct Point2 {
    #[pickle(arg(since = 2), state)]
    x: i64,
    #[pickle(arg(since = 2), state)]
    name: String,
}

/// `Tagged`: `tag` is the argument of the class and an entry of `__dict__`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct Tagged {
    #[pickle(arg, state)]
    tag: String,
    count: i64,
}

/// A plain dict whose key `note` is there only when set: `#[pickle(dict)]` with an
/// `absent_if_none` field.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Entry {
    id: i64,
    #[pickle(absent_if_none)]
    note: Option<String>,
    tags: Vec<String>,
}

/// `TreeNode` as Rust can hold it: shared children, no parent link (an `Rc` cycle is not
/// held by derived types yet).
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct TreeNode {
    parent: Option<std::rc::Rc<TreeNode>>,
    children: Vec<std::rc::Rc<TreeNode>>,
}

/// `Sensor`: `name` is the argument, assigned after `from_state` made the rest from the
/// tuple state; `setstate` checks the value once it is whole.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(
    module = "classes_mod",
    state = (self.low, self.high),
    from_state = Sensor::from_state,
    setstate = Sensor::check
)]
struct Sensor {
    #[pickle(arg)]
    name: String,
    low: i64,
    high: i64,
}

impl Sensor {
    fn from_state((low, high): (i64, i64)) -> Sensor {
        Sensor { name: String::new(), low, high }
    }

    fn check(&mut self) -> Result<(), String> {
        match self.low <= self.high {
            true => Ok(()),
            false => Err(format!("sensor {}: low {} above high {}", self.name, self.low, self.high)),
        }
    }
}

/// `Perm`, an `enum.Flag`: every combination pickles as `Perm(value)`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct Perm(u8);

/// `Doc`, whose `pages` is a frozenset.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
struct Doc {
    pages: pickle_core::FrozenSet<std::collections::BTreeSet<i64>>,
}

/// Data variants that are a namedtuple and a class built by a classmethod.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod")]
enum Held {
    #[pickle(name = "Coord", newobj, base = "tuple")]
    Coord { x: i64, y: String },
    #[pickle(name = "Money", classmethod = "from_cents")]
    Money(i64),
}

/// `Branch`, held as Rust holds a tree with parent links: nodes in `Rc<RefCell<_>>`, the
/// parent a `Weak`.
#[derive(Reduce, Reconstruct, Debug, Default)]
#[pickle(module = "classes_mod")]
struct Branch {
    name: String,
    parent: Option<std::rc::Weak<std::cell::RefCell<Branch>>>,
    children: Vec<std::rc::Rc<std::cell::RefCell<Branch>>>,
}

/// A root with two children, each pointing back at it.
fn tree() -> std::rc::Rc<std::cell::RefCell<Branch>> {
    let root = std::rc::Rc::new(std::cell::RefCell::new(Branch { name: "root".into(), ..Branch::default() }));
    for name in ["a", "b"] {
        let parent = Some(std::rc::Rc::downgrade(&root));
        let child = Branch { name: name.into(), parent, children: vec![] };
        root.borrow_mut().children.push(std::rc::Rc::new(std::cell::RefCell::new(child)));
    }
    root
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
    check_loads_from(0, name, code, want)
}

/// [`check_loads`] from protocol `lowest` (2 for `__slots__`, which CPython refuses below).
fn check_loads_from<T: Reconstruct + Reduce + PartialEq + std::fmt::Debug>(
    lowest: u8,
    name: &str,
    code: &str,
    want: &T,
) {
    let answers = cpython_dumps(&[(py(code), (lowest..=5).collect())]);
    for (p, answer) in (lowest..).zip(&answers[0]) {
        let bytes = answer.as_ref().unwrap_or_else(|e| panic!("{name}: CPython at {p}: {e}"));
        let got: T = loads(bytes).unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"));
        assert_eq!(&got, want, "{name} at protocol {p}");
        let ours: T = loads(&dumps(want, p).unwrap()).unwrap_or_else(|e| panic!("{name}: ours at {p}: {e}"));
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

#[test]
fn class_attributes_as_callables_pickle_and_load_as_in_cpython() {
    if !python_available("class_attributes_as_callables_pickle_and_load_as_in_cpython") {
        return;
    }
    let money = Money { cents: 250 };
    let two = vec![Money { cents: 1 }, Money { cents: 2 }];
    let price = Price { cents: 99 };
    let prices = vec![Price { cents: 1 }, Price { cents: 2 }];
    assert_same_pickles(&[
        Case::with_python("classmethod", py("Money(250)"), &money),
        Case::with_python("two classmethod calls", py("[Money(1), Money(2)]"), &two),
        Case::with_python("staticmethod", py("Price(99)"), &price),
        Case::with_python("two staticmethod calls", py("[Price(1), Price(2)]"), &prices),
        Case::with_python("no module but the reconstructor's", py("Price(99)"), &PriceWithoutModule { cents: 99 }),
    ]);
    check_loads("no module but the reconstructor's", "Price(99)", &PriceWithoutModule { cents: 99 });
    check_loads("classmethod", "Money(250)", &money);
    check_loads("two classmethod calls", "[Money(1), Money(2)]", &two);
    check_loads("staticmethod", "Price(99)", &price);
}

#[test]
fn a_callable_split_in_the_wrong_place_is_told_apart_on_load() {
    for protocol in 0..=5 {
        let bytes = dumps(&MoneySplitWrong { cents: 1 }, protocol).unwrap();
        let error = loads::<Money>(&bytes).unwrap_err().to_string();
        assert!(
            error.contains("`classes_mod:Money.from_cents`") && error.contains("`classes_mod.Money:from_cents`"),
            "protocol {protocol}: {error}"
        );
    }
}

const COMPUTED_REPORT: &str = "(lambda r: (r.summary, r)[1])(Report('q'))";
const COMPUTED_LAZY: &str = "(lambda l: (l.value, l)[1])(Lazy())";
const POINT3_WITH_Z: &str = "(lambda p: (setattr(p, 'z', 3), p)[1])(Point3(1))";

#[test]
fn absent_attributes_are_left_out_and_load_as_none() {
    if !python_available("absent_attributes_are_left_out_and_load_as_none") {
        return;
    }
    let fresh = Report { title: "q".into(), summary: None };
    let computed = Report { title: "q".into(), summary: Some("Q".into()) };
    let (lazy, cached) = (Lazy { value: None }, Lazy { value: Some(42) });
    let (unset, set) = (Point3 { x: 1, z: None }, Point3 { x: 1, z: Some(3) });
    assert_same_pickles(&[
        Case::with_python("cached attribute not computed", py("Report('q')"), &fresh),
        Case::with_python("cached attribute computed", py(COMPUTED_REPORT), &computed),
        Case::with_python("no attribute at all", py("Lazy()"), &lazy),
        Case::with_python("only a cached attribute", py(COMPUTED_LAZY), &cached),
        Case::with_python("unset slot", py("Point3(1)"), &unset),
        Case::with_python("set slot", py(POINT3_WITH_Z), &set),
    ]);
    check_loads("cached attribute not computed", "Report('q')", &fresh);
    check_loads("cached attribute computed", COMPUTED_REPORT, &computed);
    check_loads("no attribute at all", "Lazy()", &lazy);
    check_loads("only a cached attribute", COMPUTED_LAZY, &cached);
    check_loads_from(2, "unset slot", "Point3(1)", &unset);
    let (bare, noted) =
        (Entry { id: 1, note: None, tags: vec!["a".into()] }, Entry { id: 2, note: Some("n".into()), tags: vec![] });
    const BARE: &str = "{'id': 1, 'tags': ['a']}";
    const NOTED: &str = "{'id': 2, 'note': 'n', 'tags': []}";
    assert_same_pickles(&[
        Case::with_python("dict without the key", py(BARE), &bare),
        Case::with_python("dict with the key", py(NOTED), &noted),
    ]);
    check_loads("dict without the key", BARE, &bare);
    check_loads("dict with the key", NOTED, &noted);
    check_loads_from(2, "set slot", POINT3_WITH_Z, &set);
}

#[test]
fn custom_states_load_through_from_state_and_setstate() {
    if !python_available("custom_states_load_through_from_state_and_setstate") {
        return;
    }
    let frozen = Frozen { x: 1, y: 2 };
    let temp = Temp { c: 21.5, unit: "C".into() };
    let disk = Disk { r: 2, area: 12 };
    assert_same_pickles(&[
        Case::with_python("frozen slots dataclass", py("Frozen(1, 2)"), &frozen),
        Case::with_python("tuple state", py("Temp(21.5, 'C')"), &temp),
        Case::with_python("state without the cached attribute", py("Disk(2)"), &disk),
    ]);
    check_loads("frozen slots dataclass", "Frozen(1, 2)", &frozen);
    check_loads("tuple state", "Temp(21.5, 'C')", &temp);
    check_loads("state without the cached attribute", "Disk(2)", &disk);
    let sensor = Sensor { name: "t1".into(), low: 1, high: 5 };
    assert_same_pickles(&[Case::with_python("argument and tuple state", py("Sensor('t1', 1, 5)"), &sensor)]);
    check_loads("argument and tuple state", "Sensor('t1', 1, 5)", &sensor);
    let answers = cpython_dumps(&[(py("Sensor('t2', 9, 5)"), vec![2])]);
    let error = loads::<Sensor>(answers[0][0].as_ref().unwrap()).unwrap_err().to_string();
    assert!(error.contains("sensor t2: low 9 above high 5"), "{error}");
}

/// A `Frozen` whose state has three values, which `Frozen::from_state` refuses.
#[derive(Reduce)]
#[pickle(module = "classes_mod", name = "Frozen", state = [1i64, 2, 3])]
struct FrozenOfThree;

#[test]
fn a_from_state_error_is_the_load_error() {
    for protocol in 0..=5 {
        let bytes = dumps(&FrozenOfThree, protocol).unwrap();
        let error = loads::<Frozen>(&bytes).unwrap_err().to_string();
        assert!(error.contains("its state has 3 values"), "protocol {protocol}: {error}");
    }
}

#[test]
fn an_argument_kept_in_the_dict_too_is_written_twice_as_one_object() {
    if !python_available("an_argument_kept_in_the_dict_too_is_written_twice_as_one_object") {
        return;
    }
    let point = Point2 { x: 3, name: "p".into() };
    let tagged = Tagged { tag: "t".into(), count: 0 };
    assert_same_pickles(&[
        Case::with_python("__getnewargs__ and __dict__", py("Point2(3, 'p')"), &point),
        Case::with_python("__reduce__ with __dict__", py("Tagged('t')"), &tagged),
        Case::with_python("longer names", py("Point2(3, 'name' * 3)"), &Point2 { x: 3, name: "name".repeat(3) }),
    ]);
    check_loads("__getnewargs__ and __dict__", "Point2(3, 'p')", &point);
    check_loads("__reduce__ with __dict__", "Tagged('t')", &tagged);
}

#[test]
fn a_cycle_through_a_parent_link_is_refused_with_the_type_as_written() {
    if !python_available("a_cycle_through_a_parent_link_is_refused_with_the_type_as_written") {
        return;
    }
    let answers = cpython_dumps(&[(py("(lambda root: (TreeNode(root), root)[1])(TreeNode())"), (0..=5).collect())]);
    for (p, answer) in answers[0].iter().enumerate() {
        let error = loads::<TreeNode>(answer.as_ref().unwrap()).unwrap_err().to_string();
        assert!(error.contains("contains itself, and a `Rc<TreeNode>` cannot"), "protocol {p}: {error}");
    }
}

/// A Python int of any size in a derived field, through `pickle_core::BigInt` alone.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "classes_mod", name = "Report")]
struct Huge {
    title: pickle_core::BigInt,
}

#[test]
fn a_bigint_field_needs_no_dependency_of_its_own() {
    let huge = Huge { title: pickle_core::BigInt::from(1u128 << 100) };
    for protocol in 0..=5 {
        assert_eq!(loads::<Huge>(&dumps(&huge, protocol).unwrap()).unwrap(), huge);
    }
}

#[test]
fn flag_combinations_pickle_as_their_value() {
    if !python_available("flag_combinations_pickle_as_their_value") {
        return;
    }
    let (read, read_write) = (Perm(4), Perm(6));
    assert_same_pickles(&[
        Case::with_python("one flag", py("Perm.R"), &read),
        Case::with_python("two flags", py("Perm.R | Perm.W"), &read_write),
    ]);
    check_loads("two flags", "Perm.R | Perm.W", &read_write);
}

#[test]
fn a_frozenset_field_pickles_as_frozenset() {
    if !python_available("a_frozenset_field_pickles_as_frozenset") {
        return;
    }
    let doc = Doc { pages: pickle_core::FrozenSet([1, 2, 3].into()) };
    assert_same_pickles(&[Case::with_python("frozenset attribute", py("Doc([3, 1, 2])"), &doc)]);
    check_loads("frozenset attribute", "Doc([3, 1, 2])", &doc);
}

#[test]
fn data_variants_take_a_base_and_a_classmethod() {
    if !python_available("data_variants_take_a_base_and_a_classmethod") {
        return;
    }
    let held = vec![Held::Coord { x: 3, y: "north".into() }, Held::Money(5)];
    assert_same_pickles(&[Case::with_python("variants", py("[Coord(3, 'north'), Money(5)]"), &held)]);
    check_loads("variants", "[Coord(3, 'north'), Money(5)]", &held);
}

const TREE: &str = "(lambda root: (Branch('a', root), Branch('b', root), root)[2])(Branch('root'))";

#[test]
fn a_tree_with_parent_links_pickles_and_loads_through_weak() {
    if !python_available("a_tree_with_parent_links_pickles_and_loads_through_weak") {
        return;
    }
    let root = tree();
    assert_same_pickles(&[Case::with_python("tree with parent links", py(TREE), &root)]);
    let answers = cpython_dumps(&[(py(TREE), (0..=5).collect())]);
    for (p, answer) in answers[0].iter().enumerate() {
        let loaded: std::rc::Rc<std::cell::RefCell<Branch>> = loads(answer.as_ref().unwrap()).unwrap();
        let root = loaded.borrow();
        assert_eq!(root.name, "root", "protocol {p}");
        assert!(root.parent.is_none(), "protocol {p}");
        let names: Vec<String> = root.children.iter().map(|c| c.borrow().name.clone()).collect();
        assert_eq!(names, ["a", "b"], "protocol {p}");
        for child in &root.children {
            let parent = child.borrow().parent.as_ref().and_then(std::rc::Weak::upgrade).expect("a live parent");
            assert!(std::rc::Rc::ptr_eq(&parent, &loaded), "protocol {p}: the child points at the root");
        }
    }
}
