use pickle_core::Reduce;

#[derive(Reduce)]
struct Point {
    x: i64,
}

fn main() {}
