//! The README's first command: `cargo run --example quickstart`.
//!
//! Derives three Python classes (a plain class, an `enum.Enum`, a class whose instances
//! share a customer), pickles two orders at every protocol into `target/quickstart/`, and,
//! when `python3` is on the PATH, has CPython load every file and print the objects it got;
//! then CPython pickles its own orders at every protocol and Rust loads them back.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use pickle_core::{dumps, loads, Reconstruct, Reduce, Value, HIGHEST_PROTOCOL};

/// A plain Python class: every field is an attribute in the instance's `__dict__`.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "shop")]
struct Customer {
    name: String,
    vip: bool,
}

/// An `enum.Enum` whose members have string values.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "shop")]
enum Status {
    #[pickle(value = "open")]
    Open,
    #[pickle(value = "shipped")]
    Shipped,
}

/// Orders of one customer share one `Customer`: an `Rc` is one Python object.
#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "shop")]
struct Order {
    id: i64,
    customer: Rc<Customer>,
    lines: Vec<(String, u32)>,
    status: Status,
}

/// The Python side of the same classes.
const SHOP_PY: &str = r#"import enum

class Customer:
    def __init__(self, name, vip):
        self.name, self.vip = name, vip
    def __repr__(self):
        return f"Customer({self.name!r}, vip={self.vip})"

class Status(enum.Enum):
    OPEN = "open"
    SHIPPED = "shipped"

class Order:
    def __init__(self, id, customer, lines, status):
        self.id, self.customer, self.lines, self.status = id, customer, lines, status
    def __repr__(self):
        return f"Order({self.id}, {self.customer}, {self.lines}, {self.status})"
"#;

/// Loads every pickle named on the command line and prints what it holds.
const LOAD_PY: &str = r#"import pickle, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        orders = pickle.load(f)
    print(path.rsplit("/", 1)[-1], "->", orders, "| one customer:", orders[0].customer is orders[1].customer)
"#;

/// Pickles Python's own orders at every protocol into the directory named first.
const DUMP_PY: &str = r#"import pickle, sys, shop
ada = shop.Customer("Ada", True)
orders = [shop.Order(1, ada, [("tea", 2)], shop.Status.OPEN), shop.Order(2, ada, [], shop.Status.SHIPPED)]
for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
    with open(f"{sys.argv[1]}/cpython-p{protocol}.pickle", "wb") as f:
        pickle.dump(orders, f, protocol)
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("quickstart");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("shop.py"), SHOP_PY)?;

    let ada = Rc::new(Customer { name: "Ada".into(), vip: true });
    let orders = vec![
        Order { id: 1, customer: Rc::clone(&ada), lines: vec![("tea".into(), 2)], status: Status::Open },
        Order { id: 2, customer: ada, lines: vec![], status: Status::Shipped },
    ];

    println!("Rust pickles two orders of one customer at every protocol:");
    let mut written = Vec::new();
    for protocol in 0..=HIGHEST_PROTOCOL {
        let bytes = dumps(&orders, protocol)?;
        assert_eq!(loads::<Vec<Order>>(&bytes)?, orders, "what we write loads back");
        let path = dir.join(format!("rust-p{protocol}.pickle"));
        std::fs::write(&path, &bytes)?;
        println!("  wrote {:>4} bytes  {}", bytes.len(), path.display());
        written.push(path);
    }

    println!("\nWhat CPython loads from them:");
    if !python(&dir, LOAD_PY, written.iter().map(|p| p.as_os_str()))? {
        println!("(python3 is not on the PATH: load the files above with pickle.load to see them)");
        return Ok(());
    }

    println!("\nWhat Rust loads from CPython's own pickles of the same orders:");
    python(&dir, DUMP_PY, [dir.as_os_str()])?;
    for protocol in 0..=HIGHEST_PROTOCOL {
        let bytes = std::fs::read(dir.join(format!("cpython-p{protocol}.pickle")))?;
        let theirs: Vec<Order> = loads(&bytes)?;
        let shared = Rc::ptr_eq(&theirs[0].customer, &theirs[1].customer);
        let same = if dumps(&orders, protocol)? == bytes { "identical to ours" } else { "different from ours" };
        println!("  protocol {protocol} ({same}): {theirs:?} | one customer: {shared}");
    }

    // Anything at all loads as a Value: here, CPython's pickle seen as data.
    let value: Value = loads(&std::fs::read(dir.join("cpython-p2.pickle"))?)?;
    println!("\nThe same pickle as a Value:\n  {value}");
    Ok(())
}

/// Runs a Python script with `dir` (where `shop.py` is) on the module path; `false` when
/// python3 is not on the PATH.
fn python<'a>(
    dir: &Path,
    script: &str,
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
) -> Result<bool, Box<dyn std::error::Error>> {
    match Command::new("python3").arg("-c").arg(script).args(args).env("PYTHONPATH", dir).status() {
        Ok(status) if status.success() => Ok(true),
        Ok(status) => Err(format!("python3 failed: {status}").into()),
        Err(_) => Ok(false),
    }
}
