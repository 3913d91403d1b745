use pickle_core::Reconstruct;

/// The fields are entries of the state dict: there is no whole state to give `from_state`.
#[derive(Reconstruct)]
#[pickle(module = "pkg.mod", from_state = Temp::from_state)]
struct Temp {
    c: f64,
}

impl Temp {
    fn from_state(c: f64) -> Temp {
        Temp { c }
    }
}

fn main() {}
