use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Registry {
    #[pickle(dict_items)]
    entries: Vec<i64>,
}

fn main() {}
