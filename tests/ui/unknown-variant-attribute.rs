use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
enum Shape {
    #[pickle(qualname = "Shapes.Circle")]
    Circle(f64),
}

fn main() {}
