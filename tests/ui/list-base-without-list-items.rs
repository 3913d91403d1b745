use pickle_core::Reduce;

/// A list subclass whose items are in a `state` field: protocols 0 and 1 need them as the base.
#[derive(Reduce)]
#[pickle(module = "pkg.mod", base = "list")]
struct Tags {
    items: Vec<String>,
    owner: String,
}

fn main() {}
