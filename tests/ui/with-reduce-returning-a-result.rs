use pickle_core::{Reduce, Reduction};

/// `reduce` written as `Reduce::reduce_ex` is: it must return the value to pickle instead.
mod seconds {
    pub fn reduce(d: &std::time::Duration) -> pickle_core::Result<pickle_core::Reduction<'static>> {
        let _ = d;
        unimplemented!()
    }
}

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Stamp {
    #[pickle(with = seconds)]
    when: std::time::Duration,
}

fn main() {
    let _: Option<Reduction<'static>> = None;
}
