use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Bag {
    #[pickle(list_items)]
    items: i64,
}

fn main() {}
