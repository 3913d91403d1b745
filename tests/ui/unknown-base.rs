use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", base = "set")]
struct Bag {
    #[pickle(list_items)]
    items: Vec<i64>,
}

fn main() {}
