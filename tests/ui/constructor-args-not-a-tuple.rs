use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod", args = self.args(), constructor = Point::new)]
struct Point {
    #[pickle(skip)]
    x: i64,
}

impl Point {
    fn new(x: i64) -> Point {
        Point { x }
    }
}

fn main() {}
