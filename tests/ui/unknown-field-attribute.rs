use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Point {
    #[pickle(args)]
    x: i64,
}

fn main() {}
