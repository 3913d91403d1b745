use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
enum Never {}

fn main() {}
