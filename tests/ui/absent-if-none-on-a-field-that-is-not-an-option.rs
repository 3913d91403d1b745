use pickle_core::{Reconstruct, Reduce};

#[derive(Reduce, Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Report {
    title: String,
    #[pickle(absent_if_none)]
    summary: String,
}

fn main() {}
