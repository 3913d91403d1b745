use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg mod", reconstructor = "rebuild")]
struct Point {
    #[pickle(kwarg)]
    x: i64,
    #[pickle(state(since = 6))]
    y: i64,
    #[pickle(skip, arg)]
    z: i64,
}

fn main() {}
