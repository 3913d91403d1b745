use pickle_core::Reduce;

/// `arg` fields without `newobj`: `__reduce__` returns `(Tags, (owner,), ...)` at every
/// protocol, so `copyreg._reconstructor` and its base are never written.
#[derive(Reduce)]
#[pickle(module = "pkg.mod", base = "list")]
struct Tags {
    #[pickle(list_items)]
    items: Vec<String>,
    #[pickle(arg)]
    owner: String,
}

fn main() {}
