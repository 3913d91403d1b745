//! Seed `copyreg_dispatch`: pickling a type you do not own through the pickler's dispatch
//! table, as Python registers reducers with `copyreg.pickle` or `Pickler.dispatch_table`.
//!
//! ```python
//! def reduce_timedelta(td):
//!     return (datetime.timedelta, (td.days, td.seconds, td.microseconds))
//!
//! pickler = pickle.Pickler(f)
//! pickler.dispatch_table = {**copyreg.dispatch_table, datetime.timedelta: reduce_timedelta}
//! ```
//!
//! `std::time::Duration` cannot implement `Reduce` here (neither is ours), so `Pickler::dispatch`
//! registers a reducer for it and `Registered(duration)` marks the values it applies to: they
//! pickle as `datetime.timedelta`, byte for byte as CPython pickles timedeltas. Loading has no
//! dispatch table: a small newtype with a hand-written `Reconstruct` reads them back.
//!
//! Run with `cargo run --example copyreg_dispatch`.

use std::time::Duration;

use pickle_core::{dis, loads, Call, Error, GlobalName, Node, Pickler, Reconstruct, Reduction, Registered};

#[path = "support/cpython.rs"]
mod support;
use support::cpython;

/// The reducer: `timedelta(days, seconds, microseconds)`. `native`: the class is written in C.
fn timedelta(d: &Duration, _protocol: u8) -> Result<Reduction<'_>, Error> {
    let secs = d.as_secs();
    let args = (secs / 86_400, secs % 86_400, d.subsec_micros());
    Ok(Call::new(GlobalName::native("datetime", "timedelta"), args).into())
}

/// A `Duration` read from a `datetime.timedelta` (a negative one is an error).
struct Timedelta(Duration);

impl Reconstruct for Timedelta {
    fn reconstruct(node: Node<'_>) -> Result<Timedelta, Error> {
        let td = node.instance().filter(|i| i.is("datetime", "timedelta"));
        let mut args = td.ok_or_else(|| node.mismatch("`datetime.timedelta`"))?.args();
        let mut next = || args.next().ok_or_else(|| node.error("timedelta takes 3 arguments"))?.get::<u64>();
        let (days, seconds, micros) = (next()?, next()?, next()?);
        Ok(Timedelta(Duration::from_secs(days * 86_400 + seconds) + Duration::from_micros(micros)))
    }
}

/// Loads a list of timedeltas as `Duration`s.
fn load_durations(bytes: &[u8]) -> Result<Vec<Duration>, Error> {
    Ok(loads::<Vec<Timedelta>>(bytes)?.into_iter().map(|td| td.0).collect())
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
import datetime
print(f'protocol {protocol}: CPython loads {pickle.loads(ours)}')
theirs = pickle.dumps([datetime.timedelta(1, 3661, 5), datetime.timedelta(0, 1, 500000)], protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let durations = vec![Registered(Duration::new(90_061, 5_000)), Registered(Duration::from_millis(1500))];
    let mut pickles = Vec::new();
    for protocol in [0, 4] {
        let mut bytes = Vec::new();
        Pickler::new(&mut bytes).protocol(protocol).dispatch(timedelta).dump(&durations)?;
        println!("=== protocol {protocol}: {} bytes\n{}", bytes.len(), dis(&bytes)?);
        println!("Rust loads it back: {:?}\n", load_durations(&bytes)?);
        pickles.push((protocol, bytes));
    }
    println!("Without the reducer: {}\n", pickle_core::dumps(&durations, 4).expect_err("no reducer"));
    println!("=== CPython");
    for (protocol, ours) in &pickles {
        let Some(theirs) = cpython(PYTHON, ours, *protocol)? else {
            println!("python3 is not on the PATH: skipping CPython's side");
            break;
        };
        let same = if theirs == *ours { "the same bytes as ours" } else { "different bytes" };
        println!("CPython's own pickle ({same}) loads in Rust as: {:?}", load_durations(&theirs)?);
    }
    Ok(())
}
