use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(dict)]
struct Pair(i64, String);

fn main() {}
