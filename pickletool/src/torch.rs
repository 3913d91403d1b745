//! `pickletool torch ls`: the tensors of a PyTorch checkpoint, listed without Python and
//! without running anything (issue 21), through `pickle_core::torch::Checkpoint`.
//!
//! Text: one line per tensor, tab-separated: name, dtype (as torch names it, without
//! `torch.`), shape, stride, storage offset, requires_grad, and with `--sha256` the SHA-256 of
//! the tensor's contiguous little-endian bytes. JSON (`--json`): `{"format": "zip"|"legacy"|
//! "tar", "tensors": [{"name", "dtype", "shape", "stride", "storage_offset", "requires_grad",
//! "sha256"}]}`, `sha256` being `null` without `--sha256`.
//!
//! `pickletool torch convert FILE OUT.safetensors`: every tensor, under its dotted name, written
//! contiguous with the `safetensors` crate (views and shared storages each get their own
//! contiguous copy), one tensor's data in memory at a time.

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
    /// Write every tensor of a checkpoint, contiguous, to a .safetensors file
    Convert(ConvertArgs),
}

#[derive(Args)]
pub(crate) struct ConvertArgs {
    /// The checkpoint (.pt, .pth, .bin): ZIP, legacy or TAR
    file: PathBuf,
    /// The .safetensors file to write
    out: PathBuf,
    /// Allow every global, as inert data; by default only what `torch.load(weights_only=True)`
    /// allows
    #[arg(long)]
    inert: bool,
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
        TorchCommand::Convert(args) => convert(args),
    }
}

/// A failure about the checkpoint `file`: exit code 1, as for a bad pickle; 2 if it cannot be
/// read.
fn failure(file: &std::path::Path, error: TorchError) -> Failure {
    let code = if matches!(error, TorchError::Io(_)) { 2 } else { 1 };
    Failure { message: format!("{}: {error}", file.display()), code }
}

/// Opens and lists the checkpoint under the chosen policy.
fn open(file: &std::path::Path, inert: bool) -> Result<(Checkpoint, Vec<(String, Tensor)>), Failure> {
    let options = if inert { LoadOptions::inert() } else { LoadOptions::weights_only() };
    let checkpoint = Checkpoint::open_with(file, &options).map_err(|e| failure(file, e))?;
    let tensors = checkpoint.state_dict().map_err(|e| failure(file, e))?;
    Ok((checkpoint, tensors))
}

fn ls(args: &LsArgs) -> Result<(), Failure> {
    let (checkpoint, tensors) = open(&args.file, args.inert)?;
    let mut rows = Vec::with_capacity(tensors.len());
    for (name, tensor) in &tensors {
        let sha256 = if args.sha256 { Some(digest(tensor).map_err(|e| failure(&args.file, e))?) } else { None };
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

// ----- convert -----

fn convert(args: &ConvertArgs) -> Result<(), Failure> {
    let (_, tensors) = open(&args.file, args.inert)?;
    let error = std::cell::RefCell::new(None);
    let mut views = Vec::with_capacity(tensors.len());
    for (name, tensor) in &tensors {
        let dtype = safetensors_dtype(tensor).map_err(|e| failure(&args.file, e))?;
        views.push((name.as_str(), LazyView { tensor, dtype, error: &error }));
    }
    let written = safetensors::serialize_to_file(views, None, &args.out);
    if let Some(e) = error.into_inner() {
        let _ = std::fs::remove_file(&args.out);
        return Err(failure(&args.file, e));
    }
    written.map_err(|e| Failure { message: format!("{}: {e}", args.out.display()), code: 2 })
}

/// A tensor whose contiguous bytes are read when the writer asks for them. A read that fails
/// (the file changed or shrank) gives zeros to the writer and records the error, after which
/// the output is deleted: never a file with zeros for data.
struct LazyView<'a> {
    tensor: &'a Tensor,
    dtype: safetensors::Dtype,
    error: &'a std::cell::RefCell<Option<TorchError>>,
}

impl safetensors::View for LazyView<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        self.tensor.shape()
    }

    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        match self.tensor.to_contiguous_bytes() {
            Ok(bytes) => bytes.into(),
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
                vec![0; self.data_len()].into()
            }
        }
    }

    fn data_len(&self) -> usize {
        self.tensor.numel().saturating_mul(self.tensor.dtype().element_size())
    }
}

/// The safetensors dtype of a tensor; complex32 and complex128 have none.
fn safetensors_dtype(tensor: &Tensor) -> Result<safetensors::Dtype, TorchError> {
    use pickle_core::torch::DType as T;
    use safetensors::Dtype as S;
    Ok(match tensor.dtype() {
        T::Float64 => S::F64,
        T::Float32 => S::F32,
        T::Float16 => S::F16,
        T::BFloat16 => S::BF16,
        T::Float8E4M3Fn => S::F8_E4M3,
        T::Float8E5M2 => S::F8_E5M2,
        T::Float8E4M3Fnuz => S::F8_E4M3FNUZ,
        T::Float8E5M2Fnuz => S::F8_E5M2FNUZ,
        T::Float8E8M0Fnu => S::F8_E8M0,
        T::Int8 => S::I8,
        T::Int16 => S::I16,
        T::Int32 => S::I32,
        T::Int64 => S::I64,
        T::UInt8 => S::U8,
        T::UInt16 => S::U16,
        T::UInt32 => S::U32,
        T::UInt64 => S::U64,
        T::Bool => S::BOOL,
        T::Complex64 => S::C64,
        other => return Err(TorchError::UnsupportedTensor(format!("{} has no safetensors dtype", other.name()))),
    })
}
