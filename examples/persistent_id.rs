//! Seed `persistent_id`: the pickle documentation's `DBPickler`, which writes `MemoRecord`s
//! as references to database rows instead of pickling them.
//!
//! `persistent_id` returns `("MemoRecord", obj.key)` for a record and `None` for anything
//! else; `persistent_load` takes such an id and fetches the row again. (The Python classes are
//! in the `PYTHON` snippet below.) The pickle holds the keys alone, never the tasks.
//!
//! In Rust, `Pickler::persistent_id` is the save hook (it sees derived types as `Any`), and
//! `PersistentLoad::Typed` the load hook, whose objects a typed load takes with `Persistent<T>`.
//!
//! Run with `cargo run --example persistent_id`.

use std::any::Any;
use std::collections::HashMap;
use std::rc::Rc;

use pickle_core::{dis, Error, Persistent, PersistentLoad, Pickler, Reconstruct, Reduce, Reduction, Unpickler, Value};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

#[derive(Reduce, Reconstruct, Debug, Clone)]
#[pickle(module = "seeds")]
struct MemoRecord {
    key: i64,
    task: String,
}

fn db_pickle(records: &[MemoRecord], protocol: u8) -> Result<Vec<u8>, Error> {
    // One tag object for all ids, as Python's literal is one interned string: same bytes.
    let tag = Value::from("MemoRecord").shared();
    let mut out = Vec::new();
    let persistent_id = move |obj: Option<&dyn Any>, _: &Reduction<'_>| {
        let record = obj.and_then(|o| o.downcast_ref::<MemoRecord>());
        Ok(record.map(|r| Value::tuple([tag.clone(), Value::from(r.key)])))
    };
    Pickler::new(&mut out).protocol(protocol).persistent_id(persistent_id).dump(records)?;
    Ok(out)
}

fn db_unpickle(bytes: &[u8], database: HashMap<i64, &'static str>) -> Result<Vec<MemoRecord>, Error> {
    let persistent_load = move |pid: Value| match pid.as_tuple() {
        Some([tag, key]) if tag.as_str() == Some("MemoRecord") => {
            let key = key.as_i64().ok_or_else(|| Error::custom("a MemoRecord key is an int"))?;
            let task = database.get(&key).ok_or_else(|| Error::custom(format!("no row {key}")))?;
            Ok(Rc::new(MemoRecord { key, task: task.to_string() }) as Rc<dyn Any>)
        }
        _ => Err(Error::custom(format!("unsupported persistent object {pid}"))),
    };
    let mut unpickler = Unpickler::from_slice(bytes).persistent_load(PersistentLoad::Typed(Box::new(persistent_load)));
    let records: Vec<Persistent<MemoRecord>> = unpickler.load()?;
    Ok(records.into_iter().map(|record| record.0).collect())
}

/// The documentation's DBPickler and DBUnpickler: what CPython does with our pickle `ours`,
/// and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
import io
DATABASE = {1: 'ingest', 2: 'publish'}
class DBPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ('MemoRecord', obj.key) if isinstance(obj, seeds.MemoRecord) else None
class DBUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        type_tag, key_id = pid
        return seeds.MemoRecord(key_id, DATABASE[key_id])
loaded = DBUnpickler(io.BytesIO(ours)).load()
print(f'protocol {protocol}: CPython loads {[(r.key, r.task) for r in loaded]}')
f = io.BytesIO()
DBPickler(f, protocol).dump([seeds.MemoRecord(k, t) for k, t in DATABASE.items()])
theirs = f.getvalue()";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = HashMap::from([(1, "ingest"), (2, "publish")]);
    let records = vec![MemoRecord { key: 1, task: "ingest".into() }, MemoRecord { key: 2, task: "publish".into() }];
    let mut pickles = Vec::new();
    for protocol in [2, 4] {
        let bytes = db_pickle(&records, protocol)?;
        println!("=== protocol {protocol}: {} bytes, no task in them\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", db_unpickle(&bytes, database.clone())?);
        pickles.push((protocol, bytes));
    }
    println!("=== CPython, with tests/python/seeds.py");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", db_unpickle(&theirs, database.clone())?);
    }
    Ok(())
}
