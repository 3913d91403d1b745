use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
union U {
    a: i64,
}

fn main() {}
