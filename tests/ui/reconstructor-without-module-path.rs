use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", reconstructor = "rebuild")]
struct Point {
    #[pickle(arg)]
    x: i64,
}

fn main() {}
