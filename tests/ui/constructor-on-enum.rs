use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod", constructor = Shape::new)]
enum Shape {
    Circle { r: f64 },
}

fn main() {}
