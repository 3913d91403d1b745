//! Lists the tensors of a PyTorch checkpoint without Python, as `pickletool torch ls` will:
//! name, dtype, shape, stride, storage offset, requires_grad. Opening reads the pickle only;
//! with `--read`, every tensor's data is read too (contiguous, little-endian) and its length
//! and an FNV-1a checksum printed, which is what the opening time is measured against.
//!
//! ```text
//! cargo run --release --example torch_ls -- model.pt [--read]
//! ```
//!
//! Without a path it lists the fixture `tests/fixtures/torch/zip_state_dict.pt`.

use std::time::Instant;

use pickle_core::torch::{Checkpoint, TorchResult};

fn main() -> TorchResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let read = args.iter().any(|a| a == "--read");
    let path = args.iter().find(|a| !a.starts_with("--")).map_or("tests/fixtures/torch/zip_state_dict.pt", |p| p);
    let start = Instant::now();
    let checkpoint = Checkpoint::open(path)?;
    let tensors = checkpoint.state_dict()?;
    let opened = start.elapsed();
    println!("format: {}, {} tensors", checkpoint.format().name(), tensors.len());
    let (mut total, mut reading) = (0u64, std::time::Duration::ZERO);
    for (name, tensor) in &tensors {
        let dtype = tensor.dtype().name();
        let (shape, stride, offset) = (tensor.shape(), tensor.stride(), tensor.storage_offset());
        let grad = tensor.requires_grad();
        print!("{name} {dtype} shape={shape:?} stride={stride:?} offset={offset} requires_grad={grad}");
        if read {
            let began = Instant::now();
            let bytes = tensor.to_contiguous_bytes()?;
            reading += began.elapsed();
            total += bytes.len() as u64;
            print!(" bytes={} fnv1a={:016x}", bytes.len(), fnv1a(&bytes));
        }
        println!();
    }
    eprintln!(
        "opened and listed in {opened:?}; {total} bytes of data read in {reading:?}; total {:?}",
        start.elapsed()
    );
    Ok(())
}

/// FNV-1a, 64-bit: a checksum with no dependency, to show the data was read.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}
