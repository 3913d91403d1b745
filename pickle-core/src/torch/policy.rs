//! The policy of `torch.load(weights_only=True)` as a [`ClassPolicy`]: the globals torch's
//! weights-only unpickler resolves (`torch/_weights_only_unpickler.py`, `_get_allowed_globals`),
//! and nothing else, with a way to add safe globals and the modules that can never be added.
//!
//! The list is torch 2.15's, as that torch reports it (`tests/fixtures/torch/allowed_globals.json`
//! is written by the fixture script, and a test checks the two agree). Besides these, every
//! [`ClassPolicy`] admits the decoder's [`ALWAYS_ALLOWED`](crate::de::ALWAYS_ALLOWED) machinery,
//! which builds inert data and can reach no class that is not allowed itself.
//!
//! Not mirrored: torch's per-opcode rules (BUILD only on tensors, parameters and OrderedDicts,
//! APPEND only on lists, no FRAME or SHORT_BINUNICODE at all). The decoder executes nothing, so
//! those opcodes cannot run code here; torch refuses protocol 4 files that this reader reads.

use crate::ClassPolicy;

use super::error::{TorchError, TorchResult};

/// Modules torch never allows, even when a user adds a global of theirs.
pub const BLOCKED_MODULES: &[&str] = &["sys", "os", "posix", "nt"];

/// The globals `torch.load(weights_only=True)` allows, as `(module, qualname)`.
pub const WEIGHTS_ONLY_GLOBALS: &[(&str, &str)] = &[
    ("_codecs", "encode"),
    ("builtins", "bytearray"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("collections", "Counter"),
    ("collections", "OrderedDict"),
    ("torch", "BFloat16Storage"),
    ("torch", "BFloat16Tensor"),
    ("torch", "BoolStorage"),
    ("torch", "BoolTensor"),
    ("torch", "ByteStorage"),
    ("torch", "ByteTensor"),
    ("torch", "CharStorage"),
    ("torch", "CharTensor"),
    ("torch", "ComplexDoubleStorage"),
    ("torch", "ComplexFloatStorage"),
    ("torch", "DoubleStorage"),
    ("torch", "DoubleTensor"),
    ("torch", "FloatStorage"),
    ("torch", "FloatTensor"),
    ("torch", "HalfStorage"),
    ("torch", "HalfTensor"),
    ("torch", "IntStorage"),
    ("torch", "IntTensor"),
    ("torch", "LongStorage"),
    ("torch", "LongTensor"),
    ("torch", "QInt32Storage"),
    ("torch", "QInt8Storage"),
    ("torch", "QUInt2x4Storage"),
    ("torch", "QUInt4x2Storage"),
    ("torch", "QUInt8Storage"),
    ("torch", "ShortStorage"),
    ("torch", "ShortTensor"),
    ("torch", "Size"),
    ("torch", "Tensor"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("torch._utils", "_rebuild_meta_tensor_no_storage"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._utils", "_rebuild_qtensor"),
    ("torch._utils", "_rebuild_sparse_tensor"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_wrapper_subclass"),
    ("torch", "bcomplex32"),
    ("torch", "bfloat16"),
    ("torch", "bits16"),
    ("torch", "bits1x8"),
    ("torch", "bits2x4"),
    ("torch", "bits4x2"),
    ("torch", "bits8"),
    ("torch", "bool"),
    ("torch", "complex128"),
    ("torch", "complex32"),
    ("torch", "complex64"),
    ("torch.cuda", "BFloat16Storage"),
    ("torch.cuda", "BFloat16Tensor"),
    ("torch.cuda", "BoolStorage"),
    ("torch.cuda", "BoolTensor"),
    ("torch.cuda", "ByteStorage"),
    ("torch.cuda", "ByteTensor"),
    ("torch.cuda", "CharStorage"),
    ("torch.cuda", "CharTensor"),
    ("torch.cuda", "ComplexDoubleStorage"),
    ("torch.cuda", "ComplexFloatStorage"),
    ("torch.cuda", "DoubleStorage"),
    ("torch.cuda", "DoubleTensor"),
    ("torch.cuda", "FloatStorage"),
    ("torch.cuda", "FloatTensor"),
    ("torch.cuda", "HalfStorage"),
    ("torch.cuda", "HalfTensor"),
    ("torch.cuda", "IntStorage"),
    ("torch.cuda", "IntTensor"),
    ("torch.cuda", "LongStorage"),
    ("torch.cuda", "LongTensor"),
    ("torch.cuda", "ShortStorage"),
    ("torch.cuda", "ShortTensor"),
    ("torch.cuda.sparse", "BFloat16Tensor"),
    ("torch.cuda.sparse", "ByteTensor"),
    ("torch.cuda.sparse", "CharTensor"),
    ("torch.cuda.sparse", "DoubleTensor"),
    ("torch.cuda.sparse", "FloatTensor"),
    ("torch.cuda.sparse", "HalfTensor"),
    ("torch.cuda.sparse", "IntTensor"),
    ("torch.cuda.sparse", "LongTensor"),
    ("torch.cuda.sparse", "ShortTensor"),
    ("torch", "device"),
    ("torch", "float16"),
    ("torch", "float32"),
    ("torch", "float4_e2m1fn_x2"),
    ("torch", "float64"),
    ("torch", "float8_e4m3fn"),
    ("torch", "float8_e4m3fnuz"),
    ("torch", "float8_e5m2"),
    ("torch", "float8_e5m2fnuz"),
    ("torch", "float8_e8m0fnu"),
    ("torch", "int1"),
    ("torch", "int16"),
    ("torch", "int2"),
    ("torch", "int3"),
    ("torch", "int32"),
    ("torch", "int4"),
    ("torch", "int5"),
    ("torch", "int6"),
    ("torch", "int64"),
    ("torch", "int7"),
    ("torch", "int8"),
    ("torch.nn.parameter", "Parameter"),
    ("torch", "per_channel_affine"),
    ("torch", "per_channel_affine_float_qparams"),
    ("torch", "per_channel_symmetric"),
    ("torch", "per_tensor_affine"),
    ("torch", "per_tensor_symmetric"),
    ("torch", "qint32"),
    ("torch", "qint8"),
    ("torch", "quint2x4"),
    ("torch", "quint4x2"),
    ("torch", "quint8"),
    ("torch.serialization", "_get_layout"),
    ("torch.sparse", "BFloat16Tensor"),
    ("torch.sparse", "ByteTensor"),
    ("torch.sparse", "CharTensor"),
    ("torch.sparse", "DoubleTensor"),
    ("torch.sparse", "FloatTensor"),
    ("torch.sparse", "HalfTensor"),
    ("torch.sparse", "IntTensor"),
    ("torch.sparse", "LongTensor"),
    ("torch.sparse", "ShortTensor"),
    ("torch.storage", "TypedStorage"),
    ("torch.storage", "UntypedStorage"),
    ("torch", "uint1"),
    ("torch", "uint16"),
    ("torch", "uint2"),
    ("torch", "uint3"),
    ("torch", "uint32"),
    ("torch", "uint4"),
    ("torch", "uint5"),
    ("torch", "uint6"),
    ("torch", "uint64"),
    ("torch", "uint7"),
    ("torch", "uint8"),
];

/// The class policy of `torch.load(weights_only=True)`.
pub fn weights_only_policy() -> ClassPolicy {
    WEIGHTS_ONLY_GLOBALS.iter().fold(ClassPolicy::new(), |policy, (module, name)| policy.allow(*module, *name))
}

/// `policy` with `module.qualname` allowed too (torch's `add_safe_globals`), unless its module
/// is one torch blocks.
pub fn add_safe_global(policy: ClassPolicy, module: &str, qualname: &str) -> TorchResult<ClassPolicy> {
    let top = module.split('.').next().unwrap_or(module);
    if BLOCKED_MODULES.contains(&module) || BLOCKED_MODULES.contains(&top) {
        return Err(TorchError::Blocked(format!("{module}.{qualname}")));
    }
    Ok(policy.allow(module, qualname))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_tensors_and_refuses_os() {
        let policy = weights_only_policy();
        assert!(policy.allows("torch._utils", "_rebuild_tensor_v2"));
        assert!(policy.allows("collections", "OrderedDict"));
        assert!(!policy.allows("posix", "system"));
        assert!(!policy.allows("builtins", "eval"));
    }

    #[test]
    fn blocked_modules_cannot_be_added() {
        assert!(matches!(add_safe_global(weights_only_policy(), "os", "system"), Err(TorchError::Blocked(_))));
        assert!(matches!(add_safe_global(weights_only_policy(), "os.path", "join"), Err(TorchError::Blocked(_))));
        assert!(add_safe_global(weights_only_policy(), "mymodel", "Config").unwrap().allows("mymodel", "Config"));
    }
}
