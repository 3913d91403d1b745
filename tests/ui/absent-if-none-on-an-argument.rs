use pickle_core::Reduce;

/// An argument is positional: it cannot be left out.
#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Report {
    #[pickle(arg, absent_if_none)]
    title: Option<String>,
}

fn main() {}
