use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "")]
struct Point {
    x: i64,
}

fn main() {}
