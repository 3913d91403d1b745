use pickle_core::Reconstruct;

struct Connection;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Client {
    #[pickle(arg)]
    url: String,
    #[pickle(skip)]
    connection: Connection,
}

fn main() {}
