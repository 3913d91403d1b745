use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
enum E {
    #[pickle(reconstructor = "pkg.mod.rebuild")]
    A,
}

fn main() {}
