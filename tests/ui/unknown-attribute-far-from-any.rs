use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", frobnicate)]
struct Point {
    x: i64,
}

fn main() {}
