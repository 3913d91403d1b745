use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", reconstructor = "pkg.mod.make", classmethod = "from_cents")]
struct Money {
    #[pickle(arg)]
    cents: i64,
}

fn main() {}
