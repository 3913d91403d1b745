use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Report {
    #[pickle(skip, absent_if_none)]
    summary: Option<String>,
}

fn main() {}
