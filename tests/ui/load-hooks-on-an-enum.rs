use pickle_core::Reconstruct;

/// `setstate` and `from_state` load one struct; an enum's variants are loaded each alone.
#[derive(Reconstruct)]
#[pickle(module = "pkg.mod", setstate = Shape::check)]
enum Shape {
    Circle(f64),
}

impl Shape {
    fn check(&mut self) {}
}

fn main() {}
