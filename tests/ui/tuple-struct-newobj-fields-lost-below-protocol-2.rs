use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", newobj)]
struct Coord(i64, String);

fn main() {}
