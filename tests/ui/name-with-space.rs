use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", name = "Outer Inner")]
struct Inner {
    x: i64,
}

fn main() {}
