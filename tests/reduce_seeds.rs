//! The seed examples of `__reduce_ex__`, each with a hand-written `impl Reduce`, pickled
//! byte for byte as CPython pickles the Python class in `tests/python/seeds.py`, at every
//! protocol; and the pickler's hooks (persistent ids, extension codes, the dispatch table,
//! `reducer_override`) against CPython's.

mod common;

use std::any::Any;
use std::rc::{Rc, Weak};

use common::{assert_same_pickles, cpython_run, python_available, Case};
use pickle_core::{
    dumps, Arg, Attrs, Call, Error, GlobalName, Pickler, Reduce, ReducerOverride, Reduction, Registered, Result, Value,
};

fn class(name: &'static str) -> GlobalName<'static> {
    GlobalName::new("seeds", name)
}

fn newobj() -> GlobalName<'static> {
    GlobalName::new("copyreg", "__newobj__")
}

/// `copyreg._reconstructor(cls, object, None)`, what `object.__reduce_ex__` gives a plain
/// class below protocol 2.
fn reconstructor<'a>(cls: &'static str) -> Call<'a> {
    Call::new(
        GlobalName::new("copyreg", "_reconstructor"),
        (class(cls), GlobalName::new("builtins", "object"), None::<i32>),
    )
}

struct SimpleObject {
    value: i64,
}

impl Reduce for SimpleObject {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("SimpleObject"), (&self.value,)).into())
    }
}

struct CustomObject {
    name: String,
    data: Vec<i64>,
}

impl Reduce for CustomObject {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        Ok(if protocol >= 2 {
            Call::new(class("CustomObject"), (&self.name,)).state(Attrs::new().with("data", &self.data))
        } else {
            Call::new(class("CustomObject"), (&self.name, &self.data))
        }
        .into())
    }
}

struct OptimizedObject {
    items: Vec<i64>,
}

impl Reduce for OptimizedObject {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        Ok(if protocol >= 4 {
            Call::new(class("OptimizedObject"), ()).list_items(self.items.iter().map(Arg::from))
        } else {
            Call::new(class("OptimizedObject"), (&self.items,))
        }
        .into())
    }
}

/// Only the connection string is pickled: the live connection is not data.
struct DatabaseConnection {
    connection_string: String,
    #[allow(dead_code)]
    connection: std::net::TcpListener,
}

impl Reduce for DatabaseConnection {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("DatabaseConnection"), (&self.connection_string,)).into())
    }
}

struct ComplexObject {
    x: i64,
    y: i64,
}

impl Reduce for ComplexObject {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(GlobalName::new("seeds", "reconstruct_complex"), (&self.x, &self.y)).into())
    }
}

struct Wrapper;

impl Reduce for Wrapper {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Global(GlobalName::new("seeds", "SPAM")))
    }
}

struct Point {
    x: i64,
    y: i64,
}

impl Reduce for Point {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("Point"), (&self.x, &self.y)).into())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

struct FrozenPoint {
    x: i64,
    y: i64,
}

impl Reduce for FrozenPoint {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let state = Attrs::new().with("x", &self.x).with("y", &self.y);
        Ok(Call::new(class("FrozenPoint"), (0, 0)).state(state).into())
    }
}

struct Node {
    value: String,
    children: Vec<Node>,
}

impl Reduce for Node {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let call = Call::new(class("Node"), (&self.value, Vec::<i64>::new()));
        Ok(call.list_items(self.children.iter().map(Arg::from)).into())
    }
}

struct Slotted {
    x: i64,
    y: String,
}

impl Reduce for Slotted {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        if protocol < 2 {
            // As CPython: object.__reduce_ex__ refuses slots without __getstate__ below 2.
            return Err(Error::pickling("cannot pickle 'Slotted' object: a class that defines __slots__ without defining __getstate__ cannot be pickled with protocol 0 or 1"));
        }
        let slots = Attrs::new().with("x", &self.x).with("y", &self.y);
        Ok(Call::new(newobj(), (class("Slotted"),)).state(Arg::owned((None::<i32>, slots))).into())
    }
}

struct Scaled {
    value: i64,
    scale: i64,
}

impl Reduce for Scaled {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        let state = Attrs::new().with("value", &self.value).with("scale", &self.scale);
        if protocol < 2 {
            return Ok(reconstructor("Scaled").state(state).into());
        }
        let kwargs = Attrs::new().with("scale", &self.scale);
        let args = (class("Scaled"), (&self.value,), kwargs);
        Ok(Call::new(GlobalName::new("copyreg", "__newobj_ex__"), args).state(state).into())
    }
}

struct Placed {
    position: (i64, i64),
}

impl Reduce for Placed {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let call = Call::new(class("Placed"), ()).state(&self.position);
        Ok(call.state_setter(GlobalName::new("seeds", "place")).into())
    }
}

/// An object whose state holds the object itself.
struct SelfRef {
    name: String,
    me: Weak<SelfRef>,
}

impl Reduce for SelfRef {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        let me = self.me.upgrade().ok_or_else(|| Error::custom("dangling self reference"))?;
        let state = Attrs::new().with("name", &self.name).with("me", Arg::owned(me));
        let call = if protocol < 2 { reconstructor("SelfRef") } else { Call::new(newobj(), (class("SelfRef"),)) };
        Ok(call.state(state).into())
    }
    fn python_class(&self) -> Option<GlobalName<'_>> {
        Some(class("SelfRef"))
    }
}

#[test]
fn every_seed_pickles_as_cpython_pickles_its_python_class() {
    if !python_available("every_seed_pickles_as_cpython_pickles_its_python_class") {
        return;
    }
    let simple = SimpleObject { value: 42 };
    let custom = CustomObject { name: "widget".into(), data: vec![1, 2, 3] };
    let optimized = OptimizedObject { items: (0..2500).collect() };
    let db = DatabaseConnection {
        connection_string: "postgres://localhost/app".into(),
        connection: std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
    };
    let complex = ComplexObject { x: 3, y: 4 };
    let wrappers = vec![Wrapper, Wrapper];
    let points = vec![Point { x: 1, y: 2 }, Point { x: -3, y: 400 }];
    let frozen = FrozenPoint { x: 7, y: 8 };
    let tree = Node {
        value: "root".into(),
        children: vec![
            Node { value: "leaf1".into(), children: vec![] },
            Node { value: "leaf2".into(), children: vec![] },
        ],
    };
    let slotted = Slotted { x: 5, y: "why".into() };
    let scaled = (Scaled { value: 10, scale: 3 }, Scaled { value: 20, scale: 1 });
    let placed = Placed { position: (3, 4) };
    let selfref = Rc::new_cyclic(|me| SelfRef { name: "myself".into(), me: me.clone() });

    let cases = vec![
        Case::seed("SimpleObject", &simple),
        Case::seed("CustomObject", &custom),
        Case::seed("OptimizedObject", &optimized),
        Case::seed("DatabaseConnection", &db),
        Case::seed("ComplexObject", &complex),
        Case::seed("Wrapper", &wrappers),
        Case::seed("Point", &points),
        Case::seed("FrozenPoint", &frozen),
        Case::seed("Node", &tree),
        Case::seed("Slotted", &slotted),
        Case::seed("Scaled", &scaled),
        Case::seed("Placed", &placed),
        Case::seed("SelfRef", &selfref),
    ];
    assert_same_pickles(&cases);
}

#[derive(Clone)]
struct MemoRecord {
    key: i64,
    task: String,
}

impl Reduce for MemoRecord {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        let state = Attrs::new().with("key", &self.key).with("task", &self.task);
        let call = if protocol < 2 { reconstructor("MemoRecord") } else { Call::new(newobj(), (class("MemoRecord"),)) };
        Ok(call.state(state).into())
    }
    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

/// The `persistent_id` of the pickle documentation's DBPickler: a MemoRecord is written as
/// `("MemoRecord", key)`. The tag is one shared object, as Python's interned literal is.
fn db_pickle(records: &[MemoRecord], protocol: u8) -> Result<Vec<u8>> {
    let tag = Value::from("MemoRecord").shared();
    let mut out = Vec::new();
    Pickler::new(&mut out)
        .protocol(protocol)
        .persistent_id(move |obj, _| {
            let record = obj.and_then(|o| o.downcast_ref::<MemoRecord>());
            Ok(record.map(|r| Value::tuple([tag.clone(), Value::from(r.key)])))
        })
        .dump(records)?;
    Ok(out)
}

#[test]
fn persistent_ids_as_the_pickle_documentation_writes_them() {
    if !python_available("persistent_ids_as_the_pickle_documentation_writes_them") {
        return;
    }
    let records = vec![MemoRecord { key: 1, task: "ingest".into() }, MemoRecord { key: 2, task: "publish".into() }];
    let code = |protocol: u8| {
        format!(
            "import io, pickle, seeds
class DBPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, seeds.MemoRecord):
            return ('MemoRecord', obj.key)
        return None
class DBUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        tag, key = pid if isinstance(pid, tuple) else eval(pid)
        return seeds.MemoRecord(key, 'from the database')
f = io.BytesIO()
DBPickler(f, {protocol}).dump([seeds.MemoRecord(1, 'ingest'), seeds.MemoRecord(2, 'publish')])
data = f.getvalue()
ours = bytes.fromhex('{{ours}}')
loaded = [(r.key, r.task) for r in DBUnpickler(io.BytesIO(ours)).load()]"
        )
    };
    for protocol in 0..=5u8 {
        let ours = db_pickle(&records, protocol).unwrap();
        let run = cpython_run(&[&code(protocol).replace("{ours}", &common::hex_encode(&ours))]).remove(0).unwrap();
        assert_eq!(ours, run.data, "protocol {protocol}: our DBPickler output differs from CPython's");
        assert_eq!(run.repr.as_deref(), Some("[(1, 'from the database'), (2, 'from the database')]"));
    }
}

/// A `persistent_id` recognizes strs and ints by their Rust type, as Python's recognizes
/// them by `isinstance`; a reducer registered for `String` is never used, as CPython's
/// pickler writes an exact `str` without looking at its dispatch table.
#[test]
fn persistent_ids_recognize_strings_and_ints_and_builtins_ignore_the_dispatch_table() {
    if !python_available("persistent_ids_recognize_strings_and_ints_and_builtins_ignore_the_dispatch_table") {
        return;
    }
    #[allow(clippy::ptr_arg)] // the dispatch table is keyed by `String`, the type registered
    fn shout(s: &String, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(GlobalName::new("builtins", "str"), (s.to_uppercase(),)).into())
    }
    let items: (String, String, i64, Value) = ("db://users/7".into(), "plain".into(), 42, Value::Int(43));
    let code = |protocol: u8| {
        format!(
            "import io, pickle
class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, str) and obj.startswith('db://'):
            return obj[5:]
        if type(obj) is int and obj > 42:
            return 'int'
        return None
f = io.BytesIO()
p = P(f, {protocol})
p.dispatch_table = {{str: lambda s: (str, (s.upper(),))}}
p.dump(('db://users/7', 'plain', 42, 43))
data = f.getvalue()"
        )
    };
    for protocol in 0..=5u8 {
        let mut ours = Vec::new();
        Pickler::new(&mut ours)
            .protocol(protocol)
            .dispatch(shout)
            .persistent_id(|obj, _| {
                let url = obj.and_then(|o| o.downcast_ref::<String>()).and_then(|s| s.strip_prefix("db://"));
                let int = obj.and_then(|o| o.downcast_ref::<Value>()).and_then(Value::as_i64).filter(|&i| i > 42);
                Ok(url.map(Value::from).or(int.map(|_| Value::from("int"))))
            })
            .dump(&items)
            .unwrap();
        let run = cpython_run(&[&code(protocol)]).remove(0).unwrap();
        assert_eq!(ours, run.data, "protocol {protocol}: our persistent ids differ from CPython's");
    }
}

#[test]
fn extension_codes_are_written_as_cpython_writes_them() {
    if !python_available("extension_codes_are_written_as_cpython_writes_them") {
        return;
    }
    let points = vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }];
    let wrapper = Wrapper;
    for protocol in 0..=5u8 {
        for (code, name) in [(240, "EXT1"), (0x1234, "EXT2"), (0x12345678, "EXT4")] {
            let mut ours = Vec::new();
            Pickler::new(&mut ours)
                .protocol(protocol)
                .extension("seeds", "Point", code)
                .unwrap()
                .extension("seeds", "SPAM", code + 1)
                .unwrap()
                .dump(&(&points, &wrapper))
                .unwrap();
            let python = format!(
                "import copyreg, pickle, seeds
copyreg.add_extension('seeds', 'Point', {code})
copyreg.add_extension('seeds', 'SPAM', {code} + 1)
try:
    data = pickle.dumps(([seeds.Point(1, 2), seeds.Point(3, 4)], seeds.SPAM), {protocol})
finally:
    copyreg.remove_extension('seeds', 'Point', {code})
    copyreg.remove_extension('seeds', 'SPAM', {code} + 1)"
            );
            let theirs = cpython_run(&[&python]).remove(0).unwrap().data;
            assert_eq!(ours, theirs, "{name} at protocol {protocol}");
        }
    }
}

fn timedelta(d: &std::time::Duration, _: u8) -> Result<Reduction<'_>> {
    let secs = d.as_secs();
    let args = ((secs / 86_400) as i64, (secs % 86_400) as i64, d.subsec_micros() as i64);
    Ok(Call::new(GlobalName::native("datetime", "timedelta"), args).into())
}

#[test]
fn the_dispatch_table_pickles_types_that_do_not_implement_reduce() {
    if !python_available("the_dispatch_table_pickles_types_that_do_not_implement_reduce") {
        return;
    }
    let durations =
        vec![Registered(std::time::Duration::new(90_061, 5_000)), Registered(std::time::Duration::from_millis(1500))];
    let code = "import datetime, pickle\nvalue = [datetime.timedelta(1, 3661, 5), datetime.timedelta(0, 1, 500000)]";
    let theirs = common::cpython_dumps(&[(code.to_owned(), (0..=5).collect())]).remove(0);
    for (protocol, theirs) in (0u8..=5).zip(theirs) {
        let mut ours = Vec::new();
        Pickler::new(&mut ours).protocol(protocol).dispatch(timedelta).dump(&durations).unwrap();
        assert_eq!(ours, theirs.unwrap(), "protocol {protocol}");
    }
    let unregistered = dumps(&durations, 4).unwrap_err();
    assert!(unregistered.to_string().contains("no reducer is registered"), "{unregistered}");
}

/// Swaps a Point's coordinates on the way out, as a Python `reducer_override` could.
struct SwapPoints;

impl ReducerOverride for SwapPoints {
    fn reducer_override<'a>(
        &mut self,
        obj: Option<&'a dyn Any>,
        _own: &Reduction<'a>,
        _protocol: u8,
    ) -> Result<Option<Reduction<'a>>> {
        let Some(point) = obj.and_then(|o| o.downcast_ref::<Point>()) else { return Ok(None) };
        Ok(Some(Call::new(class("Point"), (&point.y, &point.x)).into()))
    }
}

#[test]
fn reducer_override_replaces_reductions_but_not_builtins() {
    if !python_available("reducer_override_replaces_reductions_but_not_builtins") {
        return;
    }
    let value = (Point { x: 1, y: 2 }, 3, "s");
    let code = "import pickle, io, seeds
class Swap(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, seeds.Point):
            return (seeds.Point, (obj.y, obj.x))
        return NotImplemented
out = []
for p in range(6):
    f = io.BytesIO(); Swap(f, p).dump((seeds.Point(1, 2), 3, 's')); out.append(f.getvalue())
data = b''.join(len(x).to_bytes(4, 'little') + x for x in out)";
    let framed = cpython_run(&[code]).remove(0).unwrap().data;
    let mut rest = &framed[..];
    for protocol in 0..=5u8 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let theirs = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let mut ours = Vec::new();
        Pickler::new(&mut ours).protocol(protocol).reducer_override(SwapPoints).dump(&value).unwrap();
        assert_eq!(ours, theirs, "protocol {protocol}");
    }
}

struct WrongClass;

impl Reduce for WrongClass {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(newobj(), (class("Point"),)).into())
    }
    fn python_class(&self) -> Option<GlobalName<'_>> {
        Some(class("FrozenPoint"))
    }
}

struct SetterWithoutState;

impl Reduce for SetterWithoutState {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("Placed"), ()).state_setter(GlobalName::new("seeds", "place")).into())
    }
}

#[test]
fn what_cpython_refuses_to_pickle_is_refused() {
    let err = dumps(&WrongClass, 2).unwrap_err();
    assert_eq!(err.kind().to_string(), "args[0] from __newobj__ args has the wrong class");
    // Below protocol 2 __newobj__ is an ordinary callable, as in CPython: no check.
    assert!(dumps(&WrongClass, 1).is_ok());
    let err = dumps(&SetterWithoutState, 5).unwrap_err();
    assert!(err.to_string().contains("state setter without a state"), "{err}");
    let err = dumps(&Slotted { x: 1, y: String::new() }, 1).unwrap_err();
    assert!(err.to_string().contains("__slots__"), "{err}");
    assert!(Pickler::new(Vec::new()).extension("m", "n", 0).is_err());
}
