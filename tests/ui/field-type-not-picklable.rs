use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Server {
    listener: std::net::TcpListener,
}

fn main() {}
