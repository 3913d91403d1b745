//! Criterion benches of decoding the six workloads to `Value`.
//!
//! `cargo bench -p pickle-core --bench decode`. The pickles are made by this crate's own
//! encoder, which writes CPython's bytes, so they are the pickles CPython would write.

mod workloads;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pickle_core::{dumps, loads, Bytes, Value};

/// The five structured workloads, pickled at `protocol`.
fn pickles(protocol: u8) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("1M ints", dumps(&workloads::ints(1_000_000), protocol).unwrap()),
        ("1M floats", dumps(&workloads::floats(1_000_000), protocol).unwrap()),
        ("220k strs", dumps(&workloads::strings(220_000), protocol).unwrap()),
        ("100k records", dumps(&workloads::records(100_000), protocol).unwrap()),
        ("nested 440k", dumps(&workloads::nested(440_000), protocol).unwrap()),
    ]
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.sample_size(20);
    for protocol in [2u8, 4, 5] {
        for (name, pickle) in pickles(protocol) {
            group.throughput(Throughput::Bytes(pickle.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, protocol), &pickle, |b, p| {
                b.iter(|| loads::<Value>(p).unwrap())
            });
        }
    }
    group.finish();

    let blob = dumps(&Bytes(workloads::blob(256 << 20)), 5).unwrap();
    let mut group = c.benchmark_group("decode blob");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(blob.len() as u64));
    group.bench_function("256 MiB bytes/5", |b| b.iter(|| loads::<Value>(&blob).unwrap()));
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
