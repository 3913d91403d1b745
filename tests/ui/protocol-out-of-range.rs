use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Point {
    #[pickle(state(since = 6))]
    x: i64,
}

fn main() {}
