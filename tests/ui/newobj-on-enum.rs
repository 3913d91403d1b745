use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", newobj)]
enum Shape {
    Circle { radius: f64 },
}

fn main() {}
