//! Criterion benches of encoding the six workloads (see `workloads/mod.rs`).
//!
//! `cargo bench -p pickle-core --bench encode`; the side-by-side comparison with CPython
//! and serde-pickle is a separate script (the benchmark issue).

mod workloads;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pickle_core::{dumps, Bytes};

fn encode(c: &mut Criterion) {
    let ints = workloads::ints(1_000_000);
    let floats = workloads::floats(1_000_000);
    let strings = workloads::strings(220_000);
    let records = workloads::records(100_000);
    let nested = workloads::nested(440_000);

    let mut group = c.benchmark_group("encode");
    group.sample_size(20);
    for protocol in [2u8, 4, 5] {
        let size = |bytes: Vec<u8>| Throughput::Bytes(bytes.len() as u64);
        group.throughput(size(dumps(&ints, protocol).unwrap()));
        group.bench_with_input(BenchmarkId::new("1M ints", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&ints, p).unwrap())
        });
        group.throughput(size(dumps(&floats, protocol).unwrap()));
        group.bench_with_input(BenchmarkId::new("1M floats", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&floats, p).unwrap())
        });
        group.throughput(size(dumps(&strings, protocol).unwrap()));
        group.bench_with_input(BenchmarkId::new("220k strs", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&strings, p).unwrap())
        });
        group.throughput(size(dumps(&records, protocol).unwrap()));
        group.bench_with_input(BenchmarkId::new("100k records", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&records, p).unwrap())
        });
        group.throughput(size(dumps(&nested, protocol).unwrap()));
        group.bench_with_input(BenchmarkId::new("nested 440k", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&nested, p).unwrap())
        });
    }
    group.finish();

    let blob = workloads::blob(256 << 20);
    let mut group = c.benchmark_group("encode blob");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(blob.len() as u64));
    for protocol in [4u8, 5] {
        group.bench_with_input(BenchmarkId::new("256 MiB bytes", protocol), &protocol, |b, &p| {
            b.iter(|| dumps(&Bytes(&blob[..]), p).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
