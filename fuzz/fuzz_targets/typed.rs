//! Loads arbitrary bytes into Rust types, under a class policy, and deep-copies what loads.
//!
//! Properties checked on every input:
//! - typed loads (`Vec<String>`, maps, tuples, `Rc` sharing, a derived struct, an enum) and
//!   a load under an empty `ClassPolicy` return a value or a typed error: no panic, hang or
//!   stack overflow, whatever graph the pickle builds (cycles through `Rc` included);
//! - a `Value` that loads deep-copies (`deepcopy`, through `reduce_ex(4)` and
//!   `Reconstruct`, no bytes) to a value that pickles at protocol 4 to the same bytes.

#![no_main]

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use pickle_core::{deepcopy, dumps, ClassPolicy, Reconstruct, Unpickler, UnpicklerOptions, Value};

fn options() -> UnpicklerOptions {
    UnpicklerOptions { max_alloc: 64 << 20, max_depth: 1000, ..UnpicklerOptions::default() }
}

#[derive(Reconstruct, Debug)]
#[pickle(module = "fuzz")]
#[allow(dead_code)]
struct Record {
    name: String,
    #[pickle(default)]
    score: f64,
    tags: Vec<Rc<String>>,
    children: Vec<Record>,
}

#[derive(Reconstruct, Debug)]
#[pickle(module = "fuzz")]
#[allow(dead_code)]
enum Shape {
    Circle(#[pickle(arg)] f64),
    Square { side: i64 },
    #[pickle(value = 3)]
    Unit,
}

fn load<T: Reconstruct>(data: &[u8]) -> Option<T> {
    Unpickler::from_slice(data).with_options(options()).load::<T>().ok()
}

fuzz_target!(|data: &[u8]| {
    let _ = load::<Vec<String>>(data);
    let _ = load::<HashMap<String, Value>>(data);
    let _ = load::<BTreeMap<i64, (bool, Option<u8>)>>(data);
    let _ = load::<Vec<Rc<Vec<i64>>>>(data);
    let _ = load::<Record>(data);
    let _ = load::<Vec<Shape>>(data);
    let mut strict = Unpickler::from_slice(data).with_options(options()).class_policy(ClassPolicy::new());
    let _ = strict.load::<Value>();
    if let Some(value) = load::<Value>(data) {
        if let (Ok(copy), Ok(bytes)) = (deepcopy(&value), dumps(&value, 4)) {
            assert_eq!(dumps(&copy, 4).ok(), Some(bytes), "a deep copy pickles differently");
        }
    }
});
