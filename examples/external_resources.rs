//! Seed `external_resources`: `seeds.DatabaseConnection`, which pickles only what it needs
//! to reconnect.
//!
//! ```python
//! class DatabaseConnection:
//!     def __init__(self, connection_string):
//!         self.connection_string = connection_string
//!         self.connection = ("connected to", connection_string)
//!     def __reduce__(self):
//!         return (DatabaseConnection, (self.connection_string,))
//! ```
//!
//! A live connection is not data: the pickle holds the connection string alone, and loading
//! calls `__init__`, which connects again. In Rust the connection field is `#[pickle(skip)]`
//! and `constructor = DatabaseConnection::connect` plays `__init__` on load.
//!
//! Run with `cargo run --example external_resources`.

use pickle_core::{dis, dumps, loads, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "seeds", constructor = DatabaseConnection::connect)]
struct DatabaseConnection {
    #[pickle(arg)]
    connection_string: String,
    /// Stands in for a real client handle (a socket, a pool): never pickled.
    #[pickle(skip)]
    connection: Option<(&'static str, String)>,
}

impl DatabaseConnection {
    /// `__init__`: called with the pickled arguments when the pickle is loaded.
    fn connect(connection_string: String) -> DatabaseConnection {
        println!("(connecting to {connection_string})");
        let connection = Some(("connected to", connection_string.clone()));
        DatabaseConnection { connection_string, connection }
    }
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {type(loaded).__name__} with vars {vars(loaded)}')
theirs = pickle.dumps(seeds.DatabaseConnection('postgres://localhost/app'), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let value = DatabaseConnection::connect("postgres://localhost/app".into());
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let bytes = dumps(&value, protocol)?;
        println!("=== protocol {protocol}: {} bytes (no connection in them)\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", loads::<DatabaseConnection>(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", loads::<DatabaseConnection>(&theirs)?);
    }
    Ok(())
}
