use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg\nmod")]
struct Point {
    x: i64,
}

fn main() {}
