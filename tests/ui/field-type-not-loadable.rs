use pickle_core::Reconstruct;

struct Socket;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod")]
struct Client {
    socket: Socket,
}

fn main() {}
