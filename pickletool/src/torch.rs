//! `pickletool torch ls`: the tensors of a PyTorch checkpoint, listed without Python and
//! without running anything (issue 21), through `pickle_core::torch::Checkpoint`.
//!
//! Text: one line per tensor, tab-separated: name, dtype (as torch names it, without
//! `torch.`), shape, stride, storage offset, requires_grad, and with `--sha256` the SHA-256 of
//! the tensor's contiguous little-endian bytes. JSON (`--json`): `{"format": "zip"|"legacy"|
//! "tar", "tensors": [{"name", "dtype", "shape", "stride", "storage_offset", "requires_grad",
//! "sha256"}]}`, `sha256` being `null` without `--sha256`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use pickle_core::torch::{Checkpoint, LoadOptions, Tensor, TorchError};
use sha2::{Digest, Sha256};

use super::Failure;

#[derive(Subcommand)]
pub(crate) enum TorchCommand {
    /// List the tensors of a checkpoint: name, dtype, shape, stride, storage offset,
    /// requires_grad (names joined with dots through dicts by key and lists by index)
    Ls(LsArgs),
}

#[derive(Args)]
pub(crate) struct LsArgs {
    /// The checkpoint (.pt, .pth, .bin): ZIP, legacy or TAR
    file: PathBuf,
    /// Print JSON, for tools
    #[arg(long)]
    json: bool,
    /// Read every tensor and print the SHA-256 of its contiguous little-endian bytes
    #[arg(long)]
    sha256: bool,
    /// Allow every global, as inert data (a whole pickled model); by default only what
    /// `torch.load(weights_only=True)` allows
    #[arg(long)]
    inert: bool,
}

pub(crate) fn run(command: &TorchCommand) -> Result<(), Failure> {
    match command {
        TorchCommand::Ls(args) => ls(args),
    }
}

/// A failure about the checkpoint: exit code 1, as for a bad pickle; 2 if it cannot be read.
fn failure(args: &LsArgs, error: TorchError) -> Failure {
    let code = if matches!(error, TorchError::Io(_)) { 2 } else { 1 };
    Failure { message: format!("{}: {error}", args.file.display()), code }
}

fn ls(args: &LsArgs) -> Result<(), Failure> {
    let options = if args.inert { LoadOptions::inert() } else { LoadOptions::weights_only() };
    let checkpoint = Checkpoint::open_with(&args.file, &options).map_err(|e| failure(args, e))?;
    let tensors = checkpoint.state_dict().map_err(|e| failure(args, e))?;
    let mut rows = Vec::with_capacity(tensors.len());
    for (name, tensor) in &tensors {
        let sha256 = if args.sha256 { Some(digest(tensor).map_err(|e| failure(args, e))?) } else { None };
        rows.push((name, tensor, sha256));
    }
    if args.json {
        let tensors: Vec<serde_json::Value> = rows.iter().map(|(n, t, h)| json_row(n, t, h.as_deref())).collect();
        let out = serde_json::json!({ "format": checkpoint.format().name(), "tensors": tensors });
        println!("{out}");
        return Ok(());
    }
    for (name, tensor, sha256) in rows {
        let (dtype, shape, stride) = (tensor.dtype().name(), tensor.shape(), tensor.stride());
        let fields =
            format!("{name}\t{dtype}\t{shape:?}\t{stride:?}\t{}\t{}", tensor.storage_offset(), tensor.requires_grad());
        match sha256 {
            Some(hash) => println!("{fields}\t{hash}"),
            None => println!("{fields}"),
        }
    }
    Ok(())
}

fn json_row(name: &str, tensor: &Tensor, sha256: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "dtype": tensor.dtype().name(),
        "shape": tensor.shape(),
        "stride": tensor.stride(),
        "storage_offset": tensor.storage_offset(),
        "requires_grad": tensor.requires_grad(),
        "sha256": sha256,
    })
}

/// The SHA-256 of the tensor's contiguous little-endian bytes, in hex.
fn digest(tensor: &Tensor) -> Result<String, TorchError> {
    let bytes = tensor.to_contiguous_bytes()?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}
