//! What the decoder keeps of identity: GET and DUP share one node, cycles are weak links,
//! and nothing leaks.

use pickle_core::{dumps, loads, Value};

fn shared_id(v: &Value) -> usize {
    match v {
        Value::Shared(s) => s.id(),
        other => panic!("expected a shared node, got {other}"),
    }
}

#[test]
fn a_memo_get_is_the_same_node() {
    // a = []; b = (a, a), as CPython 3.11 writes it at protocol 2.
    let pickle = b"\x80\x02]q\x00h\x00\x86q\x01.";
    let v = loads::<Value>(pickle).unwrap();
    let items = v.as_tuple().unwrap();
    assert_eq!(shared_id(&items[0]), shared_id(&items[1]));
    assert_eq!(dumps(&v, 2).unwrap(), pickle);
}

#[test]
fn dup_is_the_same_node() {
    // EMPTY_LIST DUP TUPLE2: a tuple holding one list twice, never memoized.
    let v = loads::<Value>(b"]2\x86.").unwrap();
    let items = v.as_tuple().unwrap();
    assert_eq!(shared_id(&items[0]), shared_id(&items[1]));
}

#[test]
fn once_referenced_objects_are_not_wrapped() {
    let v = loads(&dumps(&Value::list([Value::list([1]), Value::from("s")]), 4).unwrap()).unwrap();
    assert!(
        matches!(&v, Value::List(items) if matches!(items[0], Value::List(_)) && matches!(items[1], Value::Str(_)))
    );
}

#[test]
fn cycles_from_a_pickle_are_freed() {
    // l = []; l.append(l); d = {}; d['d'] = d; both in a list, at every protocol.
    for protocol in 0..=5u8 {
        let node = pickle_core::Shared::empty();
        node.set(Value::List(vec![Value::Cycle(node.downgrade())])).unwrap();
        let pickle = dumps(&Value::list([Value::Shared(node), Value::from(1)]), protocol).unwrap();
        let v = loads::<Value>(&pickle).unwrap();
        let inner = &v.as_list().unwrap()[0];
        let Value::Shared(s) = inner else { panic!("the self-containing list is shared") };
        let weak = s.downgrade();
        assert!(matches!(s.get().unwrap().as_list().unwrap()[0], Value::Cycle(_)));
        assert_eq!(v.to_string(), "[[[...]], 1]");
        drop(v);
        assert!(weak.upgrade().is_none(), "protocol {protocol}: the cycle leaked");
    }
}

#[test]
fn memo_only_garbage_is_dropped() {
    // A list PUT in the memo and popped: it is not part of the value.
    let v = loads::<Value>(b"\x80\x02]q\x00(K\x01K\x02e0K\x07.").unwrap();
    assert_eq!(v, Value::from(7));
}

#[test]
fn unhashable_keys_are_refused_as_cpython_refuses_them() {
    // {[]: None}: a list as a key, in a small dict (compared pairwise)...
    let err = loads::<Value>(b"}]Ns.").unwrap_err();
    assert!(err.to_string().contains("unhashable type: 'list'"), "{err}");
    // ... and a tuple holding a list among many keys (hashed).
    let mut big = b"}(".to_vec();
    for i in 0..20u8 {
        big.extend([b'K', i, b'N']);
    }
    big.extend(b"K\x01]\x86Nu.");
    let err = loads::<Value>(&big).unwrap_err();
    assert!(err.to_string().contains("unhashable type: 'list'"), "{err}");
    // Equal keys of different types collapse, as in a Python dict: {1: 'a', 1.0: 'b', True: 'c'}.
    let v = loads::<Value>(
        b"}(K\x01X\x01\x00\x00\x00aG?\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00b\x88X\x01\x00\x00\x00cu.",
    )
    .unwrap();
    assert_eq!(v, Value::dict([(1, "c")]));
}
