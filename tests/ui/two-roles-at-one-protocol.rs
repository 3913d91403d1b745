use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Versioned {
    #[pickle(arg(until = 2), state(since = 2))]
    v: i64,
}

fn main() {}
