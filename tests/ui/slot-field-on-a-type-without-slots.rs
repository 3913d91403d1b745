use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Slotted {
    #[pickle(slot)]
    x: i64,
}

fn main() {}
