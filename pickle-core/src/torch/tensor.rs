//! [`Tensor`] and its [`Storage`]: what `_rebuild_tensor_v2` would build, without building it.
//!
//! A storage is a byte range of the checkpoint (a ZIP record, or a run of the legacy file) that
//! is read only when a tensor's data is asked for, and then only the part its view reaches.
//! [`Tensor::to_contiguous_bytes`] walks the view's shape and strides from its storage offset
//! exactly as torch indexes it, refuses a view that reaches outside its storage, and turns a
//! big-endian checkpoint's elements little-endian.

use std::fmt;
use std::sync::Arc;

use super::dtype::DType;
use super::error::{TorchError, TorchResult};
use super::source::Source;

/// The most bytes a view may expand to beyond the storage bytes it reads (a stride-0 view
/// from `expand` repeats elements): the data the file does not pay for.
pub const MAX_EXPANSION: u64 = 1 << 30;

/// A storage: `data/<key>` of a ZIP checkpoint, or the legacy file's run for `key`.
#[derive(Clone)]
pub struct Storage {
    pub(crate) key: String,
    pub(crate) location: String,
    /// Where its bytes start in the file.
    pub(crate) file_offset: u64,
    /// Its length as the pickle declares it (numel times the element size), checked to fit in
    /// the record.
    pub(crate) nbytes: u64,
    /// Whether the checkpoint's `byteorder` record says `big`.
    pub(crate) big_endian: bool,
    pub(crate) source: Arc<Source>,
}

impl Storage {
    /// The storage key of the persistent id (`'0'`, or a legacy `_cdata` number).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The device it was saved from: `cpu`, `cuda:0`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Its length in bytes.
    pub fn nbytes(&self) -> u64 {
        self.nbytes
    }

    /// Where its bytes start in the checkpoint file.
    pub fn file_offset(&self) -> u64 {
        self.file_offset
    }

    /// Whether its elements are stored big-endian.
    pub fn is_big_endian(&self) -> bool {
        self.big_endian
    }

    /// The storage's raw bytes, as stored (in the checkpoint's byte order).
    pub fn raw_bytes(&self) -> TorchResult<Vec<u8>> {
        self.read(0, self.nbytes)
    }

    /// `len` bytes from `start` within the storage, which the caller has checked are in it.
    fn read(&self, start: u64, len: u64) -> TorchResult<Vec<u8>> {
        let len = usize::try_from(len).map_err(|_| TorchError::ViewOutOfRange("larger than memory".into()))?;
        Ok(self.source.read_exact_at(self.file_offset + start, len)?)
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("key", &self.key)
            .field("location", &self.location)
            .field("file_offset", &self.file_offset)
            .field("nbytes", &self.nbytes)
            .field("big_endian", &self.big_endian)
            .finish()
    }
}

impl PartialEq for Storage {
    /// The same storage of the same file: views of one storage compare equal.
    fn eq(&self, other: &Storage) -> bool {
        Arc::ptr_eq(&self.source, &other.source) && self.key == other.key && self.file_offset == other.file_offset
    }
}

/// A tensor as a checkpoint describes it: a view (shape, strides, offset, all in elements)
/// of a [`Storage`].
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) stride: Vec<usize>,
    pub(crate) storage_offset: usize,
    pub(crate) requires_grad: bool,
    pub(crate) is_parameter: bool,
    /// torch's conjugate bit: the elements are the conjugates of the stored ones.
    pub(crate) conj: bool,
    /// torch's negative bit: the elements are the negations of the stored ones.
    pub(crate) neg: bool,
    pub(crate) storage: Storage,
}

impl Tensor {
    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The size of each dimension (`tensor.shape`); empty for a 0-d tensor.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The stride of each dimension in elements (`tensor.stride()`).
    pub fn stride(&self) -> &[usize] {
        &self.stride
    }

    /// The offset of the first element in the storage, in elements.
    pub fn storage_offset(&self) -> usize {
        self.storage_offset
    }

    /// `tensor.requires_grad`.
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    /// Whether it was saved as a `torch.nn.Parameter`.
    pub fn is_parameter(&self) -> bool {
        self.is_parameter
    }

    /// torch's `is_conj()`: the elements are the conjugates of the stored ones (a lazy
    /// `conj()`), which [`Tensor::to_contiguous_bytes`] applies.
    pub fn is_conj(&self) -> bool {
        self.conj
    }

    /// torch's `is_neg()`: the elements are the negations of the stored ones (as in
    /// `t.conj().imag`), which [`Tensor::to_contiguous_bytes`] applies.
    pub fn is_neg(&self) -> bool {
        self.neg
    }

    /// The storage it views.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The number of elements (1 for a 0-d tensor). A loaded tensor's count fits in `usize`
    /// (checked when it is built).
    pub fn numel(&self) -> usize {
        self.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).unwrap_or(usize::MAX)
    }

    /// Whether the strides are those of a C-contiguous tensor of its shape (dimensions of
    /// size 1 may have any stride, as torch's `is_contiguous`).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1usize;
        for (&size, &stride) in self.shape.iter().zip(&self.stride).rev() {
            if size != 1 && stride != expected {
                return false;
            }
            expected = expected.saturating_mul(size);
        }
        true
    }

    /// Checks the view against its storage: every element it reaches is inside. Done when the
    /// tensor is built, so a loaded `Tensor` always has a valid view.
    pub(crate) fn check_view(&self) -> TorchResult<()> {
        if self.conj && !self.dtype.is_complex() {
            return Err(TorchError::malformed(format!("a conjugate bit on a {} tensor", self.dtype.name())));
        }
        if self.neg && !self.dtype.negates() {
            return Err(TorchError::UnsupportedTensor(format!("a negative bit on a {} tensor", self.dtype.name())));
        }
        self.span().map(|_| ())
    }

    /// The byte range of the storage the view reaches, `None` for a view of no elements.
    fn span(&self) -> TorchResult<Option<(u64, u64)>> {
        let out_of_range = |why: &str| TorchError::ViewOutOfRange(format!("{why}: {}", self.describe()));
        if self.shape.len() != self.stride.len() {
            return Err(out_of_range("shape and stride differ in length"));
        }
        let numel = self.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        match numel {
            None => return Err(out_of_range("the number of elements overflows")),
            Some(0) => return Ok(None),
            Some(_) => {}
        }
        let last = self.shape.iter().zip(&self.stride).try_fold(self.storage_offset as u64, |at, (&size, &stride)| {
            (size as u64 - 1).checked_mul(stride as u64).and_then(|step| at.checked_add(step))
        });
        let size = self.dtype.element_size() as u64;
        let span = last.and_then(|last| last.checked_add(1)).and_then(|end| end.checked_mul(size));
        match span {
            Some(end) if end <= self.storage.nbytes => Ok(Some((self.storage_offset as u64 * size, end))),
            _ => Err(out_of_range("the view reaches past the end of its storage")),
        }
    }

    /// The elements in C order, each little-endian: `tensor.contiguous()`'s bytes as a
    /// little-endian machine holds them, with the conjugate and negative bits applied
    /// (`resolve_conj()`, `resolve_neg()`). Reads only the part of the storage the view
    /// reaches.
    pub fn to_contiguous_bytes(&self) -> TorchResult<Vec<u8>> {
        let Some((start, end)) = self.span()? else {
            return Ok(Vec::new());
        };
        let size = self.dtype.element_size();
        let out_len = (self.numel() as u64).saturating_mul(size as u64);
        if out_len > end - start && out_len - (end - start) > MAX_EXPANSION {
            return Err(TorchError::ViewOutOfRange(format!(
                "expands {} stored bytes to {out_len}, more than {MAX_EXPANSION} beyond them: {}",
                end - start,
                self.describe()
            )));
        }
        let stored = self.storage.read(start, end - start)?;
        let mut out = if self.is_contiguous() { stored } else { gather(&stored, &self.shape, &self.stride, size) };
        if self.storage.big_endian {
            swap_units(&mut out, self.dtype.swap_unit());
        }
        if self.conj {
            conjugate(&mut out, self.dtype);
        }
        if self.neg {
            negate(&mut out, self.dtype);
        }
        Ok(out)
    }

    /// The view in words, for errors.
    fn describe(&self) -> String {
        format!(
            "{} of shape {:?}, stride {:?}, offset {} in storage {:?} of {} bytes",
            self.dtype.name(),
            self.shape,
            self.stride,
            self.storage_offset,
            self.storage.key,
            self.storage.nbytes
        )
    }
}

/// The elements of a strided view in C order; `stored` starts at the view's first element.
/// Runs along a last dimension of stride 1 are copied whole.
fn gather(stored: &[u8], shape: &[usize], stride: &[usize], size: usize) -> Vec<u8> {
    let numel: usize = shape.iter().product();
    let (run, shape, stride) = match (shape.split_last(), stride.split_last()) {
        (Some((&run, outer)), Some((&1, outer_stride))) => (run, outer, outer_stride),
        _ => (1, shape, stride),
    };
    let mut out = Vec::with_capacity(numel * size);
    let mut index = vec![0usize; shape.len()];
    let mut at = 0usize;
    for _ in 0..numel / run {
        out.extend_from_slice(&stored[at * size..(at + run) * size]);
        // The next index in C order: carry from the last dimension.
        for dim in (0..shape.len()).rev() {
            index[dim] += 1;
            at += stride[dim];
            if index[dim] < shape[dim] {
                break;
            }
            at -= stride[dim] * shape[dim];
            index[dim] = 0;
        }
    }
    out
}

/// Conjugates little-endian complex elements: the imaginary half's sign bit flips, which is
/// IEEE negation exactly (as torch's `conj` of the imaginary part).
fn conjugate(bytes: &mut [u8], dtype: DType) {
    let size = dtype.element_size();
    bytes.chunks_exact_mut(size).for_each(|element| element[size - 1] ^= 0x80);
}

/// Negates little-endian elements: the sign bit of each float (each half of a complex), the
/// wrapping two's-complement negation of each integer, as torch's `neg`.
fn negate(bytes: &mut [u8], dtype: DType) {
    if dtype.is_integer() {
        let size = dtype.element_size();
        for element in bytes.chunks_exact_mut(size) {
            // Two's complement: invert, then add one with carry from the low byte.
            let mut carry = true;
            for byte in element.iter_mut() {
                let (sum, overflow) = (!*byte).overflowing_add(u8::from(carry));
                *byte = sum;
                carry = overflow;
            }
        }
    } else {
        let unit = dtype.swap_unit();
        bytes.chunks_exact_mut(unit).for_each(|component| component[unit - 1] ^= 0x80);
    }
}

/// Reverses every `unit` bytes: big-endian elements to little-endian.
fn swap_units(bytes: &mut [u8], unit: usize) {
    if unit > 1 {
        bytes.chunks_exact_mut(unit).for_each(<[u8]>::reverse);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(data: Vec<u8>, dtype: DType, shape: &[usize], stride: &[usize], offset: usize) -> Tensor {
        let nbytes = data.len() as u64;
        let storage = Storage {
            key: "0".into(),
            location: "cpu".into(),
            file_offset: 0,
            nbytes,
            big_endian: false,
            source: Arc::new(Source::Memory(data.into())),
        };
        Tensor {
            dtype,
            shape: shape.to_vec(),
            stride: stride.to_vec(),
            storage_offset: offset,
            requires_grad: false,
            is_parameter: false,
            conj: false,
            neg: false,
            storage,
        }
    }

    #[test]
    fn conjugate_and_negative_bits_are_applied() {
        // complex64 (1 + 2j): conj is (1 - 2j).
        let mut data = 1f32.to_le_bytes().to_vec();
        data.extend(2f32.to_le_bytes());
        let mut t = tensor(data, DType::Complex64, &[1], &[1], 0);
        t.conj = true;
        let out = t.to_contiguous_bytes().unwrap();
        assert_eq!((&out[..4], &out[4..]), (&1f32.to_le_bytes()[..], &(-2f32).to_le_bytes()[..]));
        let mut t = tensor([5i16.to_le_bytes(), i16::MIN.to_le_bytes()].concat(), DType::Int16, &[2], &[1], 0);
        t.neg = true;
        assert_eq!(t.to_contiguous_bytes().unwrap(), [(-5i16).to_le_bytes(), i16::MIN.to_le_bytes()].concat());
    }

    #[test]
    fn transposed_view_is_gathered_in_c_order() {
        // [[0, 1, 2], [3, 4, 5]] transposed: [[0, 3], [1, 4], [2, 5]].
        let t = tensor((0..6).collect(), DType::UInt8, &[3, 2], &[1, 3], 0);
        assert_eq!(t.to_contiguous_bytes().unwrap(), [0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn stepped_rows_are_copied_in_runs() {
        // Rows 0 and 2 of a 3x4 matrix, columns 1..3: strides (8, 1), offset 1.
        let t = tensor((0..12).collect(), DType::UInt8, &[2, 3], &[8, 1], 1);
        assert_eq!(t.to_contiguous_bytes().unwrap(), [1, 2, 3, 9, 10, 11]);
    }

    #[test]
    fn views_past_the_storage_are_refused() {
        let t = tensor(vec![0; 8], DType::Float32, &[3], &[1], 0);
        assert!(matches!(t.to_contiguous_bytes(), Err(TorchError::ViewOutOfRange(_))));
        let t = tensor(vec![0; 8], DType::Float32, &[1], &[1], 2);
        assert!(matches!(t.to_contiguous_bytes(), Err(TorchError::ViewOutOfRange(_))));
        let t = tensor(vec![0; 8], DType::UInt8, &[usize::MAX, 2], &[1, 1], 0);
        assert!(matches!(t.to_contiguous_bytes(), Err(TorchError::ViewOutOfRange(_))));
    }

    #[test]
    fn huge_expansions_are_refused_before_allocating() {
        let t = tensor(vec![1; 4], DType::Float32, &[1 << 40], &[0], 0);
        assert!(matches!(t.to_contiguous_bytes(), Err(TorchError::ViewOutOfRange(_))));
        let t = tensor(vec![1, 2], DType::UInt8, &[2, 3], &[1, 0], 0);
        assert_eq!(t.to_contiguous_bytes().unwrap(), [1, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn empty_views_read_nothing() {
        let t = tensor(vec![], DType::Float64, &[0, 5], &[5, 1], 100);
        assert_eq!(t.to_contiguous_bytes().unwrap(), Vec::<u8>::new());
    }
}
