use pickle_core::Reconstruct;

#[derive(Reconstruct)]
#[pickle(module = "pkg.mod", state = (self.c,), from_state = Temp::from_state, constructor = Temp::new)]
struct Temp {
    c: f64,
}

impl Temp {
    fn from_state((c,): (f64,)) -> Temp {
        Temp { c }
    }
    fn new() -> Temp {
        Temp { c: 0.0 }
    }
}

fn main() {}
