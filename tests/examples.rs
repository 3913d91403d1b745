//! Runs every example program and checks what it prints, so that the examples cannot rot.
//!
//! `cargo test` builds the examples before it runs the tests; the binaries are found next to
//! this test's own (`target/<profile>/examples/`). `cargo test --test examples` alone does not
//! rebuild them: run `cargo build --examples` first (a source newer than its binary fails). The CPython lines are checked when CPython is
//! available, by the rule of `common::python_available` (required when `CI=true`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the example `name` from the workspace root and returns its stdout; fails unless it
/// exits successfully.
fn run(name: &str) -> String {
    // current_exe() is target/<profile>/deps/examples-<hash>.
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps").join("examples");
    let path: PathBuf = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built: run `cargo build --examples` (or `cargo test`)", path.display());
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        modified(&source) <= modified(&path),
        "examples/{name}.rs changed after it was built: run `cargo build --examples` first"
    );
    let out = Command::new(&path).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("the example starts");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "example `{name}` failed ({}):\n{stdout}\n--- stderr:\n{stderr}", out.status);
    assert!(!stderr.contains("Traceback"), "example `{name}` printed a Python traceback:\n{stderr}");
    stdout.into_owned()
}

/// Runs the example `name`, checks that its output has every line of `always` and, when
/// CPython is available, every line of `with_python`, and returns the output.
fn check(name: &str, always: &[&str], with_python: &[&str]) -> String {
    let out = run(name);
    let python = common::python_available(&format!("the CPython lines of example `{name}`"));
    let expected = always.iter().chain(if python { with_python } else { &[] });
    for line in expected {
        assert!(out.contains(line), "example `{name}` does not print {line:?}; it printed:\n{out}");
    }
    if !python && Command::new("python3").arg("--version").output().is_err() {
        let skipped = "python3 is not on the PATH";
        assert!(out.contains(skipped), "example `{name}` does not say {skipped:?}; it printed:\n{out}");
    }
    assert!(!out.contains("Traceback"), "example `{name}` printed a Python traceback:\n{out}");
    assert!(!out.contains("different bytes"), "example `{name}` pickles differently from CPython:\n{out}");
    out
}

/// The part of an example's output from its line `=== {title}` to the next `===` line.
fn section<'a>(out: &'a str, title: &str) -> &'a str {
    let start = out.find(&format!("=== {title}")).unwrap_or_else(|| panic!("no `=== {title}` in:\n{out}"));
    let rest = &out[start..];
    &rest[..rest[3..].find("\n===").map_or(rest.len(), |end| end + 4)]
}

/// The `pickletools.dis` listing of the section `=== {title}`.
fn listing<'a>(out: &'a str, title: &str) -> &'a str {
    let section = section(out, title);
    &section[..section.find("highest protocol among opcodes").unwrap_or(section.len())]
}

/// Whether `first` and then `second` appear in `text`, in this order.
fn in_order(text: &str, first: &str, second: &str) -> bool {
    matches!((text.find(first), text.rfind(second)), (Some(a), Some(b)) if a < b)
}

/// What each seed example's CPython side prints as the pickle it writes, loaded in Rust.
fn cpython_pickle_loads_as(debug: &str) -> String {
    format!("CPython's own pickle (the same bytes as ours) loads in Rust as: {debug}")
}

#[test]
fn basic_reduce_ex() {
    let out = check(
        "basic_reduce_ex",
        &["GLOBAL     'seeds SimpleObject'", "STACK_GLOBAL", "Rust loads it back: SimpleObject { value: 42 }"],
        &[
            "protocol 0: CPython loads SimpleObject with vars {'value': 42}",
            "protocol 4: CPython loads SimpleObject with vars {'value': 42}",
            &cpython_pickle_loads_as("SimpleObject { value: 42 }"),
        ],
    );
    assert!(listing(&out, "protocol 0").contains("REDUCE"));
    assert!(listing(&out, "protocol 4").contains("REDUCE"));
}

#[test]
fn custom_reduction() {
    let debug = r#"CustomObject { name: "widget", data: [1, 2, 3] }"#;
    let out = check(
        "custom_reduction",
        &[&format!("Rust loads it back: {debug}")],
        &[
            "protocol 1: CPython loads CustomObject with vars {'name': 'widget', 'data': [1, 2, 3]}",
            "protocol 2: CPython loads CustomObject with vars {'name': 'widget', 'data': [1, 2, 3]}",
            &cpython_pickle_loads_as(debug),
        ],
    );
    // Protocol 1: both fields are arguments; protocol 2: `data` is in the state, set by BUILD.
    let (p1, p2) = (listing(&out, "protocol 1"), listing(&out, "protocol 2"));
    assert!(p1.contains("REDUCE") && !p1.contains("BUILD") && !p1.contains("'data'"), "{p1}");
    assert!(p2.contains("REDUCE") && p2.contains("BUILD") && p2.contains("'data'"), "{p2}");
}

#[test]
fn protocol_optimization() {
    let debug = "OptimizedObject { items: [10, 20, 30] }";
    let out = check(
        "protocol_optimization",
        &["=== the pickle of 2500 items, per protocol", &format!("Rust loads it back: {debug}")],
        &[
            "protocol 3: CPython loads OptimizedObject with items [10, 20, 30]",
            "protocol 4: CPython loads OptimizedObject with items [10, 20, 30]",
            &cpython_pickle_loads_as(debug),
        ],
    );
    let sizes = section(&out, "the pickle of 2500 items");
    for protocol in 0..=5 {
        let line = sizes.lines().find(|l| l.starts_with(&format!("protocol {protocol}: "))).expect("a size line");
        assert!(line.ends_with(" bytes"), "{line}");
    }
    // Up to 3 the items are the class's argument; from 4 they are appended after REDUCE.
    let (p3, p4) = (listing(&out, "protocol 3"), listing(&out, "protocol 4"));
    assert!(in_order(p3, "APPENDS", "REDUCE"), "{p3}");
    assert!(p4.contains("EMPTY_TUPLE") && in_order(p4, "REDUCE", "APPENDS"), "{p4}");
}

#[test]
fn external_resources() {
    let debug = r#"DatabaseConnection { connection_string: "postgres://localhost/app", connection: Some(("connected to", "postgres://localhost/app")) }"#;
    let out = check(
        "external_resources",
        &["(connecting to postgres://localhost/app)", "REDUCE", &format!("Rust loads it back: {debug}")],
        &[
            "protocol 0: CPython loads DatabaseConnection with vars {'connection_string': 'postgres://localhost/app', 'connection': ('connected to', 'postgres://localhost/app')}",
            &cpython_pickle_loads_as(debug),
        ],
    );
    for protocol in ["protocol 0", "protocol 4"] {
        let listing = listing(&out, protocol);
        assert!(!listing.contains("'connected to'"), "the connection is not pickled:\n{listing}");
    }
}

#[test]
fn custom_reconstructor() {
    let debug = "ComplexObject { x: 3, y: 4, sum: 7 }";
    let out = check(
        "custom_reconstructor",
        &["GLOBAL     'seeds reconstruct_complex'", &format!("Rust loads it back: {debug}")],
        &[
            "protocol 4: CPython loads ComplexObject with vars {'x': 3, 'y': 4, 'sum': 7}",
            &cpython_pickle_loads_as(debug),
        ],
    );
    assert!(!out.contains("'seeds ComplexObject'") && !out.contains("'ComplexObject'"), "{out}");
}

#[test]
fn string_return() {
    let out = check(
        "string_return",
        &["GLOBAL     'seeds SPAM'", "SHORT_BINUNICODE 'SPAM'", "Rust loads it back: Wrapper"],
        &[
            "protocol 0: CPython loads a Wrapper; it is seeds.SPAM: True",
            "protocol 4: CPython loads a Wrapper; it is seeds.SPAM: True",
            &cpython_pickle_loads_as("Wrapper"),
        ],
    );
    assert!(!out.contains("REDUCE"), "a global is not a call:\n{out}");
}

#[test]
fn setstate() {
    let debug = "FrozenPoint { x: 7, y: 8 }";
    let out = check(
        "setstate",
        &[&format!("Rust loads it back: {debug}")],
        &["protocol 0: CPython loads FrozenPoint with vars {'x': 7, 'y': 8}", &cpython_pickle_loads_as(debug)],
    );
    for protocol in ["protocol 0", "protocol 4"] {
        let listing = listing(&out, protocol);
        assert!(in_order(listing, "REDUCE", "BUILD"), "{listing}");
    }
}

#[test]
fn list_items_deepcopy() {
    let debug = r#"Node { value: "root", children: [Node { value: "leaf1", children: [] }, Node { value: "leaf2", children: [] }] }"#;
    let out = check(
        "list_items_deepcopy",
        &[&format!("deepcopy: {debug}"), "equal to the original: true", &format!("Rust loads it back: {debug}")],
        &[
            "protocol 0: CPython loads root[leaf1[], leaf2[]], and its deepcopy is root[leaf1[], leaf2[]]",
            "protocol 2: CPython loads root[leaf1[], leaf2[]], and its deepcopy is root[leaf1[], leaf2[]]",
            &cpython_pickle_loads_as(debug),
        ],
    );
    assert!(listing(&out, "protocol 0").contains("APPEND\n"));
    assert!(listing(&out, "protocol 2").contains("APPENDS"));
}

#[test]
fn slots() {
    let out = check(
        "slots",
        &[
            "Refused: a class that defines __slots__ without defining __getstate__ cannot be pickled ('seeds.Slotted' at protocol 1)",
            "NEWOBJ",
            "BUILD",
            r#"Rust loads it back: Slotted { x: 5, y: "why" }"#,
        ],
        &[
            "protocol 2: CPython loads Slotted with x=5, y='why'",
            "CPython refuses protocol 1 too: ",
            &cpython_pickle_loads_as(r#"Slotted { x: 5, y: "why" }"#),
        ],
    );
    assert!(section(&out, "protocol 1").contains("__slots__"));
}

#[test]
fn persistent_id() {
    let debug = r#"[MemoRecord { key: 1, task: "ingest" }, MemoRecord { key: 2, task: "publish" }]"#;
    let out = check(
        "persistent_id",
        &["BINPERSID", &format!("Rust loads it back: {debug}")],
        &[
            "protocol 2: CPython loads [(1, 'ingest'), (2, 'publish')]",
            "protocol 4: CPython loads [(1, 'ingest'), (2, 'publish')]",
            &cpython_pickle_loads_as(debug),
        ],
    );
    for protocol in ["protocol 2", "protocol 4"] {
        let listing = listing(&out, protocol);
        assert!(!listing.contains("ingest") && !listing.contains("'task'"), "the records are not pickled:\n{listing}");
    }
}

#[test]
fn copyreg_dispatch() {
    let debug = "[90061.000005s, 1.5s]";
    check(
        "copyreg_dispatch",
        &[
            "GLOBAL     'datetime timedelta'",
            "SHORT_BINUNICODE 'timedelta'",
            &format!("Rust loads it back: {debug}"),
            "Without the reducer: no reducer is registered for core::time::Duration",
        ],
        &[
            "protocol 4: CPython loads [datetime.timedelta(days=1, seconds=3661, microseconds=5), datetime.timedelta(seconds=1, microseconds=500000)]",
            &cpython_pickle_loads_as(debug),
        ],
    );
}

#[test]
fn quickstart() {
    let out = check(
        "quickstart",
        &["Rust pickles two orders of one customer at every protocol:", "rust-p5.pickle"],
        &["What Rust loads from CPython's own pickles of the same orders:", "The same pickle as a Value:"],
    );
    if common::python_available("the CPython lines of example `quickstart`") {
        for protocol in 0..=5 {
            let cpython =
                format!("rust-p{protocol}.pickle -> [Order(1, Customer('Ada', vip=True), [('tea', 2)], Status.OPEN)");
            assert!(out.contains(&cpython), "CPython does not load our protocol {protocol}:\n{out}");
            assert!(out.contains(&format!("protocol {protocol} (identical to ours): [Order {{ id: 1")), "{out}");
        }
        assert_eq!(out.matches("| one customer: True").count(), 6, "{out}");
        assert_eq!(out.matches("| one customer: true").count(), 6, "{out}");
    }
}

#[test]
fn torch_ls() {
    // The fixture's first tensor, as torch recorded it in tests/fixtures/torch/zip_state_dict.json.
    check(
        "torch_ls",
        &["format: zip, 9 tensors", "layer.0.weight float32 shape=[2, 1, 3, 3] stride=[9, 9, 3, 1] offset=0"],
        &[],
    );
}
