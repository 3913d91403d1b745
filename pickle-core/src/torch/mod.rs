//! PyTorch checkpoints (feature `torch`): [`Checkpoint`] reads what `torch.save` writes, in its
//! ZIP, legacy and TAR containers, lazily and under the policy of `torch.load(weights_only=True)`.
//!
//! Opening a checkpoint reads the container's directory and decodes its pickle with
//! [`Unpickler`](crate::Unpickler): the object tree is a [`Value`], and storages stay byte
//! ranges of the file, read only when a tensor's data is asked for. Nothing in the pickle is
//! executed; by default a global outside torch's weights-only allowlist is refused, with its
//! name and offset ([`LoadOptions`]).
//!
//! **How a tensor lives in the tree.** The tree is exactly what the decoder gives: a tensor is
//! the [`Value::Object`] of its reduction (`torch._utils._rebuild_tensor_v2(...)`) and its
//! storage the [`Value::PersistentId`] of torch's storage id, so the tree stays a plain
//! `Value` (it pickles back to the same objects, and needs no variant the decoder does not
//! know). [`Checkpoint::tensor`] turns any node of the tree into a typed [`Tensor`] (dtype,
//! shape, strides, offset, `requires_grad`, its [`Storage`]), and [`Checkpoint::state_dict`]
//! lists every tensor under a dotted name, as `pickletool torch ls` does.
//!
//! [`save_state_dict`] writes tensors from Rust buffers as the ZIP checkpoint `torch.save` writes.
//!
//! ```no_run
//! use pickle_core::torch::Checkpoint;
//!
//! let checkpoint = Checkpoint::open("model.pt")?;
//! for (name, tensor) in checkpoint.state_dict()? {
//!     let bytes = tensor.to_contiguous_bytes()?; // C order, little-endian
//!     println!("{name}: {} {:?} ({} bytes)", tensor.dtype().name(), tensor.shape(), bytes.len());
//! }
//! # Ok::<(), pickle_core::torch::TorchError>(())
//! ```

mod container;
mod dtype;
mod error;
mod policy;
mod rebuild;
mod source;
mod storage_id;
mod tar;
mod tensor;
mod writer;

use std::path::Path;
use std::sync::Arc;

use crate::{ClassPolicy, UnpicklerOptions, Value};

pub use container::Format;
pub use dtype::{DType, StorageKind};
pub use error::{TorchError, TorchResult};
pub use policy::{weights_only_policy, BLOCKED_MODULES, WEIGHTS_ONLY_GLOBALS};
pub use tensor::{Storage, Tensor, MAX_EXPANSION};
pub use writer::{save_state_dict, TensorData};

use rebuild::Storages;
use source::Source;

/// How a checkpoint's pickle is read: which globals it may name.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `Some`: only these globals (and the decoder's always-allowed machinery); `None`: every
    /// global, kept as inert data.
    policy: Option<ClassPolicy>,
    /// The decoder's limits (depth, memory, memo size) for every pickle of the checkpoint.
    limits: UnpicklerOptions,
}

impl Default for LoadOptions {
    /// [`LoadOptions::weights_only`].
    fn default() -> LoadOptions {
        LoadOptions::weights_only()
    }
}

impl LoadOptions {
    /// `torch.load(weights_only=True)`: torch's allowlist of globals, nothing else.
    pub fn weights_only() -> LoadOptions {
        LoadOptions { policy: Some(weights_only_policy()), limits: UnpicklerOptions::default() }
    }

    /// Every global allowed, as inert data: a whole pickled `nn.Module` loads as the
    /// [`Value::Object`]s that describe it. Still nothing is executed.
    pub fn inert() -> LoadOptions {
        LoadOptions { policy: None, limits: UnpicklerOptions::default() }
    }

    /// Allows one more global (torch's `add_safe_globals`); a global of a module torch blocks
    /// (`os`, `sys`, `posix`, `nt`) is refused. No-op in the inert mode, which allows all.
    pub fn add_safe_global(self, module: &str, qualname: &str) -> TorchResult<LoadOptions> {
        match self.policy {
            Some(policy) => {
                Ok(LoadOptions { policy: Some(policy::add_safe_global(policy, module, qualname)?), ..self })
            }
            None => Ok(self),
        }
    }

    /// The decoder's limits for the checkpoint's pickles (its `class_policy`, `encoding` and
    /// `errors` are the checkpoint's own: the policy above, and torch's `utf-8`).
    pub fn limits(self, limits: UnpicklerOptions) -> LoadOptions {
        LoadOptions { limits, ..self }
    }

    /// The class policy, `None` in the inert mode.
    pub fn policy(&self) -> Option<&ClassPolicy> {
        self.policy.as_ref()
    }

    /// The decoder's limits.
    pub(crate) fn limits_ref(&self) -> &UnpicklerOptions {
        &self.limits
    }
}

/// A PyTorch checkpoint: its container, its object tree, and its storages, read lazily.
pub struct Checkpoint {
    format: Format,
    root: Value,
    pickle_start: u64,
    storages: Storages,
}

impl Checkpoint {
    /// Opens the checkpoint at `path` under the weights-only policy. Reads the container's
    /// directory and the pickle; storages are read from the file when asked for.
    pub fn open(path: impl AsRef<Path>) -> TorchResult<Checkpoint> {
        Checkpoint::open_with(path, &LoadOptions::default())
    }

    /// [`Checkpoint::open`] with options.
    pub fn open_with(path: impl AsRef<Path>, options: &LoadOptions) -> TorchResult<Checkpoint> {
        let file = std::fs::File::open(path)?;
        Checkpoint::from_source(Source::file(file)?, options)
    }

    /// A checkpoint held in memory, under the weights-only policy.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> TorchResult<Checkpoint> {
        Checkpoint::from_bytes_with(bytes, &LoadOptions::default())
    }

    /// [`Checkpoint::from_bytes`] with options.
    pub fn from_bytes_with(bytes: impl Into<Arc<[u8]>>, options: &LoadOptions) -> TorchResult<Checkpoint> {
        Checkpoint::from_source(Source::Memory(bytes.into()), options)
    }

    fn from_source(source: Source, options: &LoadOptions) -> TorchResult<Checkpoint> {
        let opened = container::open(&source, options)?;
        let storages = Storages {
            records: opened.records,
            big_endian: opened.big_endian,
            source: Arc::new(source),
            tar_tensors: opened.tar_tensors,
        };
        Ok(Checkpoint { format: opened.format, root: opened.root, pickle_start: opened.pickle_start, storages })
    }

    /// The container it was read from.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The object `torch.save` was given, as the decoder read it: tensors are the reductions
    /// [`Checkpoint::tensor`] reads.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Where the pickle starts in the file (the offsets of pickle errors count from there).
    pub fn pickle_start(&self) -> u64 {
        self.pickle_start
    }

    /// Whether the storages are big-endian (the ZIP's `byteorder` record says `big`).
    pub fn is_big_endian(&self) -> bool {
        self.storages.big_endian
    }

    /// The tensor a node of [`Checkpoint::root`] is, `None` if it is not a tensor. A tensor
    /// whose storage is missing or too short, or whose view reaches outside it, is an error.
    pub fn tensor(&self, value: &Value) -> TorchResult<Option<Tensor>> {
        self.storages.tensor(value)
    }

    /// The flattened state dict: every tensor under the root with its dotted name, joined
    /// through dicts (and `OrderedDict`s) by key and lists and tuples by index
    /// (`layer.0.weight`, `optimizer.state.0.exp_avg`), in the pickle's order. Other objects
    /// are entered through their state's attributes, so a whole pickled module (read
    /// [`LoadOptions::inert`]) lists `_modules.head._parameters.weight`.
    pub fn state_dict(&self) -> TorchResult<Vec<(String, Tensor)>> {
        rebuild::flatten(&self.storages, &self.root)
    }
}
