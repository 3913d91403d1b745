use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", qualname = "Outer.Inner")]
struct Inner {
    x: i64,
}

fn main() {}
