use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Scaled {
    #[pickle(arg)]
    value: i64,
    #[pickle(kwarg)]
    scale: i64,
}

fn main() {}
