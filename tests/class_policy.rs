//! The class policy against pickles CPython writes: what it lets through, what it stops,
//! and that it stops it at the opcode that names the global, before anything else is read.

mod common;

use common::{cpython_dumps, python_available};
use pickle_core::{ClassPolicy, ErrorKind, Reconstruct, Unpickler, Value};

#[derive(Reconstruct, Debug, PartialEq)]
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
    tags: Vec<Value>,
    account: Option<Account>,
}

fn policy() -> ClassPolicy {
    ClassPolicy::new().allow("load_classes", "Account").allow_name("load_classes.Measurement")
}

/// CPython's pickles of `code` (binding `value`) at every protocol.
fn pickles(code: &str) -> Vec<Vec<u8>> {
    let answers = cpython_dumps(&[(format!("import os, load_classes as m\nvalue = {code}"), (0..=5).collect())]);
    answers.into_iter().next().unwrap().into_iter().map(|a| a.unwrap()).collect()
}

fn forbidden<T: Reconstruct + std::fmt::Debug>(bytes: &[u8], what: &str) -> String {
    let e = Unpickler::from_slice(bytes).class_policy(policy()).load::<T>().expect_err(what);
    let ErrorKind::Forbidden(name) = e.kind() else { panic!("{what}: not refused by the policy: {e}") };
    let offset = e.offset().unwrap_or_else(|| panic!("{what}: no offset: {e}"));
    assert!(e.opcode().is_some(), "{what}: no opcode: {e}");
    // Everything before the offending opcode is fine: the pickle cut there is only unfinished.
    let cut = Unpickler::from_slice(&bytes[..offset as usize]).class_policy(policy()).load::<Value>().unwrap_err();
    assert!(matches!(cut.kind(), ErrorKind::Truncated(_)), "{what}: before byte {offset}: {cut}");
    name.clone()
}

#[test]
fn os_system_is_refused_at_every_protocol() {
    if !python_available("os_system_is_refused_at_every_protocol") {
        return;
    }
    for (p, bytes) in pickles("os.system").iter().enumerate() {
        let name = forbidden::<Value>(bytes, &format!("os.system at protocol {p}"));
        assert_eq!(name, format!("{}.system", if cfg!(windows) { "nt" } else { "posix" }));
    }
}

#[test]
fn a_disallowed_class_deep_inside_an_allowed_one_is_refused() {
    if !python_available("a_disallowed_class_deep_inside_an_allowed_one_is_refused") {
        return;
    }
    let code = "m.Measurement('t', 1.0, [[[{'k': (m.Circle(1),)}]]], m.Account('Ada', 1, []))";
    for (p, bytes) in pickles(code).iter().enumerate() {
        assert_eq!(forbidden::<Measurement>(bytes, &format!("protocol {p}")), "load_classes.Circle");
        assert_eq!(forbidden::<Value>(bytes, &format!("protocol {p}")), "load_classes.Circle");
    }
}

#[test]
fn dotted_names_do_not_get_through() {
    if !python_available("dotted_names_do_not_get_through") {
        return;
    }
    // A method of an allowed class: STACK_GLOBAL 'Account.__init__' at 4+, and below 4
    // `getattr(load_classes.Account, '__init__')`, which the policy checks as composed.
    for (p, bytes) in pickles("m.Account.__init__").iter().enumerate() {
        assert_eq!(forbidden::<Value>(bytes, &format!("protocol {p}")), "load_classes.Account.__init__");
    }
    // The module path spelled into the name, or the name into the module.
    let tricks: [&[u8]; 3] = [
        b"cload_classes.Account\nx\n.",
        b"cload_classes\nAccount.x\n.",
        b"\x80\x04\x8c\x0cload_classes\x94\x8c\x0fAccount.__new__\x94\x93\x94.",
    ];
    for trick in tricks {
        forbidden::<Value>(trick, &String::from_utf8_lossy(trick));
    }
    assert!(policy().allows("load_classes", "Account"));
    assert!(!policy().allows("load_classes.Account", ""));
    assert!(!policy().allows("load_classes", "Account.x"));
}

#[test]
fn allowed_classes_and_plain_data_load_at_every_protocol() {
    if !python_available("allowed_classes_and_plain_data_load_at_every_protocol") {
        return;
    }
    let expected = Account { owner: "Ada".into(), balance: 3, history: vec![1] };
    for (p, bytes) in pickles("m.Account('Ada', 3, [1])").iter().enumerate() {
        let got: Account = Unpickler::from_slice(bytes).class_policy(policy()).load().unwrap();
        assert_eq!(got, expected, "protocol {p}");
    }
    let data = "[b'ab', b'', {1, 2}, frozenset([3]), bytearray(b'x'), 2**100, ('t', None, 1.5)]";
    for (p, bytes) in pickles(data).iter().enumerate() {
        let strict = Unpickler::from_slice(bytes).class_policy(ClassPolicy::new()).load::<Value>();
        let open: Value = pickle_core::loads(bytes).unwrap();
        assert_eq!(strict.unwrap_or_else(|e| panic!("protocol {p}: {e}")), open, "protocol {p}");
    }
}
