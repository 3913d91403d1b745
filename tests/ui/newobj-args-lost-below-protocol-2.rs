use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", newobj)]
struct S {
    #[pickle(arg)]
    x: i64,
}

fn main() {}
