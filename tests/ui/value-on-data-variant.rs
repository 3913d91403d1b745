use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
enum Shape {
    #[pickle(value = 1)]
    Circle {
        radius: f64,
    },
    Empty,
}

fn main() {}
