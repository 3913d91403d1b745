use pickle_core::{dumps, loads, Reconstruct, Reduce};

/// One mistake in the attributes: it is the only error, not one more at each use below.
#[derive(Reduce, Reconstruct)]
#[pickle(module = "pkg.mod", qualname = "Point")]
struct Point {
    x: i64,
}

fn main() {
    let bytes = dumps(&Point { x: 1 }, 2).unwrap();
    let _: Point = loads(&bytes).unwrap();
}
