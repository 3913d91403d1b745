//! [`DType`]: the element types of CPU tensors torch saves, by the names torch pickles them
//! with: legacy storage classes (`torch.FloatStorage`) for the old dtypes, and dtype globals
//! (`torch.uint16`) after an `UntypedStorage` for the newer ones (`_rebuild_tensor_v3`).

use super::error::{TorchError, TorchResult};

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// `torch.float64`.
    Float64,
    /// `torch.float32`.
    Float32,
    /// `torch.float16`.
    Float16,
    /// `torch.bfloat16`.
    BFloat16,
    /// `torch.float8_e4m3fn`.
    Float8E4M3Fn,
    /// `torch.float8_e5m2`.
    Float8E5M2,
    /// `torch.float8_e4m3fnuz`.
    Float8E4M3Fnuz,
    /// `torch.float8_e5m2fnuz`.
    Float8E5M2Fnuz,
    /// `torch.float8_e8m0fnu`.
    Float8E8M0Fnu,
    /// `torch.int8`.
    Int8,
    /// `torch.int16`.
    Int16,
    /// `torch.int32`.
    Int32,
    /// `torch.int64`.
    Int64,
    /// `torch.uint8`.
    UInt8,
    /// `torch.uint16`.
    UInt16,
    /// `torch.uint32`.
    UInt32,
    /// `torch.uint64`.
    UInt64,
    /// `torch.bool`, one byte per element.
    Bool,
    /// `torch.complex32`: two float16.
    Complex32,
    /// `torch.complex64`: two float32.
    Complex64,
    /// `torch.complex128`: two float64.
    Complex128,
}

/// Each dtype and its name in torch, without `torch.`.
const NAMES: &[(DType, &str)] = &[
    (DType::Float64, "float64"),
    (DType::Float32, "float32"),
    (DType::Float16, "float16"),
    (DType::BFloat16, "bfloat16"),
    (DType::Float8E4M3Fn, "float8_e4m3fn"),
    (DType::Float8E5M2, "float8_e5m2"),
    (DType::Float8E4M3Fnuz, "float8_e4m3fnuz"),
    (DType::Float8E5M2Fnuz, "float8_e5m2fnuz"),
    (DType::Float8E8M0Fnu, "float8_e8m0fnu"),
    (DType::Int8, "int8"),
    (DType::Int16, "int16"),
    (DType::Int32, "int32"),
    (DType::Int64, "int64"),
    (DType::UInt8, "uint8"),
    (DType::UInt16, "uint16"),
    (DType::UInt32, "uint32"),
    (DType::UInt64, "uint64"),
    (DType::Bool, "bool"),
    (DType::Complex32, "complex32"),
    (DType::Complex64, "complex64"),
    (DType::Complex128, "complex128"),
];

/// The legacy storage classes (`torch/storage.py`'s `_dtype_to_storage_type_map`) and their
/// element type; the quantized ones are named so that they are refused by name.
const STORAGE_CLASSES: &[(&str, DType)] = &[
    ("DoubleStorage", DType::Float64),
    ("FloatStorage", DType::Float32),
    ("HalfStorage", DType::Float16),
    ("LongStorage", DType::Int64),
    ("IntStorage", DType::Int32),
    ("ShortStorage", DType::Int16),
    ("CharStorage", DType::Int8),
    ("ByteStorage", DType::UInt8),
    ("BoolStorage", DType::Bool),
    ("BFloat16Storage", DType::BFloat16),
    ("ComplexDoubleStorage", DType::Complex128),
    ("ComplexFloatStorage", DType::Complex64),
];

impl DType {
    /// The name torch gives it, without `torch.`: `float32`, `bool`.
    pub fn name(self) -> &'static str {
        NAMES.iter().find(|(d, _)| *d == self).map_or("?", |(_, n)| n)
    }

    /// The dtype of a torch name (`float32`); torch's aliases (`float`, `half`, `long`) too.
    pub fn from_name(name: &str) -> Option<DType> {
        let canonical = match name {
            "float" => "float32",
            "double" => "float64",
            "half" => "float16",
            "long" => "int64",
            "int" => "int32",
            "short" => "int16",
            "cfloat" => "complex64",
            "cdouble" => "complex128",
            "chalf" => "complex32",
            other => other,
        };
        NAMES.iter().find(|(_, n)| *n == canonical).map(|(d, _)| *d)
    }

    /// The legacy storage class torch pickles it with (`FloatStorage`), `None` for the
    /// dtypes torch saves as an untyped storage with `_rebuild_tensor_v3`.
    pub fn storage_class(self) -> Option<&'static str> {
        STORAGE_CLASSES.iter().find(|(_, d)| *d == self).map(|(name, _)| *name)
    }

    /// Bytes per element.
    pub fn element_size(self) -> usize {
        use DType::*;
        match self {
            Complex128 => 16,
            Float64 | Int64 | UInt64 | Complex64 => 8,
            Float32 | Int32 | UInt32 | Complex32 => 4,
            Float16 | BFloat16 | Int16 | UInt16 => 2,
            Float8E4M3Fn | Float8E5M2 | Float8E4M3Fnuz | Float8E5M2Fnuz | Float8E8M0Fnu | Int8 | UInt8 | Bool => 1,
        }
    }

    /// Whether it is a complex type.
    pub fn is_complex(self) -> bool {
        matches!(self, DType::Complex32 | DType::Complex64 | DType::Complex128)
    }

    /// Whether it is a signed or unsigned integer type (not `bool`).
    pub fn is_integer(self) -> bool {
        use DType::*;
        matches!(self, Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64)
    }

    /// Whether torch's negative bit can be applied to it here: signed integers (wrapping), and
    /// the floats whose sign is one bit (not the `fnuz` kinds, whose negative zero is NaN,
    /// nor `float8_e8m0fnu`, which has no sign).
    pub(crate) fn negates(self) -> bool {
        use DType::*;
        matches!(
            self,
            Int8 | Int16
                | Int32
                | Int64
                | Float64
                | Float32
                | Float16
                | BFloat16
                | Float8E4M3Fn
                | Float8E5M2
                | Complex32
                | Complex64
                | Complex128
        )
    }

    /// The unit a byte-order change reverses: the element, or each half of a complex (as
    /// torch's `byteswap` does).
    pub fn swap_unit(self) -> usize {
        match self {
            DType::Complex32 | DType::Complex64 | DType::Complex128 => self.element_size() / 2,
            _ => self.element_size(),
        }
    }
}

/// What a storage persistent id's second item names: a typed storage class or an untyped
/// storage (bytes, the tensor's dtype given separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// `torch.FloatStorage` and the other legacy classes: elements of this dtype.
    Typed(DType),
    /// `torch.storage.UntypedStorage` (or `torch.UntypedStorage`): bytes.
    Untyped,
}

impl StorageKind {
    /// The element type the storage's `numel` counts.
    pub fn element(self) -> DType {
        match self {
            StorageKind::Typed(dtype) => dtype,
            StorageKind::Untyped => DType::UInt8,
        }
    }

    /// The storage class `module.name`, as torch's `find_class` maps any name with
    /// `Storage` in it (a `torch.cuda.FloatStorage` is a `FloatStorage` saved from a GPU).
    pub(crate) fn from_global(module: &str, name: &str) -> TorchResult<StorageKind> {
        if !(module == "torch" || module.starts_with("torch.")) {
            return Err(TorchError::malformed(format!("`{module}.{name}` is not a torch storage class")));
        }
        if name == "UntypedStorage" {
            return Ok(StorageKind::Untyped);
        }
        match STORAGE_CLASSES.iter().find(|(n, _)| *n == name) {
            Some((_, dtype)) => Ok(StorageKind::Typed(*dtype)),
            None if name.starts_with('Q') && name.ends_with("Storage") => {
                Err(TorchError::UnsupportedTensor(format!("quantized storage `{module}.{name}`")))
            }
            None => Err(TorchError::malformed(format!("`{module}.{name}` is not a torch storage class"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (dtype, name) in NAMES {
            assert_eq!(DType::from_name(name), Some(*dtype));
            assert_eq!(dtype.name(), *name);
        }
        assert_eq!(DType::from_name("half"), Some(DType::Float16));
    }

    #[test]
    fn complex_elements_are_two_floats() {
        assert_eq!(DType::Complex128.element_size(), 16);
        assert_eq!(DType::Complex64.element_size(), 8);
        assert_eq!(DType::Complex64.swap_unit(), 4);
        assert_eq!(DType::Complex32.element_size(), 4);
    }

    #[test]
    fn storage_classes() {
        assert_eq!(StorageKind::from_global("torch", "BoolStorage").unwrap(), StorageKind::Typed(DType::Bool));
        assert_eq!(StorageKind::from_global("torch.storage", "UntypedStorage").unwrap(), StorageKind::Untyped);
        assert!(matches!(StorageKind::from_global("torch", "QInt8Storage"), Err(TorchError::UnsupportedTensor(_))));
        assert!(StorageKind::from_global("os", "FloatStorage").is_err());
    }
}
