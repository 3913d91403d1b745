//! The six workloads of the benchmark issue, built deterministically in Rust.
//!
//! Each mirrors what the Python side of the comparison script builds: the record keys are
//! one shared object each (Python's interned literals), so the pickles are byte-identical
//! to `pickle.dumps` of the Python data.

#![allow(dead_code)]

use pickle_core::Value;

/// A small deterministic generator (xorshift64*), so every run pickles the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

/// 1M ints of mixed size: a quarter each in BININT1, BININT2, BININT and LONG1 range.
pub fn ints(n: usize) -> Vec<i64> {
    let mut rng = Rng::new(1);
    (0..n)
        .map(|i| {
            let r = rng.next_u64();
            match i % 4 {
                0 => (r % 256) as i64,
                1 => (r % 65536) as i64,
                2 => (r as i32) as i64,
                _ => r as i64,
            }
        })
        .collect()
}

/// 1M floats.
pub fn floats(n: usize) -> Vec<f64> {
    let mut rng = Rng::new(2);
    (0..n).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 40) as f64 - 4096.0).collect()
}

/// 220k short strings, one in eight with a non-ASCII character.
pub fn strings(n: usize) -> Vec<String> {
    let mut rng = Rng::new(3);
    (0..n)
        .map(|i| {
            let r = rng.next_u64();
            let base = format!("word{}-{}", r % 10_000, i % 97);
            if i % 8 == 0 {
                base + "é"
            } else {
                base
            }
        })
        .collect()
}

/// 100k records `{"id", "name", "score", "tags": [..], "active"}` sharing their keys.
pub fn records(n: usize) -> Value {
    let key = |k: &str| Value::from(k).shared();
    let (id, name, score, tags, active) = (key("id"), key("name"), key("score"), key("tags"), key("active"));
    let mut rng = Rng::new(4);
    Value::List(
        (0..n)
            .map(|i| {
                let r = rng.next_u64();
                Value::Dict(vec![
                    (id.clone(), Value::from(i as i64)),
                    (name.clone(), Value::from(format!("user{}", r % 100_000))),
                    (score.clone(), Value::from((r % 1000) as f64 / 10.0)),
                    (tags.clone(), Value::list((0..(r % 4)).map(|t| format!("tag{t}")))),
                    (active.clone(), Value::from(r % 2 == 0)),
                ])
            })
            .collect(),
    )
}

/// A nested dict/list/tuple tree of about `n` objects.
pub fn nested(n: usize) -> Value {
    let mut rng = Rng::new(5);
    let mut count = 0;
    fn build(rng: &mut Rng, depth: u32, count: &mut usize, budget: usize) -> Value {
        *count += 1;
        if depth == 0 || *count >= budget {
            return match rng.next_u64() % 3 {
                0 => Value::from((rng.next_u64() % 1000) as i64),
                1 => Value::from(format!("leaf{}", rng.next_u64() % 1000)),
                _ => Value::from(0.5),
            };
        }
        let width = 2 + (rng.next_u64() % 6) as usize;
        let children: Vec<Value> = (0..width).map(|_| build(rng, depth - 1, count, budget)).collect();
        match rng.next_u64() % 3 {
            0 => Value::List(children),
            1 => Value::Tuple(children),
            _ => {
                Value::Dict(children.into_iter().enumerate().map(|(i, v)| (Value::from(format!("k{i}")), v)).collect())
            }
        }
    }
    let mut roots = Vec::new();
    while count < n {
        roots.push(build(&mut rng, 7, &mut count, n));
    }
    Value::List(roots)
}

/// One bytes value of `len` bytes.
pub fn blob(len: usize) -> Vec<u8> {
    let mut rng = Rng::new(6);
    let mut v = vec![0u8; len];
    for chunk in v.chunks_mut(8) {
        let r = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    v
}
