use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", newobj, reconstructor = "pkg.mod.rebuild")]
struct Point {
    #[pickle(arg(since = 2), state(until = 1))]
    x: i64,
}

fn main() {}
