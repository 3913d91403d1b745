//! Shared helpers of the integration tests: running the real CPython and mirroring values.
//!
//! Interop tests need `python3` (3.11, with the C pickler). When `CI=true` they fail without
//! it; elsewhere they print a loud SKIPPED line and pass, so a machine without Python can
//! still run the rest of the suite.

#![allow(dead_code)]

pub mod matrix;
pub mod numpy;
pub mod seeds;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

use pickle_core::value::{bytes_repr, float_repr, str_repr};
use pickle_core::Value;
use serde_json::{json, Value as Json};

const CPYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/cpython.py");

/// The Python interpreter to test against: `$PYTHON`, or `python3`.
fn interpreter() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether CPython is available. Panics when it is not and `CI=true`; otherwise says loudly
/// that the calling test is skipped.
pub fn python_available(test: &str) -> bool {
    let ok = Command::new(interpreter())
        .args(["-c", "import sys, _pickle; assert sys.version_info >= (3, 8)"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: python3 with _pickle is required when CI=true");
        }
        eprintln!("\n*** SKIPPED {test}: no python3 with _pickle on this machine; interop is NOT tested ***\n");
    }
    ok
}

/// Sends one request to `tests/common/cpython.py` and returns its answer.
fn ask_cpython(request: &Json) -> Json {
    ask_python(&interpreter(), CPYTHON_SCRIPT, request)
}

/// Runs `script` with the interpreter `python`, sends it one JSON request on stdin and
/// returns its JSON answer; fails with the script's stderr if it fails.
pub fn ask_python(python: &str, script: &str, request: &Json) -> Json {
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} starts: {e}"));
    let input = serde_json::to_vec(request).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("python3 runs");
    writer.join().unwrap().expect("request written");
    assert!(out.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script answers JSON")
}

/// What CPython answered for one protocol: the pickle, or the error it raised.
pub type Answer = Result<Vec<u8>, String>;

fn answer(j: &Json) -> Answer {
    match (j.get("ok"), j.get("error")) {
        (Some(h), _) => Ok(hex_decode(h.as_str().unwrap())),
        (_, Some(e)) => Err(e.as_str().unwrap().to_owned()),
        _ => panic!("unexpected answer {j}"),
    }
}

/// `pickle.dumps(value, p)` for each case's code (which binds `value`) and protocol.
pub fn cpython_dumps(cases: &[(String, Vec<u8>)]) -> Vec<Vec<Answer>> {
    let cases: Vec<Json> =
        cases.iter().map(|(code, protocols)| json!({"code": code, "protocols": protocols})).collect();
    let reply = ask_cpython(&json!({"op": "dumps", "cases": cases}));
    reply.as_array().unwrap().iter().map(|per| per.as_array().unwrap().iter().map(answer).collect()).collect()
}

/// `pickletools.dis` of each pickle.
pub fn cpython_dis(pickles: &[&[u8]]) -> Vec<String> {
    let hexed: Vec<String> = pickles.iter().map(|p| hex_encode(p)).collect();
    let reply = ask_cpython(&json!({"op": "dis", "pickles": hexed}));
    reply.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// `repr(pickle.loads(p))` for each pickle.
pub fn cpython_loads_repr(pickles: &[&[u8]]) -> Vec<Answer> {
    let hexed: Vec<String> = pickles.iter().map(|p| hex_encode(p)).collect();
    let reply = ask_cpython(&json!({"op": "loads_repr", "pickles": hexed}));
    reply
        .as_array()
        .unwrap()
        .iter()
        .map(|j| match (j.get("ok"), j.get("error")) {
            (Some(s), _) => Ok(s.as_str().unwrap().as_bytes().to_vec()),
            (_, Some(e)) => Err(e.as_str().unwrap().to_owned()),
            _ => panic!("unexpected answer {j}"),
        })
        .collect()
}

/// What a `run` case produced: the pickle bytes, and `repr` of what CPython loaded from
/// them if the code bound `loaded`.
pub struct Run {
    pub data: Vec<u8>,
    pub repr: Option<String>,
}

/// Runs Python code that binds `data` to pickle bytes (and optionally `loaded`).
pub fn cpython_run(cases: &[&str]) -> Vec<Result<Run, String>> {
    let reply = ask_cpython(&json!({"op": "run", "cases": cases}));
    reply
        .as_array()
        .unwrap()
        .iter()
        .map(|j| match (j.get("ok"), j.get("error")) {
            (Some(h), _) => Ok(Run {
                data: hex_decode(h.as_str().unwrap()),
                repr: j.get("repr").and_then(|r| r.as_str()).map(str::to_owned),
            }),
            (_, Some(e)) => Err(e.as_str().unwrap().to_owned()),
            _ => panic!("unexpected answer {j}"),
        })
        .collect()
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// One value to pickle on both sides: its name, the Python code binding `value` to the
/// mirrored object, and how Rust pickles it at a protocol.
pub struct Case<'a> {
    pub name: String,
    pub python: String,
    pub rust: Box<dyn Fn(u8) -> pickle_core::Result<Vec<u8>> + 'a>,
}

impl<'a> Case<'a> {
    /// A case for a `Value`, whose Python mirror is generated from the value itself.
    pub fn value(name: impl Into<String>, value: &'a Value) -> Case<'a> {
        Case { name: name.into(), python: python_source(value), rust: Box::new(move |p| pickle_core::dumps(value, p)) }
    }

    /// A case with Python code of its own, which must bind `value`.
    pub fn with_python<T: pickle_core::Reduce + ?Sized>(
        name: impl Into<String>,
        code: String,
        value: &'a T,
    ) -> Case<'a> {
        Case { name: name.into(), python: code, rust: Box::new(move |p| pickle_core::dumps(value, p)) }
    }

    /// A case for a seed example, mirrored by its entry of [`seeds::SEED_MIRRORS`].
    pub fn seed<T: pickle_core::Reduce + ?Sized>(name: &str, value: &'a T) -> Case<'a> {
        Case::with_python(name, seeds::seed_python(name), value)
    }

    /// A case for a typed Rust value, with a hand-written Python mirror expression.
    pub fn typed<T: pickle_core::Reduce + ?Sized>(
        name: impl Into<String>,
        python_expr: &str,
        value: &'a T,
    ) -> Case<'a> {
        Case {
            name: name.into(),
            python: format!("value = {python_expr}"),
            rust: Box::new(move |p| pickle_core::dumps(value, p)),
        }
    }
}

/// Pickles every case at every protocol on both sides and fails with a report of every
/// difference, each with both `pickletools.dis` listings. Returns how many comparisons ran.
pub fn assert_same_pickles(cases: &[Case<'_>]) -> usize {
    let protocols: Vec<u8> = (0..=5).collect();
    let requests: Vec<(String, Vec<u8>)> = cases.iter().map(|c| (c.python.clone(), protocols.clone())).collect();
    let theirs = cpython_dumps(&requests);
    let mut failures = Vec::new();
    let mut compared = 0;
    for (case, theirs) in cases.iter().zip(theirs) {
        for (&p, theirs) in protocols.iter().zip(theirs) {
            let ours = (case.rust)(p).map_err(|e| e.to_string());
            compared += 1;
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) if a == b => {}
                (Err(_), Err(_)) => {}
                _ => failures.push((case, p, ours, theirs)),
            }
        }
    }
    if failures.is_empty() {
        return compared;
    }
    let mut report = format!("{} of {compared} pickles differ from CPython's:\n", failures.len());
    for (case, p, ours, theirs) in failures.iter().take(6) {
        let listing = |r: &Answer| match r {
            Ok(bytes) => cpython_dis(&[bytes]).pop().unwrap(),
            Err(e) => format!("error: {e}\n"),
        };
        report += &format!(
            "\n=== {} at protocol {p}\n--- Python: {}\n--- ours:\n{}--- CPython's:\n{}",
            case.name,
            abbreviate(&case.python),
            listing(ours),
            listing(theirs)
        );
    }
    for (case, p, _, _) in failures.iter().skip(6) {
        report += &format!("\n(also {} at protocol {p})", case.name);
    }
    panic!("{report}");
}

fn abbreviate(s: &str) -> String {
    if s.len() <= 300 {
        s.to_owned()
    } else {
        format!("{}... ({} chars)", &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)], s.len())
    }
}

// ----- Python source for a Value -----

/// Python code that binds `value` to the object a `Value` describes: every node a new
/// object, every `Shared` node one object, cycles closed after the nodes exist.
pub fn python_source(value: &Value) -> String {
    let mut nodes = Nodes::default();
    nodes.collect(value);
    let mut code = String::new();
    for &(id, ref inner) in &nodes.order {
        if let Some(empty) = empty_mutable(inner) {
            code += &format!("_s{} = {empty}\n", nodes.names[&id]);
        }
    }
    for &(id, ref inner) in &nodes.order {
        if empty_mutable(inner).is_none() {
            code += &format!("_s{} = {}\n", nodes.names[&id], nodes.expr(inner));
        }
    }
    for &(id, ref inner) in &nodes.order {
        let name = nodes.names[&id];
        match inner {
            Value::List(items) => code += &format!("_s{name}.extend([{}])\n", nodes.join(items)),
            Value::Set(items) => code += &format!("_s{name}.update([{}])\n", nodes.join(items)),
            Value::Dict(pairs) => {
                let pairs: Vec<String> =
                    pairs.iter().map(|(k, v)| format!("({}, {})", nodes.expr(k), nodes.expr(v))).collect();
                code += &format!("_s{name}.update([{}])\n", pairs.join(", "));
            }
            _ => {}
        }
    }
    code + &format!("value = {}\n", nodes.expr(value))
}

fn empty_mutable(v: &Value) -> Option<&'static str> {
    match v {
        Value::List(_) => Some("[]"),
        Value::Dict(_) => Some("{}"),
        Value::Set(_) => Some("set()"),
        _ => None,
    }
}

#[derive(Default)]
struct Nodes {
    names: HashMap<usize, usize>,
    seen: HashSet<usize>,
    /// Shared nodes, children before parents.
    order: Vec<(usize, Value)>,
}

impl Nodes {
    fn collect(&mut self, v: &Value) {
        match v {
            Value::Shared(s) if self.seen.insert(s.id()) => {
                let n = self.names.len();
                self.names.insert(s.id(), n);
                let inner = s.get().expect("test values are complete");
                self.collect(inner);
                self.order.push((s.id(), inner.clone()));
            }
            Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
                items.iter().for_each(|i| self.collect(i))
            }
            Value::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
                self.collect(k);
                self.collect(v);
            }),
            _ => {}
        }
    }

    fn join(&self, items: &[Value]) -> String {
        items.iter().map(|i| self.expr(i)).collect::<Vec<_>>().join(", ")
    }

    fn expr(&self, v: &Value) -> String {
        match v {
            Value::None => "None".into(),
            Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(i) => {
                let (sign, mag) = i.clone().into_parts();
                let minus = if sign == num_bigint::Sign::Minus { "-" } else { "" };
                format!("{minus}0x{}", mag.to_str_radix(16))
            }
            Value::Float(f) if f.is_nan() => {
                (if f.is_sign_negative() { "-float('nan')" } else { "float('nan')" }).into()
            }
            Value::Float(f) if f.is_infinite() => (if *f > 0.0 { "float('inf')" } else { "-float('inf')" }).into(),
            Value::Float(f) => float_repr(*f),
            Value::Str(s) => format!("S({})", str_repr(s.code_points())),
            Value::Bytes(b) => format!("B({})", bytes_repr(b)),
            Value::ByteArray(b) => format!("bytearray({})", bytes_repr(b)),
            Value::Tuple(items) if items.len() == 1 => format!("({},)", self.expr(&items[0])),
            Value::Tuple(items) => format!("({})", self.join(items)),
            Value::List(items) => format!("[{}]", self.join(items)),
            Value::Set(items) if items.is_empty() => "set()".into(),
            Value::Set(items) => format!("{{{}}}", self.join(items)),
            Value::FrozenSet(items) => format!("frozenset([{}])", self.join(items)),
            Value::Dict(pairs) => {
                let pairs: Vec<String> =
                    pairs.iter().map(|(k, v)| format!("{}: {}", self.expr(k), self.expr(v))).collect();
                format!("{{{}}}", pairs.join(", "))
            }
            Value::Global(g) => format!("G({:?}, {:?})", g.module, g.name),
            Value::Shared(s) => format!("_s{}", self.names[&s.id()]),
            Value::Cycle(c) => format!("_s{}", self.names[&c.id()]),
            other => panic!("no Python mirror for {other}"),
        }
    }
}
