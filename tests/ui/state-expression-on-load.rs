use pickle_core::{Reconstruct, Reduce};

#[derive(Reduce, Reconstruct)]
#[pickle(module = "pkg.mod", args = (), state = &self.position)]
struct Placed {
    position: (i64, i64),
}

fn main() {}
