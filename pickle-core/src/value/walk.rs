//! The traversals of a [`Value`] that must not recurse: drop, equality and `repr`.
//!
//! A pickle of a million nested lists decodes into a `Value` a million levels deep; the
//! compiler-generated drop, `==` and `Display` would each use one native stack frame per
//! level and overflow. These walk the graph with an explicit stack instead.

use std::collections::HashSet;
use std::fmt::{self, Write};
use std::sync::Arc;

use super::repr::{bytes_repr, float_repr, str_repr};
use super::shared::EMPTY_NODE;
use super::{Object, Value};

// ----- drop -----

impl Value {
    /// Whether dropping this value may have to walk values below it.
    ///
    /// A node with other owners is not freed by this drop, which only counts one owner
    /// less: walking it took the node out and put a stand-in back, five atomic operations,
    /// four on the stand-in's one counter (most of dropping data with shared dict keys). If
    /// the other owners go in the meantime, the node is freed by its `Arc`, and its value
    /// walked by a drop of its own.
    #[inline]
    fn owns_values(&self) -> bool {
        match self {
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => !v.is_empty(),
            Value::Dict(v) => !v.is_empty(),
            Value::Object(_) | Value::PersistentId(_) => true,
            Value::Shared(s) => Arc::strong_count(&s.0) == 1,
            _ => false,
        }
    }

    /// Moves every child that owns values of its own to `pending`, dropping the others here.
    fn move_children_to(&mut self, pending: &mut Vec<Value>) {
        let mut keep = |v: Value| {
            if v.owns_values() {
                pending.push(v);
            }
        };
        match self {
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => v.drain(..).for_each(&mut keep),
            Value::Dict(v) => v.drain(..).for_each(|(k, v)| {
                keep(k);
                keep(v);
            }),
            Value::Object(o) => {
                let o = &mut **o;
                keep(std::mem::take(&mut o.callable));
                keep(std::mem::take(&mut o.args));
                o.state.take().into_iter().for_each(&mut keep);
                o.state_setter.take().into_iter().for_each(&mut keep);
                o.list_items.drain(..).for_each(&mut keep);
                o.dict_items.drain(..).for_each(|(k, v)| {
                    keep(k);
                    keep(v);
                });
            }
            Value::PersistentId(v) => keep(std::mem::take(&mut **v)),
            Value::Shared(s) => {
                // Take the node out; if this was its last owner, its value is ours to free.
                let node = std::mem::replace(&mut s.0, Arc::clone(&EMPTY_NODE));
                if let Some(node) = Arc::into_inner(node) {
                    node.value.into_inner().into_iter().for_each(&mut keep);
                }
            }
            _ => {}
        }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        if !self.owns_values() {
            return;
        }
        let mut pending = Vec::new();
        self.move_children_to(&mut pending);
        while let Some(mut v) = pending.pop() {
            v.move_children_to(&mut pending);
        }
    }
}

impl Clone for Value {
    /// A deep copy, except that [`Shared`](super::Shared) nodes are shared, not copied.
    fn clone(&self) -> Value {
        match self {
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::BigInt(i) => Value::BigInt(i.clone()),
            Value::Float(f) => Value::Float(*f),
            Value::Str(s) => Value::Str(s.clone()),
            Value::Bytes(b) => Value::Bytes(b.clone()),
            Value::ByteArray(b) => Value::ByteArray(b.clone()),
            Value::Tuple(v) => Value::Tuple(v.clone()),
            Value::List(v) => Value::List(v.clone()),
            Value::Dict(v) => Value::Dict(v.clone()),
            Value::Set(v) => Value::Set(v.clone()),
            Value::FrozenSet(v) => Value::FrozenSet(v.clone()),
            Value::Global(g) => Value::Global(g.clone()),
            Value::Object(o) => Value::Object(o.clone()),
            Value::PersistentId(v) => Value::PersistentId(v.clone()),
            Value::Shared(s) => Value::Shared(s.clone()),
            Value::Cycle(c) => Value::Cycle(c.clone()),
        }
    }
}

// ----- equality -----

/// The node a value is a reference to, if it is one.
fn node_id(v: &Value) -> Option<usize> {
    match v {
        Value::Shared(s) => Some(s.id()),
        Value::Cycle(c) => Some(c.id()),
        _ => None,
    }
}

impl PartialEq for Value {
    /// Structural equality of the data.
    ///
    /// References are looked through: `Shared(x)` equals a plain value equal to `x`, and
    /// how objects are shared does not matter. Floats compare by bit pattern (a NaN equals
    /// the same NaN; `0.0 != -0.0`), ints by number (`Int(5) == BigInt(5)`). A pair of nodes
    /// is compared once, so cycles end; a `Cycle` link, met in whatever order, must close
    /// on a node that was compared with the node on the other side.
    fn eq(&self, other: &Value) -> bool {
        let mut pending: Vec<(&Value, &Value)> = vec![(self, other)];
        let mut compared: HashSet<(usize, usize)> = HashSet::new();
        let mut links: Vec<(usize, usize)> = Vec::new();
        while let Some((a, b)) = pending.pop() {
            let (a, b) = match (node_id(a), node_id(b)) {
                (Some(x), Some(y)) if x == y => continue,
                (Some(x), Some(y)) => match (a, b) {
                    (Value::Shared(s), Value::Shared(t)) if compared.insert((x, y)) => match (s.get(), t.get()) {
                        (Some(v), Some(w)) => (v, w),
                        _ => return false,
                    },
                    (Value::Shared(_), Value::Shared(_)) => continue,
                    _ => {
                        links.push((x, y));
                        continue;
                    }
                },
                (Some(_), None) => match a {
                    Value::Shared(s) => match s.get() {
                        Some(v) => (v, b),
                        None => return false,
                    },
                    _ => return false,
                },
                (None, Some(_)) => match b {
                    Value::Shared(t) => match t.get() {
                        Some(w) => (a, w),
                        None => return false,
                    },
                    _ => return false,
                },
                (None, None) => (a, b),
            };
            if node_id(a).is_some() || node_id(b).is_some() {
                // A chain of nodes: one more step through it.
                pending.push((a, b));
                continue;
            }
            if !shallow_eq(a, b, &mut pending) {
                return false;
            }
        }
        links.iter().all(|pair| compared.contains(pair))
    }
}

/// Compares two non-reference values at the top, queueing their children.
fn shallow_eq<'a>(a: &'a Value, b: &'a Value, pending: &mut Vec<(&'a Value, &'a Value)>) -> bool {
    fn items<'a>(x: &'a [Value], y: &'a [Value], pending: &mut Vec<(&'a Value, &'a Value)>) -> bool {
        x.len() == y.len() && {
            pending.extend(x.iter().zip(y));
            true
        }
    }
    fn pairs<'a>(x: &'a [(Value, Value)], y: &'a [(Value, Value)], pending: &mut Vec<(&'a Value, &'a Value)>) -> bool {
        x.len() == y.len() && {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                pending.push((k1, k2));
                pending.push((v1, v2));
            }
            true
        }
    }
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Int(x), Value::BigInt(y)) | (Value::BigInt(y), Value::Int(x)) => **y == (*x).into(),
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) | (Value::ByteArray(x), Value::ByteArray(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y))
        | (Value::List(x), Value::List(y))
        | (Value::Set(x), Value::Set(y))
        | (Value::FrozenSet(x), Value::FrozenSet(y)) => items(x, y, pending),
        (Value::Dict(x), Value::Dict(y)) => pairs(x, y, pending),
        (Value::Global(x), Value::Global(y)) => x == y,
        (Value::PersistentId(x), Value::PersistentId(y)) => {
            pending.push((x, y));
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            let (x, y): (&Object, &Object) = (x, y);
            if x.state.is_some() != y.state.is_some() || x.state_setter.is_some() != y.state_setter.is_some() {
                return false;
            }
            pending.push((&x.callable, &y.callable));
            pending.push((&x.args, &y.args));
            pending.extend(x.state.iter().zip(&y.state));
            pending.extend(x.state_setter.iter().zip(&y.state_setter));
            items(&x.list_items, &y.list_items, pending) && pairs(&x.dict_items, &y.dict_items, pending)
        }
        _ => false,
    }
}

// ----- repr -----

/// One step of printing: a value to print, or the rest of a container.
enum Step<'a> {
    Value(&'a Value),
    Text(&'static str),
    Items { items: std::slice::Iter<'a, Value>, close: &'static str, count: usize, tuple: bool },
    Pairs { pairs: std::slice::Iter<'a, (Value, Value)>, close: &'static str, count: usize },
}

impl fmt::Display for Value {
    /// Python `repr` syntax: `[1, 'a', (2,), {b'k': None}]`. A reduced object prints as its
    /// call, `module.Name(args)`, followed by what is applied to it; the reference that
    /// closes a cycle prints as `[...]`, as Python prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print_steps(vec![Step::Value(self)], f)
    }
}

/// Runs the printing steps until none are left.
fn print_steps<'a>(mut steps: Vec<Step<'a>>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    while let Some(step) = steps.pop() {
        match step {
            Step::Text(t) => f.write_str(t)?,
            Step::Items { mut items, close, count, tuple } => match items.next() {
                Some(item) => {
                    if count > 0 {
                        f.write_str(", ")?;
                    }
                    steps.push(Step::Items { items, close, count: count + 1, tuple });
                    steps.push(Step::Value(item));
                }
                None => {
                    if tuple && count == 1 {
                        f.write_char(',')?;
                    }
                    f.write_str(close)?;
                }
            },
            Step::Pairs { mut pairs, close, count } => match pairs.next() {
                Some((k, v)) => {
                    if count > 0 {
                        f.write_str(", ")?;
                    }
                    steps.push(Step::Pairs { pairs, close, count: count + 1 });
                    steps.push(Step::Value(v));
                    steps.push(Step::Text(": "));
                    steps.push(Step::Value(k));
                }
                None => f.write_str(close)?,
            },
            Step::Value(v) => print_one(v, f, &mut steps)?,
        }
    }
    Ok(())
}

/// Prints an atom, or the opening of a container and queues the rest.
fn print_one<'a>(v: &'a Value, f: &mut fmt::Formatter<'_>, steps: &mut Vec<Step<'a>>) -> fmt::Result {
    let items = |open: &'static str, items: &'a [Value], close: &'static str, tuple: bool| {
        (open, Step::Items { items: items.iter(), close, count: 0, tuple })
    };
    let (open, rest) = match v {
        Value::None => return f.write_str("None"),
        Value::Bool(b) => return f.write_str(if *b { "True" } else { "False" }),
        Value::Int(i) => return write!(f, "{i}"),
        Value::BigInt(i) => return write!(f, "{i}"),
        Value::Float(x) => return f.write_str(&float_repr(*x)),
        Value::Str(s) => return f.write_str(&str_repr(s.code_points())),
        Value::Bytes(b) => return f.write_str(&bytes_repr(b)),
        Value::ByteArray(b) => return write!(f, "bytearray({})", bytes_repr(b)),
        Value::Global(g) => return write!(f, "{}.{}", g.module, g.name),
        Value::Cycle(c) => {
            let shape = match c.upgrade().as_ref().and_then(|s| s.get()) {
                Some(Value::List(_)) => "[...]",
                Some(Value::Dict(_)) => "{...}",
                Some(Value::Tuple(_)) => "(...)",
                _ => "...",
            };
            return f.write_str(shape);
        }
        Value::Shared(s) => match s.get() {
            Some(inner) => {
                steps.push(Step::Value(inner));
                return Ok(());
            }
            None => return f.write_str("<unset shared object>"),
        },
        Value::PersistentId(id) => {
            steps.push(Step::Text(")"));
            steps.push(Step::Value(id));
            return f.write_str("persistent_id(");
        }
        Value::Object(o) => {
            queue_object(o, steps);
            return Ok(());
        }
        Value::Tuple(v) => items("(", v, ")", true),
        Value::List(v) => items("[", v, "]", false),
        Value::Set(v) if v.is_empty() => return f.write_str("set()"),
        Value::Set(v) => items("{", v, "}", false),
        Value::FrozenSet(v) if v.is_empty() => return f.write_str("frozenset()"),
        Value::FrozenSet(v) => items("frozenset({", v, "})", false),
        Value::Dict(p) => ("{", Step::Pairs { pairs: p.iter(), close: "}", count: 0 }),
    };
    steps.push(rest);
    f.write_str(open)
}

/// Queues `callable(args)`, then `.__setstate__(state)` (or `state_setter(obj, state)`),
/// `.extend([...])` and `.update({...})` for what is applied after the call.
fn queue_object<'a>(o: &'a Object, steps: &mut Vec<Step<'a>>) {
    if !o.dict_items.is_empty() {
        steps.push(Step::Pairs { pairs: o.dict_items.iter(), close: "})", count: 0 });
        steps.push(Step::Text(".update({"));
    }
    if !o.list_items.is_empty() {
        steps.push(Step::Items { items: o.list_items.iter(), close: "])", count: 0, tuple: false });
        steps.push(Step::Text(".extend(["));
    }
    if let Some(state) = &o.state {
        steps.push(Step::Text(")"));
        steps.push(Step::Value(state));
        match &o.state_setter {
            Some(setter) => {
                steps.push(Step::Text(".__setstate__ via "));
                steps.push(Step::Value(setter));
                steps.push(Step::Text("("));
            }
            None => steps.push(Step::Text(".__setstate__(")),
        }
    }
    match &o.args {
        Value::Tuple(args) => {
            steps.push(Step::Items { items: args.iter(), close: ")", count: 0, tuple: false });
            steps.push(Step::Text("("));
        }
        other => {
            steps.push(Step::Text(")"));
            steps.push(Step::Value(other));
            steps.push(Step::Text("(*"));
        }
    }
    steps.push(Step::Value(&o.callable));
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut steps = Vec::new();
        queue_object(self, &mut steps);
        print_steps(steps, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Global, Shared};
    use super::*;

    fn nested(depth: usize) -> Value {
        let mut v = Value::List(vec![]);
        for _ in 0..depth {
            v = Value::List(vec![v]);
        }
        v
    }

    #[test]
    fn a_million_levels_drop_compare_and_print_without_recursion() {
        let a = nested(1_000_000);
        let b = nested(1_000_000);
        assert!(a == b);
        let text = a.to_string();
        assert_eq!(text.len(), 2_000_002);
        drop(a);
        drop(b);
    }

    /// A node reached twice is freed by the walk where its last owner goes, not by its
    /// `Arc` (which would recurse a level per node); one owned outside keeps its value.
    #[test]
    fn a_million_levels_of_nodes_reached_twice_drop_without_recursion() {
        let mut v = Value::List(vec![]);
        for _ in 0..1_000_000 {
            let node = v.shared();
            v = Value::List(vec![node.clone(), node]);
        }
        let Value::List(items) = &v else { unreachable!("built as a list") };
        let kept = items[0].clone();
        drop(v);
        let Value::Shared(node) = &kept else { unreachable!("built as a node") };
        assert!(matches!(node.get(), Some(Value::List(items)) if items.len() == 2));
    }

    #[test]
    fn repr_matches_python() {
        let v = Value::list([
            Value::None,
            Value::Bool(true),
            Value::from(-3),
            Value::from(1.0),
            Value::str("it's"),
            Value::bytes(b"\x00a".to_vec()),
            Value::bytearray(b"".to_vec()),
            Value::tuple([1]),
            Value::tuple(Vec::<Value>::new()),
            Value::dict([(1, "a")]),
            Value::set([1, 2]),
            Value::set(Vec::<Value>::new()),
            Value::frozenset([3]),
            Value::global("collections", "OrderedDict"),
        ]);
        assert_eq!(
            v.to_string(),
            "[None, True, -3, 1.0, \"it's\", b'\\x00a', bytearray(b''), (1,), (), {1: 'a'}, {1, 2}, set(), frozenset({3}), collections.OrderedDict]"
        );
        let mut o = Object::new(Value::from(Global::new("m", "C")), Value::tuple([1, 2]));
        o.state = Some(Value::dict([("x", 1)]));
        o.list_items = vec![Value::from(5)];
        assert_eq!(Value::from(o).to_string(), "m.C(1, 2).__setstate__({'x': 1}).extend([5])");
    }

    #[test]
    fn cycles_print_and_compare() {
        let node = Shared::empty();
        node.set(Value::List(vec![Value::from(1), Value::Cycle(node.downgrade())])).unwrap();
        let a = Value::Shared(node);
        assert_eq!(a.to_string(), "[1, [...]]");
        assert!(a == a.clone());
        let other = Shared::empty();
        other.set(Value::List(vec![Value::from(1), Value::Cycle(other.downgrade())])).unwrap();
        assert!(a == Value::Shared(other));
    }

    /// Sharing is looked through: two nodes on one side may stand where the other has one
    /// (a protocol 0 round trip merges equal globals into one memo entry, for one).
    #[test]
    fn how_objects_are_shared_does_not_matter() {
        let one = Value::list([1]).shared();
        let merged = Value::List(vec![one.clone(), one]);
        let apart = Value::List(vec![Value::list([1]).shared(), Value::list([1]).shared()]);
        assert_eq!(merged, apart);
        assert_eq!(apart, merged);
        assert!(merged != Value::List(vec![Value::list([1]).shared(), Value::list([2]).shared()]));
    }

    /// Two loads of `[[[[...]]], [[[...]]]]`, whose cycle links are met before the nodes
    /// they close on (pickletools-checked input found by the `direct` fuzz target).
    #[test]
    fn cycles_met_before_their_nodes_compare_equal() {
        let bytes = b"](]q\x00(]q\x01eh\x01(h\x00ee.";
        let a: Value = crate::loads(bytes).unwrap();
        let b: Value = crate::loads(bytes).unwrap();
        assert!(a == b);
        let plain: Value = crate::loads(b"](]q\x00(]q\x01eh\x01(]ee.").unwrap();
        assert!(a != plain);
    }

    #[test]
    fn equality_is_structural() {
        assert_eq!(Value::from(5), Value::int(num_bigint::BigInt::from(5)));
        assert_eq!(Value::from(f64::NAN), Value::from(f64::NAN));
        assert_ne!(Value::from(0.0), Value::from(-0.0));
        assert_eq!(Value::list([1]).shared(), Value::list([1]));
        assert_ne!(Value::list([1]), Value::tuple([1]));
    }
}
