use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", slots, base = "dict")]
struct Registry {
    #[pickle(dict_items)]
    entries: std::collections::BTreeMap<String, i64>,
}

fn main() {}
