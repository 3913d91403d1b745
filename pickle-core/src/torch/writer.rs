//! [`save_state_dict`]: a state dict of tensors from Rust buffers, written as the ZIP
//! checkpoint `torch.save` writes, for `torch.load(path, weights_only=True)`.
//!
//! The layout is torch's: under the folder `archive/`, `data.pkl` (protocol 2), `.format_version`,
//! `.storage_alignment`, `byteorder`, one uncompressed record `data/<i>` per tensor aligned to
//! 64 bytes, then `version`. The pickle is an `OrderedDict` of
//! `torch._utils._rebuild_tensor_v2(('storage', torch.<Type>Storage, '<i>', 'cpu', numel), 0,
//! shape, stride, False, OrderedDict())`, or `_rebuild_tensor_v3` with an untyped storage and
//! the dtype for the dtypes torch saves so (`uint16`, the float8 kinds, `complex32`).

use std::io::{Seek, Write};

use crate::{dumps, Object, Value};

use super::dtype::DType;
use super::error::{TorchError, TorchResult};

/// The alignment torch gives storage records (its `.storage_alignment`).
const ALIGNMENT: u16 = 64;
/// The folder torch names a checkpoint's records under when it writes to a buffer.
const FOLDER: &str = "archive";

/// A tensor to write: its dtype, shape and elements in C order, each little-endian.
#[derive(Clone, Copy, Debug)]
pub struct TensorData<'a> {
    /// The element type.
    pub dtype: DType,
    /// The size of each dimension; empty for a 0-d tensor.
    pub shape: &'a [usize],
    /// The elements, C order, little-endian: exactly `numel * element_size` bytes.
    pub data: &'a [u8],
}

/// Writes `tensors` (name, data) as a ZIP checkpoint to `writer`, in order, and gives the
/// writer back. A tensor whose data is not exactly its shape's bytes is an error, before
/// anything is written.
pub fn save_state_dict<W: Write + Seek>(writer: W, tensors: &[(&str, TensorData<'_>)]) -> TorchResult<W> {
    for (name, tensor) in tensors {
        check_size(name, tensor)?;
    }
    let pickle = dumps(&state_dict(tensors), 2).map_err(|e| TorchError::Io(std::io::Error::other(e)))?;
    let mut zip = zip::ZipWriter::new(writer);
    let small = [(".format_version", &b"1"[..]), (".storage_alignment", b"64"), ("byteorder", b"little")];
    record(&mut zip, "data.pkl", &pickle)?;
    for (name, bytes) in small {
        record(&mut zip, name, bytes)?;
    }
    for (key, (_, tensor)) in tensors.iter().enumerate() {
        record(&mut zip, &format!("data/{key}"), tensor.data)?;
    }
    record(&mut zip, "version", b"3\n")?;
    zip.finish().map_err(zip_error)
}

/// One stored record, aligned as torch aligns them, ZIP64 when it needs to be.
fn record<W: Write + Seek>(zip: &mut zip::ZipWriter<W>, name: &str, bytes: &[u8]) -> TorchResult<()> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .with_alignment(ALIGNMENT)
        .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
    zip.start_file(format!("{FOLDER}/{name}"), options).map_err(zip_error)?;
    zip.write_all(bytes)?;
    Ok(())
}

fn zip_error(e: zip::result::ZipError) -> TorchError {
    TorchError::Io(std::io::Error::other(e))
}

/// The data must be exactly the shape's elements.
fn check_size(name: &str, tensor: &TensorData<'_>) -> TorchResult<()> {
    let numel = tensor.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let expected = numel.and_then(|n| n.checked_mul(tensor.dtype.element_size()));
    if expected == Some(tensor.data.len()) {
        return Ok(());
    }
    Err(TorchError::malformed(format!(
        "tensor {name:?} of {} and shape {:?} cannot hold {} bytes",
        tensor.dtype.name(),
        tensor.shape,
        tensor.data.len()
    )))
}

/// `OrderedDict([(name, tensor), ...])`.
fn state_dict(tensors: &[(&str, TensorData<'_>)]) -> Value {
    let mut dict = ordered_dict();
    dict.dict_items = tensors.iter().enumerate().map(|(key, (name, t))| (Value::from(*name), tensor(key, t))).collect();
    Value::object(dict)
}

/// `collections.OrderedDict()`.
fn ordered_dict() -> Object {
    Object::new(Value::global("collections", "OrderedDict"), Value::Tuple(Vec::new()))
}

/// The reduction torch writes for a contiguous CPU tensor with its own storage `key`.
fn tensor(key: usize, t: &TensorData<'_>) -> Value {
    let stride = contiguous_strides(t.shape);
    let ints = |dims: &[usize]| Value::Tuple(dims.iter().map(|&d| Value::from(d)).collect());
    let numel: usize = t.shape.iter().product();
    let (class, count) = match t.dtype.storage_class() {
        Some(class) => (Value::global("torch", class), numel),
        None => (Value::global("torch.storage", "UntypedStorage"), t.data.len()),
    };
    let id = Value::tuple([Value::from("storage"), class, Value::from(key.to_string()), "cpu".into(), count.into()]);
    let mut args = vec![
        Value::PersistentId(Box::new(id)),
        Value::from(0),
        ints(t.shape),
        ints(&stride),
        Value::Bool(false),
        Value::object(ordered_dict()),
    ];
    let rebuild = match t.dtype.storage_class() {
        Some(_) => "_rebuild_tensor_v2",
        None => {
            args.push(Value::global("torch", t.dtype.name()));
            "_rebuild_tensor_v3"
        }
    };
    Value::object(Object::new(Value::global("torch._utils", rebuild), Value::Tuple(args)))
}

/// The strides of a C-contiguous tensor of `shape`, in elements.
fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for dim in (0..shape.len().saturating_sub(1)).rev() {
        strides[dim] = strides[dim + 1].saturating_mul(shape[dim + 1].max(1));
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_c_order() {
        assert_eq!(contiguous_strides(&[2, 3, 4]), [12, 4, 1]);
        assert_eq!(contiguous_strides(&[]), Vec::<usize>::new());
    }

    #[test]
    fn data_of_the_wrong_size_is_refused() {
        let t = TensorData { dtype: DType::Float32, shape: &[3], data: &[0; 8] };
        let out = save_state_dict(std::io::Cursor::new(Vec::new()), &[("w", t)]);
        assert!(matches!(out, Err(TorchError::MalformedTensor(_))));
    }
}
