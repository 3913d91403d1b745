use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", newobj, args = (&self.x,))]
struct Point {
    #[pickle(skip)]
    x: i64,
}

fn main() {}
