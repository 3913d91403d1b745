use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Point {
    x: i64,
    #[pickle(rename = "x")]
    y: i64,
}

fn main() {}
