use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Point {
    #[pickle(state(from = 2), arg(until = 1))]
    x: i64,
}

fn main() {}
