//! The README's first command: `cargo run --example quickstart`.
//!
//! Pickles a few values at every protocol, writes each pickle to `target/quickstart/`, and,
//! when `python3` is on the PATH, has CPython load every file and print what it got.

use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;

use num_bigint::BigInt;
use pickle_core::{dumps, Bytes, Shared, Value, HIGHEST_PROTOCOL};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("quickstart");
    std::fs::create_dir_all(&dir)?;

    // A Value: any Python object graph, here a record with a shared list and a cycle.
    let tags = Value::list(["rust", "python"]).shared();
    let looped = Shared::empty();
    looped.set(Value::List(vec![Value::from("me"), Value::Cycle(looped.downgrade())])).expect("a new node is empty");
    let record = Value::dict([
        ("name", Value::from("Ada Lovelace")),
        ("born", Value::from(1815)),
        ("big", Value::int(BigInt::from(2).pow(100))),
        ("ratio", Value::from(0.1)),
        ("tags", tags.clone()),
        ("same tags", tags),
        ("blob", Value::bytes(b"\x00\x01\xff".to_vec())),
        ("unique", Value::set([1, 2, 3])),
        ("class", Value::global("collections", "OrderedDict")),
        ("cycle", Value::Shared(looped)),
    ]);

    // Plain Rust values pickle as the matching Python builtins; an Rc stays one object.
    let shared = Rc::new(vec![1u8, 2, 3]);
    let rust_values = (vec![shared.clone(), shared], "héllo 🐍", Bytes(vec![7u8; 4]), Some(-1i64), None::<i32>);

    let mut written = Vec::new();
    for protocol in 0..=HIGHEST_PROTOCOL {
        for (label, bytes) in [("record", dumps(&record, protocol)?), ("rust", dumps(&rust_values, protocol)?)] {
            let path = dir.join(format!("{label}-p{protocol}.pickle"));
            std::fs::write(&path, &bytes)?;
            println!("wrote {:>4} bytes  {}", bytes.len(), path.display());
            written.push(path);
        }
    }

    println!("\nWhat CPython loads from them:");
    let script = "import pickle, sys\nfor path in sys.argv[1:]:\n    with open(path, 'rb') as f:\n        print(path.rsplit('/', 1)[-1], '->', pickle.load(f))";
    match Command::new("python3").arg("-c").arg(script).args(&written).status() {
        Ok(status) if status.success() => {}
        Ok(status) => return Err(format!("python3 failed: {status}").into()),
        Err(_) => println!("(python3 is not on the PATH: load the files above with pickle.load to see them)"),
    }
    Ok(())
}
