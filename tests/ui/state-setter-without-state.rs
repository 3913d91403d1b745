use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod", state_setter = "pkg.mod.place")]
struct Point {
    #[pickle(arg)]
    x: i64,
}

fn main() {}
