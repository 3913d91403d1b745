use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
enum E {
    #[pickle(value = 1)]
    A,
    #[pickle(value = 1)]
    B,
}

fn main() {}
