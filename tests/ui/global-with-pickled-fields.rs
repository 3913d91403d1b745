use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", global = "SPAM")]
struct Spam {
    eggs: i64,
}

fn main() {}
