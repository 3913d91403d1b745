use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Pair {
    #[pickle(list_items)]
    left: Vec<i64>,
    #[pickle(list_items)]
    right: Vec<i64>,
}

fn main() {}
