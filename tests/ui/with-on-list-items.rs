use pickle_core::Reduce;

mod as_list {
    pub fn reduce(items: &[i64]) -> Vec<i64> {
        items.to_vec()
    }
}

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Bag {
    #[pickle(list_items, with = as_list)]
    items: Vec<i64>,
}

fn main() {}
