use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Cache {
    #[pickle(skip, state)]
    hits: i64,
}

fn main() {}
