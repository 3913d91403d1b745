use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(dict, module = "pkg.mod")]
struct Record {
    #[pickle(arg)]
    id: i64,
    name: String,
}

fn main() {}
