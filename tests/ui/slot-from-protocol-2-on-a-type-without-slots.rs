use pickle_core::Reduce;

/// The fix the `slot` error once suggested: protocols 0 and 1 then wrote a dict state that
/// CPython never writes for a `__slots__` class, and that loads into an unset slot.
#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Slotted {
    #[pickle(slot(since = 2), state(until = 1))]
    x: i64,
}

fn main() {}
