use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", slots)]
struct S(i64, i64);

fn main() {}
