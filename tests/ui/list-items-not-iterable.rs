use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Bag {
    #[pickle(list_items)]
    items: i64,
}

fn main() {}
