use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Report {
    #[pickle(absent_if_none, default)]
    summary: Option<String>,
}

fn main() {}
