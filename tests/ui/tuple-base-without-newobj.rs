use pickle_core::Reduce;

/// A namedtuple mirror without `newobj`: from protocol 2 its items would have nowhere to go.
#[derive(Reduce)]
#[pickle(module = "pkg.mod", base = "tuple")]
struct Coord {
    x: i64,
    y: i64,
}

fn main() {}
