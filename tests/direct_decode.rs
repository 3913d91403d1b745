//! `loads` to a `Value` has a direct path for pickles of plain data held in memory
//! (`pickle-core/src/de/direct.rs`), and `loads` to a typed value one that reads the pickle
//! straight into it (`de/stream.rs`: numbers, strs, `Vec`, `Option`, `Rc`, derived
//! `#[pickle(dict)]` structs); they give up on everything else, and the general loader
//! decides. These tests check that both give one answer: the value (compared with `==`
//! and, for identity, by pickling both again or comparing `Rc`s), or the error. The general loader
//! is the one an `io::Read` goes through.

mod common;

use std::fmt::Debug;
use std::io::Cursor;

use pickle_core::{dumps, loads_with, Reconstruct, Unpickler, UnpicklerOptions, Value};

/// Loads `bytes` as `T` by both paths, `loads` from the slice (a direct path where one
/// takes it) and `load` from a reader (the general loader), and checks that they agree:
/// values by `same`, errors by their text, offsets included. Gives the result.
fn agree_as<T: Reconstruct + Debug>(
    bytes: &[u8],
    options: &UnpicklerOptions,
    same: impl Fn(&T, &T),
) -> Result<T, String> {
    let direct = loads_with::<T>(bytes, options);
    let general = Unpickler::new(Cursor::new(bytes)).with_options(options.clone()).load::<T>();
    match (direct, general) {
        (Ok(d), Ok(g)) => {
            same(&d, &g);
            Ok(d)
        }
        (Err(d), Err(g)) => {
            assert_eq!(d.to_string(), g.to_string(), "{bytes:?}: errors differ");
            Err(d.to_string())
        }
        (d, g) => panic!("{bytes:?}: direct {d:?} but general {g:?}"),
    }
}

/// [`agree_as`] a `Value`, which must also keep the same objects shared.
fn agree(bytes: &[u8], options: &UnpicklerOptions) -> Result<Value, String> {
    agree_as(bytes, options, |d: &Value, g| {
        assert!(d == g, "{bytes:?}: direct {d} but general {g}");
        // Identity: which objects are one object shows in the memo of a new pickle.
        assert_eq!(dumps(d, 4).unwrap(), dumps(g, 4).unwrap(), "{bytes:?}: sharing differs");
    })
}

/// [`agree_as`] a type compared with `==` (whose fast path is `de/stream.rs`).
fn typed_agree<T: Reconstruct + PartialEq + Debug>(bytes: &[u8], options: &UnpicklerOptions) -> Result<T, String> {
    agree_as(bytes, options, |d: &T, g| assert_eq!(d, g, "{bytes:?}"))
}

/// What CPython writes for each of `expressions` (assigned to `value`) at protocols 0 to 5:
/// the expression's index, the protocol and the pickle.
fn cpython_pickles<'e>(expressions: impl IntoIterator<Item = &'e str>) -> Vec<(usize, u8, Vec<u8>)> {
    let expressions: Vec<&str> = expressions.into_iter().collect();
    let cases: Vec<(String, Vec<u8>)> =
        expressions.iter().map(|e| (format!("value = {e}"), vec![0, 1, 2, 3, 4, 5])).collect();
    let mut pickles = Vec::new();
    for (index, per_protocol) in common::cpython_dumps(&cases).into_iter().enumerate() {
        for (protocol, answer) in per_protocol.into_iter().enumerate() {
            let expression = expressions[index];
            let bytes = answer.unwrap_or_else(|e| panic!("CPython pickles {expression}: {e}"));
            pickles.push((index, protocol as u8, bytes));
        }
    }
    pickles
}

fn defaults() -> UnpicklerOptions {
    UnpicklerOptions::default()
}

/// Pickles CPython writes for data, with sharing, cycles, large dicts and every opcode of
/// the direct path, at every protocol.
#[test]
fn cpython_pickles_of_data_load_alike() {
    if !common::python_available("cpython_pickles_of_data_load_alike") {
        return;
    }
    let expressions = [
        "list(range(-300, 300, 7)) + [2**31, -2**31 - 1, 2**63 - 1, -2**63, 2**64, -2**100]",
        "[0.5, -1e300, float('inf'), 1e-310, -0.0]",
        "['', 'a', 'é', '中文', '🐍' * 30, 'x' * 300, 'a\\udc80b']",
        "[b'', b'ab', bytes(300), bytearray(b'xy'), bytearray()]",
        "[None, True, False, (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], {}]",
        "[{'id': i, 'name': 'n%d' % i, 'tags': ['a', 'b'][: i % 3], 'active': i % 2 == 0} for i in range(50)]",
        "(lambda x: [x, x, (x,), {'k': x}])([1, 2])",
        "(lambda x: {'a': x, 'b': x})({'inner': [1]})",
        "(lambda s: (s, s, [s], {s: s}))('shared')",
        "(lambda t: [t, t])((1, 'two', [3]))",
        "(lambda l: (l.append(l), l)[1])([])",
        "(lambda d: (d.__setitem__('me', d), d)[1])({})",
        "(lambda l: (l.append((l,)), l)[1])([1])",
        "(lambda l: [l, (l.append(l), l)[1]])([])",
        "{i: str(i) for i in range(100)}",
        "{str(i): [i] for i in range(30)}",
        "{1: 'int', 1.5: 'float', True: 'bool', None: 'none', b'b': 'bytes', (1, 2): 'tuple'}",
        "{frozenset([1]): {1, 2}}",
        "[[[[[[[[[[['deep']]]]]]]]]]]",
        "[(i, [i] * 3, {'k': (i,)}) for i in range(200)]",
    ];
    let mut loaded = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions) {
        let result = agree(&bytes, &defaults());
        assert!(result.is_ok(), "{} at protocol {protocol}: {result:?}", expressions[index]);
        loaded += 1;
    }
    assert_eq!(loaded, expressions.len() * 6);
}

/// Pickles no pickler writes, each at a case where the direct path must give up.
#[test]
fn hostile_and_odd_pickles_load_alike() {
    let cases: &[&[u8]] = &[
        // A dict whose keys repeat: DICT, SETITEMS small and large, across types.
        b"\x80\x02(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02d.",
        b"\x80\x02}(K\x01K\x02K\x01K\x03u.",
        b"\x80\x02}(K\x01N\x88K\x02u.",
        b"\x80\x02}(K\x00NK\x01NK\x02NK\x03NK\x04NK\x05NK\x06NK\x07NK\x08NK\x09NK\x00\x88u.",
        // An unhashable key.
        b"\x80\x02}(]K\x01u.",
        // A list filled after a GET fetched it (a cycle through a tuple), and after it
        // left the stack.
        b"\x80\x02]q\x00h\x00\x85a.",
        b"\x80\x02]q\x00\x85h\x00K\x01a.",
        // A memo index put twice; a GET of an index never put; a MEMOIZE after a BINPUT
        // of the index it would use.
        b"\x80\x02K\x01q\x00K\x02q\x00h\x00\x86.",
        b"\x80\x02h\x05.",
        b"\x80\x04K\x01q\x01K\x02\x94\x94h\x01\x86.",
        // Items left under the result; a MARK left open; an empty stack at STOP.
        b"\x80\x02K\x01K\x02.",
        b"\x80\x02(K\x01.",
        b"\x80\x02.",
        // Truncated, an unknown opcode, a protocol too new, a frame longer than the rest.
        b"\x80\x02]K",
        b"\x80\x02\xff.",
        b"\x80\x09N.",
        b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.",
        // Invalid UTF-8; a lone surrogate, which loads.
        b"\x80\x04\x8c\x02\xff\xfe.",
        b"\x80\x04\x8c\x03\xed\xb2\x80.",
        // APPENDS on a dict, SETITEMS on a list, APPEND on an int, odd SETITEMS.
        b"\x80\x02}(K\x01e.",
        b"\x80\x02](K\x01K\x02u.",
        b"\x80\x02K\x01K\x02a.",
        b"\x80\x02}(K\x01u.",
        // Popping across a MARK.
        b"\x80\x02K\x01(\x85.",
        // Opcodes outside the direct path: a set, a global, protocol 0 text.
        b"\x80\x04\x8f(K\x01K\x01\x90.",
        b"\x80\x02cbuiltins\nlist\n).",
        b"(I1\nI2\nl.",
    ];
    for case in cases {
        let _ = agree(case, &defaults());
        let _ = typed_agree::<Vec<i64>>(case, &defaults());
        let _ = typed_agree::<Vec<String>>(case, &defaults());
    }
    // Lists of numbers, odd where the direct path of `Vec` must give up: two items for
    // one APPEND, APPEND with none, a memo put with nothing above the MARK, a MARK inside
    // a batch, a second list, items before the list, LIST after a MARK, a batch left open.
    let lists: &[&[u8]] = &[
        b"\x80\x02]K\x01K\x02a.",
        b"\x80\x02]a.",
        b"\x80\x02](q\x00e.",
        b"\x80\x02](K\x01(K\x02ee.",
        b"\x80\x02](K\x01e](K\x02e.",
        b"\x80\x02K\x01](K\x02e.",
        b"\x80\x02(K\x01K\x02l.",
        b"\x80\x02](K\x01.",
        b"\x80\x02](K\x01\x95\x02\x00\x00\x00\x00\x00\x00\x00e.",
        b"\x80\x02]q\x00(K\x01e\x94.",
    ];
    for case in lists {
        let _ = typed_agree::<Vec<i64>>(case, &defaults());
        let _ = typed_agree::<Vec<Option<u8>>>(case, &defaults());
    }
}

/// The limits give up the direct path where the general loader would refuse.
#[test]
fn limits_load_alike() {
    let nested = dumps(&(0..50).fold(Value::Int(1), |v, _| Value::List(vec![v])), 2).unwrap();
    let shared = dumps(
        &{
            let inner = Value::List(vec![Value::List(vec![Value::Int(1)])]).shared();
            Value::List(vec![inner.clone(), Value::List(vec![inner])])
        },
        2,
    )
    .unwrap();
    let records =
        dumps(&Value::List((0..20).map(|i| Value::Dict(vec![(Value::from("k"), Value::Int(i))])).collect()), 4)
            .unwrap();
    for depth in [0, 1, 2, 3, 10, 49, 50, 51] {
        let options = UnpicklerOptions { max_depth: depth, ..defaults() };
        let _ = agree(&nested, &options);
        let _ = agree(&shared, &options);
        let _ = agree(&records, &options);
    }
    for memo in [0, 1, 5, 40] {
        let _ = agree(&records, &UnpicklerOptions { max_memo: memo, ..defaults() });
    }
    let ints = dumps(&Value::List((0..50).map(Value::Int).collect()), 4).unwrap();
    let strs = dumps(&Value::List((0..50).map(|i| Value::from(i.to_string())).collect()), 2).unwrap();
    let typed = |options: &UnpicklerOptions| {
        let _ = typed_agree::<Vec<i64>>(&ints, options);
        let _ = typed_agree::<Vec<String>>(&strs, options);
    };
    for depth in [0, 1, 2] {
        typed(&UnpicklerOptions { max_depth: depth, ..defaults() });
    }
    for memo in [0, 1, 49, 50, 51] {
        typed(&UnpicklerOptions { max_memo: memo, ..defaults() });
    }
    for alloc in [0, 100, 1000, 2500, 5000, 100_000] {
        typed(&UnpicklerOptions { max_alloc: alloc, ..defaults() });
    }
    // Records with shared keys and tags, loaded as derived structs: the fast path gives up
    // at each limit where the general loader would refuse.
    let tag = Value::from("tag").shared();
    let keys: Vec<Value> = ["id", "name", "tags", "score"].into_iter().map(|k| Value::from(k).shared()).collect();
    let record = |i: i64| {
        let values = [Value::Int(i), Value::from(format!("n{i}")), Value::List(vec![tag.clone()]), Value::None];
        Value::Dict(keys.iter().cloned().zip(values).collect())
    };
    let records_pickle = dumps(&Value::List((0..3).map(record).collect()), 4).unwrap();
    assert!(pickle_core::__private::load_streamed::<Vec<Record>>(&records_pickle, &defaults()).is_some());
    let mut limited = Vec::new();
    for depth in 0..5 {
        limited.push(UnpicklerOptions { max_depth: depth, ..defaults() });
    }
    for memo in 0..12 {
        limited.push(UnpicklerOptions { max_memo: memo, ..defaults() });
    }
    for alloc in (0..6000).step_by(25) {
        limited.push(UnpicklerOptions { max_alloc: alloc, ..defaults() });
    }
    for options in &limited {
        let _ = typed_agree::<Vec<Record>>(&records_pickle, options);
    }
    for alloc in [0, 100, 1000, 5000, 100_000] {
        let _ = agree(&records, &UnpicklerOptions { max_alloc: alloc, ..defaults() });
        let _ = agree(&nested, &UnpicklerOptions { max_alloc: alloc, ..defaults() });
    }
}

/// Lists CPython writes, loaded as `Vec`s of numbers and strs by both paths: the values,
/// and the errors with their offsets, are the same, whether or not the direct path takes
/// the pickle.
#[test]
fn cpython_lists_load_alike_as_typed_vecs() {
    if !common::python_available("cpython_lists_load_alike_as_typed_vecs") {
        return;
    }
    let expressions = [
        "[]",
        "[7]",
        "list(range(-300, 300, 7)) + [2**31, -2**31 - 1, 2**63 - 1, -2**63]",
        "list(range(1001))",
        "[1, 2**64]",
        "[0.5, -1e300, float('inf'), 1e-310, -0.0, 3]",
        "['', 'a', 'é', '中文', '🐍' * 30, 'x' * 300]",
        "['a', 'b\\udc80']",
        "[True, False, True]",
        "[None, 1, None, 2.5]",
        "[None, 'a', None]",
        "(lambda s: [s, s])('shared')",
        "(lambda l: (l.append(l), l)[1])([])",
        "(1, 2, 3)",
        "[[1], 2]",
        "[1, 'a', 2.5]",
        "[255, 256]",
        "[b'ab']",
    ];
    let (mut loaded, mut refused) = (0, 0);
    for (_, _, bytes) in cpython_pickles(expressions) {
        let results = [
            typed_agree::<Vec<i64>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<u8>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<f64>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<bool>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<Option<i64>>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<Option<f64>>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<String>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<Option<String>>>(&bytes, &defaults()).map(drop),
            typed_agree::<Vec<pickle_core::PyString>>(&bytes, &defaults()).map(drop),
        ];
        for result in results {
            match result {
                Ok(()) => loaded += 1,
                Err(_) => refused += 1,
            }
        }
    }
    // Every expression loads as some type and most refuse some other: both sides are met.
    assert!(loaded >= expressions.len() * 6, "{loaded} loaded");
    assert!(refused >= expressions.len() * 6, "{refused} refused");
}

/// A record as Python code writes one: a plain dict, loaded as a `#[pickle(dict)]` struct.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Record {
    id: i64,
    name: String,
    tags: Vec<std::rc::Rc<String>>,
    score: Option<f64>,
    #[pickle(default)]
    note: Option<String>,
    #[pickle(skip)]
    cache: Vec<u8>,
}

/// Which tags of which records are one `Rc`: for each tag, the position of the first tag
/// that is the same allocation.
fn tag_sharing(records: &[Record]) -> Vec<usize> {
    let tags: Vec<&std::rc::Rc<String>> = records.iter().flat_map(|r| &r.tags).collect();
    tags.iter().map(|t| tags.iter().position(|u| std::rc::Rc::ptr_eq(t, u)).unwrap_or(usize::MAX)).collect()
}

/// Lists of dicts CPython writes, loaded as derived `#[pickle(dict)]` structs by the typed
/// fast path (`de/stream.rs`) and by the general loader: the same records, the same tags
/// shared, or the same error, and the fast path takes what it is meant to.
#[test]
fn cpython_records_load_alike_as_derived_structs() {
    if !common::python_available("cpython_records_load_alike_as_derived_structs") {
        return;
    }
    // (expression, whether the fast path takes it at protocols 1 to 5)
    let expressions = [
        ("[{'id': 1, 'name': 'a', 'tags': ['x', 'y'], 'score': 1.5}]", true),
        ("[{'id': i, 'name': 'n%d' % i, 'tags': ['x', 'y'][: i % 3], 'score': None} for i in range(30)]", true),
        ("(lambda t: [{'id': i, 'name': 'é', 'tags': [t[i % 2], t[0]], 'score': 2} for i in range(5)])(['s', 't'])", true),
        ("[{'name': 'a', 'id': 2, 'score': 0.5, 'tags': [], 'note': 'n'}, {'id': 3, 'name': 'b', 'tags': ['q'], 'score': None}]", true),
        ("[{'id': 1, 'name': 'a', 'tags': [], 'score': None, 'extra': 1}, {'id': 2, 'name': 'b', 'tags': [], 'score': None}]", false),
        ("[{'id': 1, 'name': 'a', 'tags': [], 'score': None}, {'id': 2, 'name': 'b', 'tags': []}]", false),
        ("[{'id': 1, 'name': 'a', 'tags': [1], 'score': None}, {'id': 2, 'name': 'b', 'tags': [], 'score': 1}]", false),
        ("[{'id': 2**70, 'name': 'a', 'tags': [], 'score': None}, {'id': 2, 'name': 'b', 'tags': [], 'score': 1}]", false),
        ("(lambda d: [d, d])({'id': 1, 'name': 'a', 'tags': [], 'score': None})", false),
        ("(lambda l: [{'id': 1, 'name': 'a', 'tags': l, 'score': None}, {'id': 2, 'name': 'b', 'tags': l, 'score': None}])(['x', 'y'])", false),
        ("[{'id': 1, 'name': 'a\\udc80', 'tags': [], 'score': None}, {'id': 2, 'name': 'b', 'tags': [], 'score': 1}]", false),
        ("[{1: 1, 'name': 'a', 'tags': [], 'score': None}, {'id': 2, 'name': 'b', 'tags': [], 'score': 1}]", false),
        ("[]", true),
    ];
    let (mut loaded, mut refused, mut streamed) = (0, 0, 0);
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(|(e, _)| *e)) {
        let (expression, taken) = &expressions[index];
        let fast = pickle_core::__private::load_streamed::<Vec<Record>>(&bytes, &defaults());
        if protocol > 0 {
            assert_eq!(fast.is_some(), *taken, "{expression} at protocol {protocol}");
        }
        let general = Unpickler::new(Cursor::new(&bytes)).load::<Vec<Record>>();
        match (fast, &general) {
            (Some(fast), Ok(general)) => {
                assert_eq!(&fast, general, "{expression} at protocol {protocol}");
                assert_eq!(tag_sharing(&fast), tag_sharing(general), "{expression} at protocol {protocol}");
                streamed += 1;
            }
            (Some(fast), Err(e)) => panic!("{expression} at protocol {protocol}: fast {fast:?} but general {e}"),
            (None, _) => {}
        }
        match typed_agree::<Vec<Record>>(&bytes, &defaults()) {
            Ok(_) => loaded += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(streamed >= 4 * 5 && loaded > streamed && refused >= 6 * 6, "{streamed} {loaded} {refused}");
}

/// A type that holds itself: it nests as deeply as the pickle does.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Tree {
    level: i64,
    children: Vec<Tree>,
}

/// Deep input through a recursive type on a test thread's small stack: the fast path grows
/// its stack as the general loader does, and both give the same tree.
#[test]
fn deep_recursive_structs_load_alike() {
    let levels = 3000;
    // Two entries in each dict and two items in each list: batches (MARK ... SETITEMS), which
    // the fast path reads whatever they hold.
    let node = |level: i64, children: Vec<Value>| {
        Value::Dict(vec![(Value::from("level"), Value::Int(level)), (Value::from("children"), Value::List(children))])
    };
    let deep = (0..levels).fold(node(0, vec![]), |tree, level| node(level, vec![tree, node(-1, vec![])]));
    let options = pickle_core::PicklerOptions { protocol: 4, max_depth: 10_000, ..Default::default() };
    let bytes = pickle_core::dumps_with(&deep, &options).unwrap();
    let fast = pickle_core::__private::load_streamed::<Tree>(&bytes, &defaults()).expect("the fast path takes it");
    let general = Unpickler::new(Cursor::new(&bytes)).load::<Tree>().unwrap();
    let depth = |mut tree: &Tree| {
        let mut depth = 0;
        while let Some(first) = tree.children.first() {
            assert_eq!(tree.children.len(), 2);
            (tree, depth) = (first, depth + 1);
        }
        depth
    };
    assert_eq!((depth(&fast), depth(&general)), (levels, levels));
}

/// `loads_bytes` borrows the payload of a `bytes` written as it is (protocols 3 to 5), and
/// otherwise gives what `loads` gives for `Bytes`: the same payload, or the same error.
#[test]
fn cpython_bytes_load_borrowed_where_written_as_they_are() {
    if !common::python_available("cpython_bytes_load_borrowed_where_written_as_they_are") {
        return;
    }
    // (expression, whether it is a bytes)
    let expressions = [
        ("b''", true),
        ("b'x'", true),
        ("bytes(range(256)) * 2", true),
        ("b'\\xff' * 70000", true),
        ("bytearray(b'ab')", false),
        ("'text'", false),
        ("[b'in a list']", false),
    ];
    let mut borrowed = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(|(e, _)| *e)) {
        let (expression, is_bytes) = &expressions[index];
        let with_trailing = [&bytes[..], b"."].concat();
        for input in [&bytes[..], &with_trailing[..], &bytes[..bytes.len() - 1]] {
            let general = pickle_core::loads::<pickle_core::Bytes>(input);
            match (pickle_core::loads_bytes(input), general) {
                (Ok(payload), Ok(general)) => {
                    assert_eq!(&payload[..], &general.0[..], "{expression} at protocol {protocol}");
                    if let std::borrow::Cow::Borrowed(slice) = payload {
                        assert!(input.as_ptr_range().contains(&slice.as_ptr()) || slice.is_empty());
                        borrowed += 1;
                    } else {
                        assert!(protocol < 3, "{expression} at protocol {protocol} was copied");
                    }
                }
                (Err(e), Err(g)) => assert_eq!(e.to_string(), g.to_string(), "{expression} at protocol {protocol}"),
                (fast, general) => panic!("{expression} at protocol {protocol}: {fast:?} but {general:?}"),
            }
        }
        if *is_bytes && protocol >= 3 {
            assert!(matches!(pickle_core::loads_bytes(&bytes), Ok(std::borrow::Cow::Borrowed(_))));
        }
    }
    assert_eq!(borrowed, 4 * 3);
}

/// `load_classes.Account` of `tests/python/load_classes.py`: a plain class, which
/// `object.__reduce_ex__` pickles as its class, NEWOBJ and its `__dict__`.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Account {
    owner: std::rc::Rc<String>,
    balance: i64,
    history: Vec<i64>,
}

/// Instances of a plain Python class as CPython writes them, loaded as a derived struct by
/// the typed fast path (protocols 1 to 5: `copyreg._reconstructor` or NEWOBJ, GLOBAL or
/// STACK_GLOBAL) and by the general loader: the same values, the same sharing, the same
/// errors; and a class policy is kept by both.
#[test]
fn cpython_class_instances_load_alike_as_derived_structs() {
    if !common::python_available("cpython_class_instances_load_alike_as_derived_structs") {
        return;
    }
    let account = "__import__('load_classes').Account";
    let circle = "__import__('load_classes').Circle";
    // (expression, whether the fast path takes it at protocols 4 and 5)
    let expressions = [
        format!("[{account}('o%d' % (i % 3), i, [i, -i]) for i in range(20)]"),
        format!("(lambda o: [{account}(o, 1, []), {account}(o, 2, [7, 8])])('shared owner')"),
        format!("[{account}('a', 1, [1, 2]), {account}('b', 2, [3, 4])]"),
        format!("[{account}('a', 2**70, [1, 2]), {account}('b', 2, [3, 4])]"),
        format!("(lambda a: [a, a])({account}('a', 1, [1, 2]))"),
        format!("[{circle}(1), {circle}(2)]"),
        format!("(lambda a: (a.__dict__.update(extra=1), [a, a])[1])({account}('a', 1, [1, 2]))"),
        format!(
            "(lambda a: (a.__dict__.pop('history'), [a, {account}('b', 1, [1, 2])])[1])({account}('a', 1, [1, 2]))"
        ),
    ];
    let taken = [true, true, true, false, false, false, false, false];
    let sharing = |accounts: &[Account]| {
        let owners: Vec<&std::rc::Rc<String>> = accounts.iter().map(|a| &a.owner).collect();
        owners.iter().map(|o| owners.iter().position(|p| std::rc::Rc::ptr_eq(o, p))).collect::<Vec<_>>()
    };
    let allow = pickle_core::ClassPolicy::new().allow("load_classes", "Account");
    let refuse = pickle_core::ClassPolicy::new().allow("load_classes", "Circle");
    let mut streamed = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(String::as_str)) {
        let (expression, taken) = (&expressions[index], taken[index]);
        for policy in [None, Some(allow.clone()), Some(refuse.clone())] {
            let options = UnpicklerOptions { class_policy: policy.clone(), ..defaults() };
            let fast = pickle_core::__private::load_streamed::<Vec<Account>>(&bytes, &options);
            // From protocol 1: a `copyreg._reconstructor` reduction below 2, NEWOBJ from 2.
            let expected =
                taken && protocol >= 1 && policy.as_ref().is_none_or(|p| p.allows("load_classes", "Account"));
            assert_eq!(fast.is_some(), expected, "{expression} at protocol {protocol} with {policy:?}");
            let general = Unpickler::new(Cursor::new(&bytes)).with_options(options.clone()).load::<Vec<Account>>();
            if let Some(fast) = fast {
                let general = general.as_ref().unwrap_or_else(|e| panic!("{expression}: fast loads, general: {e}"));
                assert_eq!(&fast, general, "{expression} at protocol {protocol}");
                assert_eq!(sharing(&fast), sharing(general), "{expression} at protocol {protocol}");
                streamed += 1;
            }
            let _ = typed_agree::<Vec<Account>>(&bytes, &options);
        }
    }
    // Three expressions at protocols 1 to 5, with no policy and with the one allowing them.
    assert_eq!(streamed, 3 * 5 * 2);
    // One instance twice in the list, as `Rc`s: one allocation on both paths.
    for (_, protocol, bytes) in cpython_pickles([expressions[4].as_str()]) {
        let fast = pickle_core::__private::load_streamed::<Vec<std::rc::Rc<Account>>>(&bytes, &defaults());
        assert_eq!(fast.is_some(), protocol >= 1);
        let general = pickle_core::load::<Vec<std::rc::Rc<Account>>, _>(Cursor::new(&bytes)).unwrap();
        assert!(std::rc::Rc::ptr_eq(&general[0], &general[1]));
        if let Some(fast) = fast {
            assert!(std::rc::Rc::ptr_eq(&fast[0], &fast[1]) && fast == general);
        }
    }
}

/// Class instances and globals as CPython writes them, loaded as `Value`s by the direct
/// path (GLOBAL or STACK_GLOBAL, NEWOBJ of an empty tuple, BUILD: protocols 2 to 5, two or
/// more instances) and by the general loader: the same values and sharing (the class, the
/// shared `copyreg.__newobj__`, shared attribute values and instances), the same errors,
/// the same `fresh_names` of C-implemented globals, and a class policy kept by both.
#[test]
fn cpython_class_instances_and_globals_load_alike_as_values() {
    if !common::python_available("cpython_class_instances_and_globals_load_alike_as_values") {
        return;
    }
    let account = "__import__('load_classes').Account";
    let circle = "__import__('load_classes').Circle";
    // (expression, the lowest protocol at which the direct path takes it, if any): NEWOBJ
    // from protocol 2 (below, instances are `copyreg._reconstructor` reductions), BINPUT
    // from protocol 1 (protocol 0's PUT is text).
    let expressions = [
        (format!("[{account}('o%d' % (i % 3), i, [i, -i]) for i in range(20)]"), Some(2)),
        (format!("(lambda o: [{account}(o, 1, []), {account}(o, 2, [7, 8])])('shared owner')"), Some(2)),
        (format!("[{account}('a', 1, [1]), {circle}(2), {account}('b', 2, [])]"), Some(2)),
        (format!("{{'first': {circle}(1), 'second': ({circle}(2),)}}"), Some(2)),
        // One NEWOBJ: `copyreg.__newobj__` is not shared, which the direct path leaves.
        (format!("[{account}('a', 1, [1, 2])]"), None),
        // An instance reached twice: fetched before its BUILD.
        (format!("(lambda a: [a, a, {circle}(3)])({account}('a', 1, [1, 2]))"), None),
        // Globals alone; C-implemented ones make their module and name strs afresh, and
        // Python 2 names are mapped below protocol 3.
        ("[__import__('datetime').date, __import__('datetime').time, __import__('array').array]".into(), Some(1)),
        (format!("[{account}, {circle}, {account}, __import__('load_classes').Measurement]"), Some(1)),
        ("[len, __import__('collections').OrderedDict, __import__('collections').abc.Mapping]".into(), Some(1)),
        // Instances without attributes: no state, no BUILD.
        (format!("[[{circle}.__new__({circle})], {circle}.__new__({circle})]"), Some(2)),
    ];
    let allow_all = pickle_core::ClassPolicy::new()
        .allow("load_classes", "Account")
        .allow("load_classes", "Circle")
        .allow("load_classes", "Measurement");
    let refuse_circle = pickle_core::ClassPolicy::new().allow("load_classes", "Account");
    let mut taken_count = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(|(e, _)| e.as_str())) {
        let (expression, taken) = (&expressions[index].0, expressions[index].1);
        for policy in [None, Some(allow_all.clone()), Some(refuse_circle.clone())] {
            let options = UnpicklerOptions { class_policy: policy.clone(), ..defaults() };
            let result = agree(&bytes, &options);
            let allowed = result.is_ok();
            let direct = pickle_core::__private::load_direct(&bytes, &options);
            let expected = taken.is_some_and(|lowest| protocol >= lowest) && allowed;
            assert_eq!(direct.is_some(), expected, "{expression} at protocol {protocol} with {policy:?}: {result:?}");
            taken_count += usize::from(direct.is_some());
        }
    }
    assert!(taken_count >= 8 * 4, "{taken_count}");
    // Nesting limits around an instance's depth (its state's list, in its state dict, in
    // the instance, in the list) and memo and allocation limits: the same answers.
    let limited = [&expressions[0].0, &expressions[3].0, &expressions[9].0];
    for (_, protocol, bytes) in cpython_pickles(limited.map(String::as_str)) {
        for max_depth in 1..=6 {
            let _ = agree(&bytes, &UnpicklerOptions { max_depth, ..defaults() });
        }
        for max_memo in [1, 5, 50] {
            let _ = agree(&bytes, &UnpicklerOptions { max_memo, ..defaults() });
        }
        for max_alloc in (0..bytes.len() as u64 * 200).step_by(700) {
            let _ = agree(&bytes, &UnpicklerOptions { max_alloc, ..defaults() });
        }
        let _ = protocol;
    }
}

/// `collections.UserDict`, which protocols 0 to 2 name by its Python 2 name,
/// `UserDict.IterableUserDict`.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(module = "collections", name = "UserDict")]
struct UserDict {
    data: Pair,
}

/// The same class by its Python 2 name, which the general loader maps away from below
/// protocol 3: such a struct does not load from those pickles, by either path.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(module = "UserDict", name = "IterableUserDict")]
struct Python2UserDict {
    data: Pair,
}

/// A dict of two known keys.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Pair {
    a: i64,
    b: i64,
}

/// A class named by GLOBAL with a Python 2 name: both paths map it (below protocol 3, with
/// `fix_imports`) by the one rule, and agree with `fix_imports` on and off, and on a short
/// line limit.
#[test]
fn renamed_classes_load_alike_as_derived_structs() {
    if !common::python_available("renamed_classes_load_alike_as_derived_structs") {
        return;
    }
    let expression =
        "[__import__('collections').UserDict({'a': 1, 'b': 2}), __import__('collections').UserDict(a=3, b=4)]";
    for (_, protocol, bytes) in cpython_pickles([expression]) {
        for fix_imports in [true, false] {
            for max_line in [10, 100] {
                let options = UnpicklerOptions { fix_imports, max_line, ..defaults() };
                let result = typed_agree::<Vec<UserDict>>(&bytes, &options);
                let fast = pickle_core::__private::load_streamed::<Vec<UserDict>>(&bytes, &options);
                // `collections` is longer than 10 bytes: a line GLOBAL cannot have then. At
                // protocol 0 the state is a dict the fast path leaves alone.
                let named = protocol == 3 || ((1..=2).contains(&protocol) && fix_imports);
                let expected = protocol >= 4 || (named && max_line == 100);
                assert_eq!(fast.is_some(), expected, "protocol {protocol}, fix_imports {fix_imports}: {result:?}");
                if fix_imports && (max_line == 100 || protocol >= 4) && protocol >= 2 {
                    assert!(result.is_ok(), "protocol {protocol}: {result:?}");
                }
                let python2 = typed_agree::<Vec<Python2UserDict>>(&bytes, &options);
                assert_eq!(python2.is_ok(), protocol == 2 && !fix_imports && max_line == 100, "{python2:?}");
            }
        }
    }
}

/// A dict of one entry, as Python code often wraps data.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Wrapper {
    items: Vec<i64>,
}

/// Batches of one holding a container: the fast path looks ahead by stack effects to
/// where they end, at any depth; both paths agree.
#[test]
fn cpython_one_entry_containers_load_alike() {
    if !common::python_available("cpython_one_entry_containers_load_alike") {
        return;
    }
    // (expression, whether the fast path takes it at protocols 1 to 5)
    let wrapper = [("{'items': [1, 2, 3]}", true), ("{'items': []}", true), ("{'items': [7]}", true)];
    for (index, protocol, bytes) in cpython_pickles(wrapper.iter().map(|(e, _)| *e)) {
        let (expression, taken) = wrapper[index];
        let fast = pickle_core::__private::load_streamed::<Wrapper>(&bytes, &defaults());
        assert_eq!(fast.is_some(), taken && protocol > 0, "{expression} at protocol {protocol}");
        let general = typed_agree::<Wrapper>(&bytes, &defaults());
        if let Some(fast) = fast {
            assert_eq!(Ok(fast), general, "{expression} at protocol {protocol}");
        }
    }
    // Batches of one in batches of one (a list of one one-entry dict, a list of one list
    // of one list).
    let nested = [
        ("[{'items': [1]}]", true),
        ("[{'items': [1, 2]}, {'items': [3]}]", true),
        ("[[1], [2]]", true),
        ("[[[1]]]", true),
    ];
    for (index, protocol, bytes) in cpython_pickles(nested.iter().map(|(e, _)| *e)) {
        let (expression, taken) = nested[index];
        let fast = match index {
            0 | 1 => pickle_core::__private::load_streamed::<Vec<Wrapper>>(&bytes, &defaults()).map(drop),
            2 => pickle_core::__private::load_streamed::<Vec<Vec<i64>>>(&bytes, &defaults()).map(drop),
            _ => pickle_core::__private::load_streamed::<Vec<Vec<Vec<i64>>>>(&bytes, &defaults()).map(drop),
        };
        assert_eq!(fast.is_some(), taken && protocol > 0, "{expression} at protocol {protocol}");
        let _ = typed_agree::<Vec<Wrapper>>(&bytes, &defaults());
        let _ = typed_agree::<Vec<Vec<i64>>>(&bytes, &defaults());
        let _ = typed_agree::<Vec<Vec<Vec<i64>>>>(&bytes, &defaults());
    }
}

/// Long lists, whose batches after the first the direct path reads straight into the list
/// while they hold numbers, bools and `None`s: CPython's, with other items, sharing and a
/// cycle in a later batch, at every protocol (framed from 4), load alike, and at
/// protocols 2 to 5 by the direct path where it takes plain data.
#[test]
fn cpython_long_lists_load_alike() {
    if !common::python_available("cpython_long_lists_load_alike") {
        return;
    }
    // (expression, whether the direct path takes it at protocols 2 to 5)
    let expressions = [
        ("list(range(-1500, 1500))", true),
        ("[i / 7 for i in range(2100)] + [None, True, False, 2**70, -2**100] * 300", true),
        ("list(range(1200)) + ['s', 'é', [1], (2,), {}, 3.5] + list(range(1200))", true),
        ("list(range(1000)) + [[]] + list(range(1000))", true),
        ("(lambda x: list(range(1000)) + [x, 1, x, 2.5] + [x] * 1000)([5])", true),
        ("(lambda s: [0.5] * 1999 + [s, s])('shared')", true),
        ("(lambda l: (l.extend(range(1500)), l.append(l), l.append(7), l)[3])([])", false),
    ];
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(|(e, _)| *e)) {
        let (expression, taken) = expressions[index];
        let value = agree(&bytes, &defaults());
        assert!(value.is_ok(), "{expression} at protocol {protocol}: {value:?}");
        let direct = pickle_core::__private::load_direct(&bytes, &defaults());
        // Protocol 1 writes bools and big ints as text, which the direct path leaves.
        if protocol != 1 {
            assert_eq!(direct.is_some(), taken && protocol >= 2, "{expression} at protocol {protocol}");
        }
        for options in [
            UnpicklerOptions { max_depth: 1, ..defaults() },
            UnpicklerOptions { max_alloc: 100_000, ..defaults() },
            UnpicklerOptions { max_memo: 1, ..defaults() },
        ] {
            let _ = agree(&bytes, &options);
        }
    }
}

/// A list of 1000 ints, and a second batch that is not a plain batch of atoms: after atoms
/// read into the list, the batch becomes a tuple or a list, nests a MARK, is put or
/// fetched, framed, filled into the wrong container or left open; and the limits around
/// its charges.
#[test]
fn long_list_batches_that_are_not_plain_load_alike() {
    let mut first = b"\x80\x04]q\x00(".to_vec();
    for i in 0..1000u32 {
        first.extend([b'K', (i % 256) as u8]);
    }
    first.push(b'e');
    let frame = b"\x95\x02\x00\x00\x00\x00\x00\x00\x00";
    let seconds: Vec<Vec<u8>> = vec![
        b"(K\x01G?\xe0\x00\x00\x00\x00\x00\x00N\x88\x89e.".to_vec(),
        b"(K\x01\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01e.".to_vec(),
        b"(K\x01K\x02ta.".to_vec(),
        b"(K\x01K\x02la.".to_vec(),
        b"(K\x01K\x02\x85e.".to_vec(),
        b"(K\x01(K\x02ee.".to_vec(),
        b"((K\x01K\x02ee.".to_vec(),
        b"(K\x01q\x01K\x02h\x01e.".to_vec(),
        b"(K\x01h\x00e.".to_vec(),
        b"(K\x01h\x00K\x02e.".to_vec(),
        [b"(K\x01".as_slice(), frame, b"K\x02e."].concat(),
        [b"(K\x01", &frame[..4]].concat(),
        b"(K\x01K\x02u.".to_vec(),
        b"(K\x01K\x02.".to_vec(),
        b"(K\x01K\x02".to_vec(),
        b"(e.".to_vec(),
        b"(e(K\x01e.".to_vec(),
        b"K\x05(K\x01K\x02e.".to_vec(),
    ];
    let mut options = vec![defaults()];
    options.extend([0, 1, 2].map(|max_depth| UnpicklerOptions { max_depth, ..defaults() }));
    options.extend([0, 1, 2].map(|max_memo| UnpicklerOptions { max_memo, ..defaults() }));
    // The first batch costs 48 bytes an item, and 128 for the list; then two items more.
    for alloc in [48_000, 48_128, 48_128 + 48, 48_128 + 96, 48_128 + 400, 49_000] {
        options.push(UnpicklerOptions { max_alloc: alloc, ..defaults() });
    }
    let mut loaded = 0;
    for second in &seconds {
        let bytes = [first.as_slice(), second].concat();
        for options in &options {
            loaded += agree(&bytes, options).is_ok() as usize;
        }
    }
    assert!(loaded >= seconds.len(), "{loaded} loaded");
}

/// Two dict structs with the same keys in another order.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Xy {
    x: i64,
    y: i64,
}

#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Yx {
    y: i64,
    x: i64,
}

#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Both {
    xy: Vec<Xy>,
    yx: Vec<Yx>,
}

/// The typed fast path knows a key fetched by GET again by its memo index, per struct: the
/// same shared keys name other fields of a struct that orders them otherwise.
#[test]
fn shared_keys_name_each_structs_own_fields() {
    if !common::python_available("shared_keys_name_each_structs_own_fields") {
        return;
    }
    let expressions = ["{'xy': [{'x': i, 'y': -i} for i in range(20)], 'yx': [{'y': i, 'x': -i} for i in range(20)]}"];
    for (_, protocol, bytes) in cpython_pickles(expressions) {
        let both = typed_agree::<Both>(&bytes, &defaults()).unwrap();
        assert_eq!(both.xy[3], Xy { x: 3, y: -3 }, "protocol {protocol}");
        assert_eq!(both.yx[3], Yx { y: 3, x: -3 }, "protocol {protocol}");
        let fast = pickle_core::__private::load_streamed::<Both>(&bytes, &defaults());
        assert_eq!(fast.is_some(), protocol > 0, "protocol {protocol}");
    }
}

/// Pickles whose plain data the direct path decodes up to an opcode it does not (a
/// reduction, a set, a list subclass's items, a persistent id), where it hands what it holds
/// to the general loader, which goes on from that opcode: the same values, sharing and
/// errors as the general loader alone, objects put before the handoff and fetched after it
/// kept as one object, and the handoff taken (nothing read twice) where the pickle has
/// plain data first.
#[test]
fn cpython_pickles_handed_over_part_way_load_alike() {
    if !common::python_available("cpython_pickles_handed_over_part_way_load_alike") {
        return;
    }
    let classes = "__import__('load_classes')";
    // (expression, the lowest protocol at which the direct path hands it over part way)
    let expressions = [
        // Protocol 5 writes a payload before the reduction that takes it.
        ("(lambda p: [p, __import__('decimal').Decimal('1.25')])(b'x' * 70000)".to_owned(), Some(3)),
        ("[bytearray(b'y' * 70000), complex(1, 2)]".to_owned(), Some(2)),
        ("[b'z' * 70000, {1, 2}]".to_owned(), Some(1)),
        // Records of datetimes, Decimals, tuples and None, the keys shared across them.
        (
            "[{'at': __import__('datetime').datetime(2024, 1, 2, 3, 4, 5, i), \
              'price': __import__('decimal').Decimal(i).scaleb(-2), 'pair': (i, 'north'), 'note': None} \
              for i in range(30)]"
                .to_owned(),
            Some(2),
        ),
        // A str put before a reduction and fetched after it.
        ("(lambda s: [s, frozenset([1]), s, {s: s}])('shared text')".to_owned(), Some(2)),
        // A list subclass: NEWOBJ, then APPENDS into the instance.
        (format!("['before', {classes}.Tags(['a', 'b'], 'me')]"), Some(2)),
        // A namedtuple: NEWOBJ with arguments; an enum member: a reduction of its value.
        (format!("[1, 2, {classes}.Pair('l', [3]), {classes}.Color.RED]"), Some(2)),
        // A cycle through a list the direct path was filling.
        ("(lambda l: (l.append(l), l.append({'k': l}), l)[2])(['head'])".to_owned(), Some(1)),
        // A chain of tuples, each fetched twice (in the list and in the next tuple), held
        // when the set after them is handed over.
        (
            "(lambda ts: [ts[-1]] + ts + [{1}])(__import__('functools').reduce(\
              lambda acc, _: acc + [(acc[-1], 'x')], range(40), [('leaf',)]))"
                .to_owned(),
            Some(1),
        ),
        // Dicts whose keys need Python's equality: tuples, floats, a large dict of tuples.
        ("['first', {(1, 2): 'a', (3, 4): 'b'}, {1.5: 'x', 2: 'y'}]".to_owned(), Some(0)),
        ("['first', {(i, -i): i for i in range(20)}, 'last']".to_owned(), Some(0)),
        // One instance: its `copyreg.__newobj__` is one object, unshared.
        (format!("{classes}.Account('a', 1, [1, 2])"), Some(2)),
    ];
    let mut handed_over = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions.iter().map(|(e, _)| e.as_str())) {
        let (expression, lowest) = (&expressions[index].0, expressions[index].1);
        let result = agree(&bytes, &defaults());
        assert!(result.is_ok(), "{expression} at protocol {protocol}: {result:?}");
        let held = pickle_core::__private::direct_hands_over(&bytes, &defaults());
        if lowest.is_some_and(|lowest| protocol >= lowest) {
            assert!(held, "{expression} at protocol {protocol} is not handed over");
            handed_over += 1;
        }
        // Limits met before, at and after the handoff: the same answers.
        let step = bytes.len() / 30 + 1;
        for max_alloc in (0..bytes.len() as u64 * 40).step_by(step * 40) {
            let _ = agree(&bytes, &UnpicklerOptions { max_alloc, ..defaults() });
        }
        for max_depth in 1..=4 {
            let _ = agree(&bytes, &UnpicklerOptions { max_depth, ..defaults() });
        }
        // Cut short anywhere: the same error, at the same offset.
        for cut in (1..bytes.len()).step_by(step) {
            let _ = agree(&bytes[..cut], &defaults());
        }
    }
    assert!(handed_over >= 30, "{handed_over}");
}

/// After a handoff the general loader keeps the unpickler's hooks: persistent ids, kept or
/// given to a function, and out-of-band buffers, met after plain data; and pickles one after
/// another in one slice each start where the last one ended.
#[test]
fn hooks_and_streams_after_a_handoff() {
    use pickle_core::PersistentLoad;
    // A list of two strs, then BINPERSID of a str: pickle.Pickler with a persistent_id that
    // gives 'doc:7' for one object, at protocol 4, as CPython 3.11 writes it.
    let pickle = b"\x80\x04\x95\x16\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94\x8c\x01b\x94\x8c\x05doc:7\x94Qe.";
    assert!(pickle_core::__private::direct_hands_over(pickle, &defaults()));
    let kept: Value = Unpickler::from_slice(pickle).persistent_load(PersistentLoad::Keep).load().unwrap();
    let general: Value = Unpickler::new(Cursor::new(&pickle[..])).persistent_load(PersistentLoad::Keep).load().unwrap();
    assert_eq!(kept, general);
    let called: Value = Unpickler::from_slice(pickle)
        .persistent_load(PersistentLoad::Call(Box::new(|id| Ok(Value::Tuple(vec![id])))))
        .load()
        .unwrap();
    assert_eq!(called, Value::List(vec!["a".into(), "b".into(), Value::Tuple(vec!["doc:7".into()])]));
    // Refused: the error of the general loader, at the BINPERSID.
    let refused = pickle_core::loads::<Value>(pickle).unwrap_err();
    assert_eq!(refused.offset(), Some(30), "{refused}");

    // pickle.dumps([1, PickleBuffer(b'abc')], 5, buffer_callback=bufs.append): NEXT_BUFFER
    // and READONLY_BUFFER after plain data.
    let pickle = b"\x80\x05\x95\t\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x97\x98e.";
    assert!(pickle_core::__private::direct_hands_over(pickle, &defaults()));
    let value: Value = Unpickler::from_slice(pickle).buffers([Value::Bytes(b"abc".to_vec())]).load().unwrap();
    assert_eq!(value, Value::List(vec![Value::Int(1), Value::Bytes(b"abc".to_vec())]));

    // Two pickles in one slice, `pickle.dumps(set(), 2)` (a reduction, handed over) around
    // one the direct path decodes whole.
    let set = b"\x80\x02c__builtin__\nset\nq\x00]q\x01\x85q\x02Rq\x03.";
    let one = dumps(&Value::List(vec![Value::Int(1)]), 2).unwrap();
    let stream = [&set[..], &one, set].concat();
    let mut unpickler = Unpickler::from_slice(&stream);
    for expected in [Value::Set(vec![]), Value::List(vec![Value::Int(1)]), Value::Set(vec![])] {
        assert_eq!(unpickler.load::<Value>().unwrap(), expected);
    }
    assert!(unpickler.remaining().is_empty());
    assert_eq!(unpickler.position(), stream.len() as u64);
}

/// Tuples as CPython writes them (TUPLE1 to TUPLE3 from protocol 2, MARK and TUPLE
/// otherwise), with strs shared between them and a tuple shared by two items: the typed
/// fast path reads them from protocol 1 (protocol 0 writes ints as text, which it leaves to
/// the general loader), a list for a tuple and a tuple of the wrong length are left to the
/// general loader, and both paths agree on each.
#[test]
fn cpython_tuples_load_alike_as_rust_tuples() {
    if !common::python_available("cpython_tuples_load_alike_as_rust_tuples") {
        return;
    }
    use std::rc::Rc;
    let expressions = [
        "[(i, 'name %d' % (i % 3)) for i in range(5)]",
        "[(i, -i, i * 1000, i * 100000) for i in range(3)]",
        "[((1, 'a'), (2, 3, 4, 5)), ((6, 'b'), (7, 8, 9, 10))]",
        "(lambda t: [t, t, (1, 'c')])((0, 'shared'))",
        "((1.5,), ([1, 2, 3],))",
        "[[1, 'a'], (2, 'b')]",
        "[(1, 'a', 2)]",
    ];
    for (index, protocol, bytes) in cpython_pickles(expressions) {
        let options = defaults();
        let fast = match index {
            0 => {
                let value = typed_agree::<Vec<(i64, String)>>(&bytes, &options).unwrap();
                assert_eq!(value[4], (4, "name 1".to_string()));
                pickle_core::__private::load_streamed::<Vec<(i64, String)>>(&bytes, &options).is_some()
            }
            1 => {
                let value = typed_agree::<Vec<(i64, i64, i64, i64)>>(&bytes, &options).unwrap();
                assert_eq!(value[2], (2, -2, 2000, 200000));
                pickle_core::__private::load_streamed::<Vec<(i64, i64, i64, i64)>>(&bytes, &options).is_some()
            }
            2 => {
                type Nested = Vec<((i64, String), (i64, i64, i64, i64))>;
                let value = typed_agree::<Nested>(&bytes, &options).unwrap();
                assert_eq!(value[1], ((6, "b".to_string()), (7, 8, 9, 10)));
                pickle_core::__private::load_streamed::<Nested>(&bytes, &options).is_some()
            }
            3 => {
                let value = typed_agree::<Vec<Rc<(i64, String)>>>(&bytes, &options).unwrap();
                assert!(Rc::ptr_eq(&value[0], &value[1]) && !Rc::ptr_eq(&value[0], &value[2]));
                let fast = pickle_core::__private::load_streamed::<Vec<Rc<(i64, String)>>>(&bytes, &options);
                assert!(fast.as_ref().is_none_or(|v| Rc::ptr_eq(&v[0], &v[1])));
                fast.is_some()
            }
            4 => {
                let floats = typed_agree::<Vec<(f64,)>>(&bytes, &options);
                assert!(floats.is_err(), "a list is no float");
                let value = typed_agree::<((f64,), (Vec<i64>,))>(&bytes, &options).unwrap();
                assert_eq!(value, ((1.5,), (vec![1, 2, 3],)));
                pickle_core::__private::load_streamed::<((f64,), (Vec<i64>,))>(&bytes, &options).is_some()
            }
            5 => {
                // A list where a tuple is asked for: the general loader takes it.
                let value = typed_agree::<Vec<(i64, String)>>(&bytes, &options).unwrap();
                assert_eq!(value, vec![(1, "a".to_string()), (2, "b".to_string())]);
                assert!(pickle_core::__private::load_streamed::<Vec<(i64, String)>>(&bytes, &options).is_none());
                continue;
            }
            _ => {
                assert!(typed_agree::<Vec<(i64, String)>>(&bytes, &options).is_err());
                assert!(pickle_core::__private::load_streamed::<Vec<(i64, String)>>(&bytes, &options).is_none());
                continue;
            }
        };
        assert_eq!(fast, protocol >= 1, "expression {index} at protocol {protocol}");
    }
}

/// Dicts as CPython writes them, into `HashMap` and `BTreeMap`: the typed fast path reads
/// them from protocol 1 (batches of up to 1000 pairs, nested dicts, str keys met again by
/// GET), and both paths agree; a repeated key, which CPython never
/// writes, is left to the general loader.
#[test]
fn cpython_dicts_load_alike_as_rust_maps() {
    if !common::python_available("cpython_dicts_load_alike_as_rust_maps") {
        return;
    }
    use std::collections::{BTreeMap, HashMap};
    type Nested = Vec<HashMap<String, BTreeMap<i64, Vec<i64>>>>;
    let expressions = [
        "{'k%d' % i: i * i for i in range(2500)}",
        "[{'a': {1: [1, 2]}, 'b': {}}, {'a': {2: []}, 'c': {3: [3]}}]",
        "[{'only': {7: [7]}}]",
    ];
    for (index, protocol, bytes) in cpython_pickles(expressions) {
        let options = defaults();
        let fast = match index {
            0 => {
                let value = typed_agree::<HashMap<String, i64>>(&bytes, &options).unwrap();
                assert_eq!((value.len(), value["k2499"]), (2500, 2499 * 2499));
                let sorted = typed_agree::<BTreeMap<String, i64>>(&bytes, &options).unwrap();
                assert_eq!(sorted.len(), 2500);
                pickle_core::__private::load_streamed::<BTreeMap<String, i64>>(&bytes, &options).is_some()
                    && pickle_core::__private::load_streamed::<HashMap<String, i64>>(&bytes, &options).is_some()
            }
            _ => {
                let value = typed_agree::<Nested>(&bytes, &options).unwrap();
                let last = value.last().unwrap();
                let (key, inner) = if index == 1 { ("c", 3) } else { ("only", 7) };
                assert_eq!(last[key][&inner], vec![inner]);
                pickle_core::__private::load_streamed::<Nested>(&bytes, &options).is_some()
            }
        };
        // One-entry containers in one-entry containers included.
        assert_eq!(fast, protocol >= 1, "expression {index} at protocol {protocol}");
    }
    // `{'a': 1, 'a': 2}` written by hand: EMPTY_DICT, MARK, 'a', 1, 'a', 2, SETITEMS.
    let repeated = b"\x80\x04}(\x8c\x01aK\x01\x8c\x01aK\x02u.";
    let options = defaults();
    let _ = typed_agree::<HashMap<String, i64>>(repeated, &options);
    assert!(pickle_core::__private::load_streamed::<HashMap<String, i64>>(repeated, &options).is_none());
}

/// `Box`, `VecDeque` and arrays read as what they hold: the typed fast path takes them from
/// protocol 1; an array of another length is an error by either path.
#[test]
fn cpython_lists_load_alike_as_boxes_deques_and_arrays() {
    if !common::python_available("cpython_lists_load_alike_as_boxes_deques_and_arrays") {
        return;
    }
    use std::collections::VecDeque;
    for (_, protocol, bytes) in cpython_pickles(["[[1, 2, 3], [4, 5, 6]]"]) {
        let options = defaults();
        let arrays = typed_agree::<Vec<[i64; 3]>>(&bytes, &options).unwrap();
        assert_eq!(arrays, vec![[1, 2, 3], [4, 5, 6]]);
        let deques = typed_agree::<Box<Vec<VecDeque<i64>>>>(&bytes, &options).unwrap();
        assert_eq!(deques[1], VecDeque::from(vec![4, 5, 6]));
        assert!(typed_agree::<Vec<[i64; 2]>>(&bytes, &options).is_err());
        let streamed = (
            pickle_core::__private::load_streamed::<Vec<[i64; 3]>>(&bytes, &options).is_some(),
            pickle_core::__private::load_streamed::<Box<Vec<VecDeque<i64>>>>(&bytes, &options).is_some(),
            pickle_core::__private::load_streamed::<Vec<[i64; 2]>>(&bytes, &options).is_some(),
        );
        assert_eq!(streamed, (protocol >= 1, protocol >= 1, false), "protocol {protocol}");
    }
}

/// Sets and frozensets as CPython writes them, into `HashSet` and `BTreeSet`: EMPTY_SET and
/// ADDITEMS batches (an exact multiple of the batch size ends in an empty batch) and MARK,
/// items, FROZENSET at protocols 4 and 5; `set(list)` and `frozenset(list)` reductions
/// below. The typed fast path reads them from protocol 1 (lists at 0 are written another
/// way), and both paths agree; without `builtin_reductions` the reductions are the general
/// loader's to refuse.
#[test]
fn cpython_sets_load_alike_as_rust_sets() {
    if !common::python_available("cpython_sets_load_alike_as_rust_sets") {
        return;
    }
    use std::collections::{BTreeSet, HashMap, HashSet};
    let expressions = [
        "{1, 2, 3}",
        "frozenset({'a', 'b'})",
        "set()",
        "frozenset()",
        "set(range(2000))",
        "set(range(2500))",
        "({1}, frozenset({2}), set(), {'s': {3, 4}})",
    ];
    type Mixed = (HashSet<i64>, BTreeSet<i64>, HashSet<i64>, HashMap<String, BTreeSet<i64>>);
    for (index, protocol, bytes) in cpython_pickles(expressions) {
        let options = defaults();
        let (fast, len) = match index {
            0 | 2 | 4 | 5 => {
                let set = typed_agree::<HashSet<i64>>(&bytes, &options).unwrap();
                assert_eq!(typed_agree::<BTreeSet<i64>>(&bytes, &options).unwrap().len(), set.len());
                let fast = pickle_core::__private::load_streamed::<HashSet<i64>>(&bytes, &options);
                (fast.is_some(), set.len())
            }
            1 | 3 => {
                let set = typed_agree::<BTreeSet<String>>(&bytes, &options).unwrap();
                let fast = pickle_core::__private::load_streamed::<BTreeSet<String>>(&bytes, &options);
                (fast.is_some(), set.len())
            }
            _ => {
                let (one, two, empty, map) = typed_agree::<Mixed>(&bytes, &options).unwrap();
                assert_eq!((one.len(), two.len(), empty.len()), (1, 1, 0));
                assert_eq!(map["s"], BTreeSet::from([3, 4]));
                (pickle_core::__private::load_streamed::<Mixed>(&bytes, &options).is_some(), 4)
            }
        };
        let expected_len = [3, 2, 0, 0, 2000, 2500, 4][index];
        assert_eq!(len, expected_len, "expression {index} at protocol {protocol}");
        assert_eq!(fast, protocol >= 1, "expression {index} at protocol {protocol}");
        // The reduction form is a call to the general loader without builtin_reductions.
        if protocol < 4 {
            let calls = UnpicklerOptions { builtin_reductions: false, ..defaults() };
            assert!(pickle_core::__private::load_streamed::<HashSet<i64>>(&bytes, &calls).is_none());
            let _ = typed_agree::<HashSet<i64>>(&bytes, &calls);
        }
    }
}

/// A record whose name, read as a `String`, is fetched again by GET as one of its `Rc`
/// tags. The typed fast path once took the GET and then read the next str as the tag
/// (`['other']` for `['tagx', 'other']`): both paths now give CPython's list, the tags
/// shared as the general loader shares them.
#[derive(pickle_core::Reconstruct, Debug, PartialEq)]
#[pickle(dict)]
struct Tagged {
    name: String,
    tags: Vec<std::rc::Rc<String>>,
}

#[test]
fn a_str_read_plain_then_fetched_as_rc_loads_alike() {
    if !common::python_available("a_str_read_plain_then_fetched_as_rc_loads_alike") {
        return;
    }
    let expressions = [
        "(lambda s: [{'name': s, 'tags': [s, 'other']}])('tagx')",
        "(lambda s, t: [{'name': s, 'tags': [s, t]}, {'name': t, 'tags': [s, t]}])('tagx', 'other')",
    ];
    let mut taken = 0;
    for (index, protocol, bytes) in cpython_pickles(expressions) {
        let general = typed_agree::<Vec<Tagged>>(&bytes, &defaults()).unwrap();
        assert_eq!(*general[0].tags[0], "tagx", "expression {index} at protocol {protocol}");
        assert_eq!(*general[0].tags[1], "other", "expression {index} at protocol {protocol}");
        if let Some(fast) = pickle_core::__private::load_streamed::<Vec<Tagged>>(&bytes, &defaults()) {
            assert_eq!(fast, general);
            let tags: Vec<&std::rc::Rc<String>> = fast.iter().flat_map(|r| &r.tags).collect();
            let shared: Vec<&std::rc::Rc<String>> = general.iter().flat_map(|r| &r.tags).collect();
            let same = |v: &[&std::rc::Rc<String>]| {
                v.iter().map(|a| v.iter().position(|b| std::rc::Rc::ptr_eq(a, b))).collect::<Vec<_>>()
            };
            assert_eq!(same(&tags), same(&shared), "expression {index} at protocol {protocol}");
            taken += 1;
        }
    }
    assert_eq!(taken, 2 * 5, "the fast path takes both from protocol 1");
}

/// `load_classes.Tick`, whose `__reduce__` is `(Tick, (venue, seq))`.
#[derive(pickle_core::Reconstruct, pickle_core::Reduce, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Tick {
    #[pickle(arg)]
    venue: std::rc::Rc<String>,
    #[pickle(arg)]
    seq: i64,
}

/// Instances of a class reduced with arguments, as CPython writes them (the class met again
/// by GET, a venue str shared): the typed fast path reads the calls from protocol 1 (at 0
/// ints are text) and agrees with the general loader, sharing included; our own pickles
/// are CPython's.
#[test]
fn classes_reduced_with_arguments_load_alike_as_derived_structs() {
    if !common::python_available("classes_reduced_with_arguments_load_alike_as_derived_structs") {
        return;
    }
    let expression =
        "(lambda m, v: [m.Tick(v, i) for i in range(3)] + [m.Tick('other', -1)])(__import__('load_classes'), 'north')";
    let mut taken = 0;
    for (_, protocol, bytes) in cpython_pickles([expression]) {
        let general = typed_agree::<Vec<Tick>>(&bytes, &defaults()).unwrap();
        assert_eq!((general[2].seq, general[3].venue.as_str()), (2, "other"));
        let fast = pickle_core::__private::load_streamed::<Vec<Tick>>(&bytes, &defaults());
        assert_eq!(fast.is_some(), protocol >= 1, "protocol {protocol}");
        if let Some(fast) = fast {
            assert_eq!(fast, general);
            assert!(std::rc::Rc::ptr_eq(&fast[0].venue, &fast[1].venue), "protocol {protocol}");
            taken += 1;
        }
        assert_eq!(pickle_core::dumps(&general, protocol).unwrap(), bytes, "protocol {protocol}");
    }
    assert_eq!(taken, 5);
}
