use pickle_core::Reduce;

mod seconds {
    pub fn reduce(d: &Option<std::time::Duration>) -> Option<f64> {
        d.map(|d| d.as_secs_f64())
    }
}

#[derive(Reduce)]
#[pickle(module = "pkg.mod")]
struct Stamp {
    #[pickle(absent_if_none, with = seconds)]
    when: Option<std::time::Duration>,
}

fn main() {}
