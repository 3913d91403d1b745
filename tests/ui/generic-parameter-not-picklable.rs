use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct W<T> {
    x: T,
}

fn save(w: &W<std::net::TcpListener>) -> Vec<u8> {
    pickle_core::dumps(w, 4).unwrap()
}

fn main() {}
