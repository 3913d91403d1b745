use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", args = (&self.x,))]
struct Point {
    #[pickle(arg)]
    x: i64,
}

fn main() {}
