use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Point {
    #[pickle(state(since = 4, until = 2))]
    x: i64,
}

fn main() {}
