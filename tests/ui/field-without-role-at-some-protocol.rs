use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Versioned {
    #[pickle(arg(until = 1), state(since = 3))]
    v: i64,
}

fn main() {}
