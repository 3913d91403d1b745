//! The decoder against CPython 3.11: what CPython writes, we read, and (for everything the
//! encoder covers) re-pickling what we read gives back CPython's exact bytes.
//!
//! Every pickle here is written by `python3` at test time.

mod common;

use common::matrix::matrix;
use common::{cpython_dis, cpython_dumps, cpython_run, python_available, python_source};
use pickle_core::{dumps, loads, PersistentLoad, Unpickler, Value};

/// Fails with both listings when a re-encoded pickle differs from CPython's.
fn assert_round_trip(name: &str, protocol: u8, theirs: &[u8], value: &Value) {
    let ours =
        dumps(value, protocol).unwrap_or_else(|e| panic!("{name} at protocol {protocol}: re-pickling failed: {e}"));
    if ours != theirs {
        let listings = cpython_dis(&[&ours, theirs]);
        panic!(
            "{name} at protocol {protocol}: re-pickled bytes differ\n--- ours:\n{}--- CPython's:\n{}",
            listings[0], listings[1]
        );
    }
}

#[test]
fn every_builtin_value_cpython_writes_loads_and_repickles_identically() {
    if !python_available("every_builtin_value_cpython_writes_loads_and_repickles_identically") {
        return;
    }
    let values = matrix();
    let requests: Vec<(String, Vec<u8>)> = values.iter().map(|(_, v)| (python_source(v), (0..=5).collect())).collect();
    let answers = cpython_dumps(&requests);
    let mut checked = 0;
    for ((name, expected), per_protocol) in values.iter().zip(answers) {
        for (protocol, answer) in (0u8..=5).zip(per_protocol) {
            let Ok(theirs) = answer else { continue };
            let value = loads(&theirs).unwrap_or_else(|e| panic!("{name} at protocol {protocol}: {e}"));
            // fix_imports writes `_functools.reduce` as Python 2's `__builtin__.reduce`, which
            // reads back as `functools.reduce`, in CPython as here.
            let lossy_name = protocol < 3 && name.contains("_functools.reduce");
            assert!(
                value == *expected || lossy_name,
                "{name} at protocol {protocol}: loaded {value}, expected {expected}"
            );
            assert_round_trip(name, protocol, &theirs, &value);
            checked += 1;
        }
    }
    assert!(checked >= 150 * 6 - 10, "only {checked} pickles were checked");
}

/// Python code that pickles `expr` at `protocol`, and keeps what CPython loads back.
fn pickled(expr: &str, protocol: u8) -> String {
    format!("import pickle, interop_classes as ic\nobj = {expr}\ndata = pickle.dumps(obj, {protocol})\nloaded = pickle.loads(data)")
}

#[test]
fn instances_of_every_reduce_shape_load_as_inert_objects_and_repickle_identically() {
    if !python_available("instances_of_every_reduce_shape_load_as_inert_objects_and_repickle_identically") {
        return;
    }
    // (Python expression, the lowest protocol our encoder re-pickles it at, what to check)
    let cases: &[(&str, u8, &str)] = &[
        ("ic.Plain(5, ['x'])", 0, "ic.Plain"),
        ("ic.Slotted(3, 'y')", 2, "ic.Slotted"),
        ("ic.SlottedWithDict()", 2, "ic.SlottedWithDict"),
        ("ic.Point(1, 2)", 0, "ic.Point"),
        ("ic.WithState({'k': [1, 2]})", 0, "ic.WithState"),
        ("ic.Bag([1, 'two', 3.0])", 0, "ic.Bag"),
        ("ic.Registry(a=1, b=[2])", 0, "ic.Registry"),
        ("ic.KwOnly(1, 2, key='v')", 4, "ic.KwOnly"),
        ("ic.Placed((3, 4))", 0, "ic.Placed"),
        ("ic.Node('root')", 0, "ic.Node"),
        ("[ic.Point(1, 2), ic.Point(3, 4)]", 0, "two instances share the class"),
        ("__import__('collections').OrderedDict([('a', 1), ('b', 2)])", 0, "OrderedDict"),
        ("__import__('datetime').datetime(2020, 1, 2, 3, 4, 5, 6)", 0, "datetime"),
        ("__import__('decimal').Decimal('1.25')", 0, "Decimal"),
        ("__import__('fractions').Fraction(3, 4)", 0, "Fraction"),
        ("complex(1, -2)", 0, "complex"),
        ("__import__('collections').namedtuple('P', 'x y', module='interop_classes')", 0, "a class (global)"),
        ("range(1, 10, 3)", 0, "range"),
        ("slice(1, None, 2)", 0, "slice"),
        ("__import__('collections').deque([1, 2], maxlen=5)", 0, "deque"),
    ];
    let mut codes = Vec::new();
    for &(expr, _, _) in cases {
        for protocol in 0..=5 {
            codes.push(pickled(expr, protocol));
        }
    }
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let runs = cpython_run(&code_refs);
    let mut runs = runs.into_iter();
    for &(expr, lowest, what) in cases {
        for protocol in 0..=5u8 {
            let run = runs.next().unwrap();
            let Ok(run) = run else { continue }; // CPython refuses some (slots below protocol 2)
            let value = loads(&run.data).unwrap_or_else(|e| panic!("{what} ({expr}) at protocol {protocol}: {e}"));
            assert!(
                contains_object_or_global(&value),
                "{what} at protocol {protocol}: expected an inert object, got {value}"
            );
            if protocol >= lowest {
                assert_round_trip(what, protocol, &run.data, &value);
            }
        }
    }
}

fn contains_object_or_global(v: &Value) -> bool {
    match v.resolve() {
        Value::Object(_) | Value::Global(_) => true,
        other => other.as_items().is_some_and(|items| items.iter().any(contains_object_or_global)),
    }
}

#[test]
fn the_shape_of_an_inert_object_says_what_was_written() {
    if !python_available("the_shape_of_an_inert_object_says_what_was_written") {
        return;
    }
    let runs =
        cpython_run(&[&pickled("ic.Plain(5, ['x'])", 2), &pickled("ic.Placed((3, 4))", 5), &pickled("ic.Bag([7])", 1)]);
    let plain = loads::<Value>(&runs[0].as_ref().unwrap().data).unwrap();
    let o = plain.as_object().expect("an object");
    assert_eq!(o.callable.as_global().map(|g| (g.module.as_str(), g.name.as_str())), Some(("copyreg", "__newobj__")));
    let args = o.args.as_tuple().unwrap();
    assert_eq!(args[0].as_global().map(|g| g.name.as_str()), Some("Plain"));
    let state = o.state.as_ref().unwrap();
    assert_eq!(state.get("a").and_then(Value::as_i64), Some(5));
    assert_eq!(state.get("b").and_then(Value::as_list).map(|l| l.len()), Some(1));

    let placed = loads::<Value>(&runs[1].as_ref().unwrap().data).unwrap();
    let o = placed.as_object().unwrap();
    assert_eq!(o.state_setter.as_ref().and_then(Value::as_global).map(|g| g.name.as_str()), Some("set_position"));
    assert_eq!(o.state.as_ref().and_then(Value::as_tuple).map(|t| t.len()), Some(2));

    let bag: Value = loads(&runs[2].as_ref().unwrap().data).unwrap();
    assert_eq!(bag.as_object().unwrap().list_items, vec![Value::from(7)]);
}

#[test]
fn builtins_load_to_what_cpython_loads() {
    if !python_available("builtins_load_to_what_cpython_loads") {
        return;
    }
    // CPython's repr of what it loads, against ours, for pickles written every way there is.
    let exprs = [
        "[1, -2, 2**70, 1.5, None, True, 'é', b'\\x00', bytearray(b'ab'), (1,), {1: 2}, {3}, frozenset({4})]",
        "{'nested': [[[]]], 'shared': [s := [1], s]}",
        "[b'', b'a', bytearray(), set(), frozenset(), ()]",
        "'\\udcff surrogate'",
    ];
    let mut codes = Vec::new();
    for expr in exprs {
        for protocol in 0..=5 {
            codes.push(format!("import pickle\ndata = pickle.dumps({expr}, {protocol})\nloaded = pickle.loads(data)"));
        }
    }
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    for (code, run) in codes.iter().zip(cpython_run(&refs)) {
        let run = run.unwrap();
        let ours = loads::<Value>(&run.data).unwrap().to_string();
        assert_eq!(Some(ours), run.repr, "{code}");
    }
}

#[test]
fn python_2_pickles_load_with_each_encoding() {
    if !python_available("python_2_pickles_load_with_each_encoding") {
        return;
    }
    // Python 2 wrote str as STRING/BINSTRING/SHORT_BINSTRING and bools as I01/I00; these
    // are the shapes Python 2.7's pickle writes, assembled byte by byte.
    let pickles: [&[u8]; 6] = [
        b"(lp0\nS'abc'\np1\naI01\naI00\naL12345678901234567890L\naF1.5\naS'caf\\xc3\\xa9'\np2\na.",
        b"\x80\x02]q\x00(U\x03abcq\x01T\x04\x00\x00\x00\xe9t\xe9!q\x02K\x01e.",
        b"(dp0\nS'key'\np1\n(lp2\nI1\naI2\nas.",
        b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.",
        b"ccopy_reg\n_reconstructor\np0\n(c__builtin__\nobject\np1\ng1\nNtp2\nRp3\n.",
        b"(S'it''s'\nS\"say \\\"hi\\\"\"\nS'\\n\\t\\x41\\101'\ntp0\n.",
    ];
    for encoding in ["ASCII", "latin1", "bytes", "utf-8"] {
        let codes: Vec<String> = pickles
            .iter()
            .map(|p| {
                let literal: String = p.iter().map(|b| format!("\\x{b:02x}")).collect();
                format!("import pickle\ndata = b'{literal}'\nloaded = pickle.loads(data, encoding={encoding:?})")
            })
            .collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let (enc, errors) = match encoding {
            "ASCII" => (pickle_core::Encoding::Ascii, pickle_core::StringErrors::Strict),
            "latin1" => (pickle_core::Encoding::Latin1, pickle_core::StringErrors::Strict),
            "bytes" => (pickle_core::Encoding::Bytes, pickle_core::StringErrors::Strict),
            _ => (pickle_core::Encoding::Utf8, pickle_core::StringErrors::Strict),
        };
        for ((pickle, run), code) in pickles.iter().zip(cpython_run(&refs)).zip(&codes) {
            let ours = Unpickler::from_slice(pickle).encoding(enc, errors).load::<Value>();
            match (run, ours) {
                (Ok(run), Ok(value)) => {
                    let repr = run.repr.unwrap();
                    // Plain objects print differently (inert here, real in CPython); compare the rest.
                    if !repr.contains(" object at ") {
                        assert_eq!(value.to_string(), repr, "{code}");
                    }
                }
                (Err(_), Err(_)) => {}
                (theirs, ours) => panic!("{code}\nCPython: {:?}\nours: {:?}", theirs.map(|r| r.repr), ours),
            }
        }
    }
}

#[test]
fn persistent_ids_extensions_and_out_of_band_buffers() {
    if !python_available("persistent_ids_extensions_and_out_of_band_buffers") {
        return;
    }
    let persistent = "import pickle, io
class DBPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, tuple) and obj and obj[0] == 'MemoRecord':
            return ('MemoRecord', obj[1])
        return None
def write(protocol):
    f = io.BytesIO()
    DBPickler(f, protocol).dump([('MemoRecord', 1), 'plain', ('MemoRecord', 'k2')])
    return f.getvalue()
data = b''.join(len(p).to_bytes(4, 'little') + p for p in (write(p) for p in range(6)))";
    let extension = "import pickle, copyreg, interop_classes
copyreg.add_extension('interop_classes', 'Point', 240)
copyreg.add_extension('interop_classes', 'Bag', 0x1234)
copyreg.add_extension('interop_classes', 'Node', 0x12345678)
data = pickle.dumps([interop_classes.Point, interop_classes.Bag, interop_classes.Node], 2)
for c in (240, 0x1234, 0x12345678):
    copyreg.remove_extension(*copyreg._inverted_registry[c], c)";
    let buffers = "import pickle
bufs = []
data = pickle.dumps([pickle.PickleBuffer(bytearray(b'abc')), pickle.PickleBuffer(b'ro')], 5, buffer_callback=bufs.append)";
    let runs = cpython_run(&[persistent, extension, buffers]);

    // Persistent ids: CPython's DBPickler example at every protocol, kept as ids and
    // pickled back to the same bytes.
    let framed = runs[0].as_ref().unwrap().data.clone();
    let mut rest = &framed[..];
    for protocol in 0..=5u8 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let pickle = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let refused = Unpickler::from_slice(pickle).load::<Value>().unwrap_err();
        assert!(refused.to_string().contains("no persistent_load function"), "{refused}");
        let value = Unpickler::from_slice(pickle).persistent_load(PersistentLoad::Keep).load::<Value>().unwrap();
        let items = value.as_list().unwrap();
        let Value::PersistentId(id) = &items[0] else { panic!("expected a persistent id, got {}", items[0]) };
        if protocol == 0 {
            // PERSID carries str(pid).
            assert_eq!(id.as_str(), Some("('MemoRecord', 1)"));
        } else {
            assert_eq!(id.as_tuple().map(|t| t[1].clone()), Some(Value::from(1)));
        }
        if protocol >= 1 {
            // (PERSID at protocol 0 writes str(pid); our ids are tuples, which str() only CPython makes.)
            assert_round_trip("persistent ids", protocol, pickle, &value);
        }
        let mapped: Value = Unpickler::from_slice(pickle)
            .persistent_load(PersistentLoad::Call(Box::new(|id| Ok(Value::from(format!("loaded {id}"))))))
            .load()
            .unwrap();
        assert_eq!(mapped.as_list().unwrap()[1], Value::from("plain"));
        let mapped_id = mapped.as_list().unwrap()[0].as_str().unwrap().to_owned();
        assert!(mapped_id.starts_with("loaded ") && mapped_id.contains("MemoRecord"), "{mapped_id}");
    }

    // Extension codes: EXT1, EXT2 and EXT4 through the registry.
    let ext = &runs[1].as_ref().unwrap().data;
    assert!(loads::<Value>(ext).unwrap_err().to_string().contains("unregistered extension code 240"));
    let value: Value = Unpickler::from_slice(ext)
        .extension(240, "interop_classes", "Point")
        .extension(0x1234, "interop_classes", "Bag")
        .extension(0x12345678, "interop_classes", "Node")
        .load()
        .unwrap();
    assert_eq!(
        value,
        Value::list([
            Value::global("interop_classes", "Point"),
            Value::global("interop_classes", "Bag"),
            Value::global("interop_classes", "Node")
        ])
    );
    // With the same codes registered on the pickler, the value pickles back to CPython's bytes.
    let mut again = Vec::new();
    pickle_core::Pickler::new(&mut again)
        .protocol(2)
        .extension("interop_classes", "Point", 240)
        .and_then(|p| p.extension("interop_classes", "Bag", 0x1234))
        .and_then(|p| p.extension("interop_classes", "Node", 0x12345678))
        .unwrap()
        .dump(&value)
        .unwrap();
    assert_eq!(&again, ext);

    // Out-of-band buffers: NEXT_BUFFER takes them in order, READONLY_BUFFER makes bytes.
    let oob = &runs[2].as_ref().unwrap().data;
    assert!(loads::<Value>(oob).unwrap_err().to_string().contains("no *buffers* argument"));
    let value: Value = Unpickler::from_slice(oob)
        .buffers(vec![Value::bytearray(b"abc".to_vec()), Value::bytearray(b"ro".to_vec())])
        .load()
        .unwrap();
    assert_eq!(value, Value::list([Value::bytearray(b"abc".to_vec()), Value::bytes(b"ro".to_vec())]));
    let short =
        Unpickler::from_slice(oob).buffers(vec![Value::bytearray(b"abc".to_vec())]).load::<Value>().unwrap_err();
    assert!(short.to_string().contains("not enough out-of-band buffers"), "{short}");
}
