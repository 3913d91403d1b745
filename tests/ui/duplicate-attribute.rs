use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", module = "pkg.other")]
struct Point {
    x: i64,
}

fn main() {}
