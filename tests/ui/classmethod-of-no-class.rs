use pickle_core::Reduce;

/// `from_cents` named as a module's function: a classmethod needs its class.
#[derive(Reduce)]
#[pickle(module = "pkg.mod", classmethod = "pkg.mod:from_cents")]
struct Money {
    #[pickle(arg)]
    cents: i64,
}

fn main() {}
