use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", state = &self.x)]
struct Point {
    #[pickle(state)]
    x: i64,
}

fn main() {}
