use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Settings {
    #[pickle(default = 5)]
    retries: i64,
}

fn main() {}
