//! numpy arrays of numbers, datetimes and timedeltas as numpy pickles them (feature
//! `numpy`): [`NdArray`] and its [`Dtype`].
//!
//! numpy reduces an array (`array_reduce_ex` in `methods.c`) in one of two shapes:
//!
//! - below protocol 5: `numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`,
//!   then BUILD with `(1, shape, dtype, is_fortran, data)`, the data as `bytes` in C order,
//!   or in Fortran order for an array that is Fortran- and not C-contiguous;
//! - at protocol 5, for a contiguous array: `numpy._core.numeric._frombuffer(buffer, dtype,
//!   shape, order)`, the buffer a `PickleBuffer` that goes in band as a `bytearray`
//!   (BYTEARRAY8), `order` `'C'` or `'F'`; but an array whose dtype exports no buffer
//!   (`datetime64`, `timedelta64`) falls back on the first shape.
//!
//! numpy 1.x names the modules `numpy.core.multiarray` and `numpy.core.numeric`, and
//! writes the same bytes otherwise. Both load; [`NdArray`] writes the names of the pickle it
//! was loaded from, and numpy 2.x's for one built in Rust ([`Names`]).
//!
//! Nothing is trusted: a shape whose size does not match the data is an error, and the data
//! is the pickle's own bytes, never an allocation of a size the pickle claims.
//!
//! ```
//! use pickle_core::numpy::{Dtype, NdArray};
//! use pickle_core::{dumps, loads};
//!
//! // numpy: `np.array([[1, 2], [3, 4]], dtype='>i2', order='F')`
//! let dtype = Dtype::from_descr(">i2")?;
//! let array = NdArray::new(dtype, vec![2, 2], true, vec![0, 1, 0, 3, 0, 2, 0, 4])?;
//! let loaded: NdArray = loads(&dumps(&array, 4)?)?;
//! assert_eq!((loaded.descr().as_str(), loaded.shape(), loaded.is_fortran()), (">i2", &[2, 2][..], true));
//! # Ok::<(), pickle_core::Error>(())
//! ```

mod datetime;
mod dtype;

use crate::foreign::packed_bytes;
use crate::reduce::{ByteArray, Bytes, Sequence};
use crate::ser::ItemSink;
use crate::{Arg, Builtin, Call, Error, GlobalName, Instance, Kind, Node, Reconstruct, Reduce, Reduction, Result};

pub use datetime::{TimeUnit, Unit};
pub use dtype::{ByteOrder, Dtype, DtypeKind};

/// numpy's `NPY_MAXDIMS`: the most dimensions an array has.
const MAX_DIMS: usize = 64;

/// Which numpy's module names an array pickles with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Names {
    /// numpy 2.x: `numpy._core.multiarray._reconstruct`, `numpy._core.numeric._frombuffer`.
    /// numpy 1.x cannot load them.
    #[default]
    Numpy2,
    /// numpy 1.x: `numpy.core.multiarray._reconstruct`, `numpy.core.numeric._frombuffer`,
    /// which numpy 2.x loads too (with a deprecation warning).
    Numpy1,
}

impl Names {
    /// The module and name of `_reconstruct`.
    fn reconstruct(self) -> (&'static str, &'static str) {
        match self {
            Names::Numpy2 => ("numpy._core.multiarray", "_reconstruct"),
            Names::Numpy1 => ("numpy.core.multiarray", "_reconstruct"),
        }
    }

    /// The module and name of `_frombuffer`.
    fn frombuffer(self) -> (&'static str, &'static str) {
        match self {
            Names::Numpy2 => ("numpy._core.numeric", "_frombuffer"),
            Names::Numpy1 => ("numpy.core.numeric", "_frombuffer"),
        }
    }
}

/// A numpy array of numbers, datetimes or timedeltas: its [`Dtype`], shape, memory order and
/// raw data, and the [`Names`] it pickles with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdArray {
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    data: Vec<u8>,
    names: Names,
}

impl NdArray {
    /// An array of `dtype` and `shape` holding `data`, the elements in C order or, with
    /// `fortran`, in Fortran order, each in the dtype's byte order. The data must hold
    /// exactly the shape's elements. As in numpy, an array that is C-contiguous as well
    /// (one dimension, or none larger than 1, or no elements) is not Fortran-ordered.
    pub fn new(dtype: Dtype, shape: Vec<usize>, fortran: bool, data: Vec<u8>) -> Result<NdArray> {
        check_size(&dtype, &shape, data.len()).map_err(Error::custom)?;
        let fortran = fortran && !is_c_contiguous_too(&shape);
        Ok(NdArray { dtype, shape, fortran, data, names: Names::default() })
    }

    /// The same array, pickling with numpy `names`.
    pub fn with_names(self, names: Names) -> NdArray {
        NdArray { names, ..self }
    }

    /// The names the array pickles with: those of the pickle it was loaded from, numpy 2.x's
    /// by default.
    pub fn names(&self) -> Names {
        self.names
    }

    /// numpy's `dtype.str`: `'<f8'`, `'|b1'`.
    pub fn descr(&self) -> String {
        self.dtype.descr()
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The length of each dimension; empty for a 0-d array.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Whether the data is in Fortran order (numpy's `is_fortran`: Fortran-contiguous and
    /// not C-contiguous).
    pub fn is_fortran(&self) -> bool {
        self.fortran
    }

    /// The raw data: `arr.tobytes(order='A')`. Always `Some` for the numeric dtypes that
    /// [`NdArray`] holds; arrays of Python objects, which have no raw data, do not load.
    pub fn data(&self) -> Option<&[u8]> {
        Some(&self.data)
    }

    /// `'C'` or `'F'`, as `_frombuffer` takes it.
    fn order(&self) -> &'static str {
        if self.fortran {
            "F"
        } else {
            "C"
        }
    }
}

/// Whether `data_len` bytes are exactly the elements of `shape`: the one size rule of
/// arrays, for building and for loading. Overflowing products are mismatches too.
fn check_size(dtype: &Dtype, shape: &[usize], data_len: usize) -> std::result::Result<(), String> {
    if shape.len() > MAX_DIMS {
        return Err(format!("an array of {} dimensions; numpy has at most {MAX_DIMS}", shape.len()));
    }
    let size = shape.iter().try_fold(dtype.itemsize(), |n, &d| n.checked_mul(d));
    match size {
        Some(size) if size == data_len => Ok(()),
        _ => Err(format!(
            "an array of shape {shape:?} and dtype {} does not fit {data_len} bytes of data",
            dtype.descr()
        )),
    }
}

/// Whether an array of `shape` stored in Fortran order is C-contiguous as well, as numpy
/// sees it: no elements, or at most one dimension longer than 1.
fn is_c_contiguous_too(shape: &[usize]) -> bool {
    shape.contains(&0) || shape.iter().filter(|&&d| d != 1).count() <= 1
}

// ----- writing -----

/// A shape as the tuple of ints numpy writes.
struct Shape<'a>(&'a [usize]);

impl Reduce for Shape<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Tuple(self)))
    }
}

impl Sequence for Shape<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.0.get(index).map(|d| d as &dyn Reduce)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all(self.0.iter())
    }
}

/// numpy's `b'b'`, the third argument of `_reconstruct`.
static TYPECODE: Bytes<&[u8]> = Bytes(b"b");

impl Reduce for NdArray {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        if protocol >= 5 && self.dtype.exports_buffer() {
            let args = (ByteArray(self.data.as_slice()), &self.dtype, Shape(&self.shape), self.order());
            let (module, name) = self.names.frombuffer();
            return Ok(Call::new(GlobalName::new(module, name), args).into());
        }
        let ndarray = GlobalName::static_type("numpy", "ndarray");
        let args = (ndarray, (0i64,), &TYPECODE);
        let state = (1i64, Shape(&self.shape), &self.dtype, self.fortran, Bytes(self.data.as_slice()));
        let (module, name) = self.names.reconstruct();
        let call = Call::new(GlobalName::native(module, name), args);
        Ok(call.state(Arg::owned(state)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

// ----- loading -----

/// From what numpy 1.x and 2.x write for an array of a [`Dtype`] at every protocol.
impl Reconstruct for NdArray {
    fn reconstruct(node: Node<'_>) -> Result<NdArray> {
        let call = node.instance().ok_or_else(|| node.mismatch("a numpy array"))?;
        for names in [Names::Numpy2, Names::Numpy1] {
            let array = match (names.reconstruct(), names.frombuffer()) {
                ((module, name), _) if call.is(module, name) => from_reconstruct(&call)?,
                (_, (module, name)) if call.is(module, name) => from_frombuffer(&call)?,
                _ => continue,
            };
            return Ok(array.with_names(names));
        }
        Err(node.mismatch("a numpy array"))
    }
}

/// `_reconstruct(numpy.ndarray, (0,), b'b')` and the state `(1, shape, dtype, is_fortran,
/// data)`, or the older `(shape, dtype, is_fortran, data)`.
fn from_reconstruct(call: &Instance<'_>) -> Result<NdArray> {
    let node = call.node();
    let class = call.args().next().and_then(|c| c.global().cloned());
    if !class.is_some_and(|g| g.module == "numpy" && g.name == "ndarray") {
        return Err(node.error("`_reconstruct` of a class other than `numpy.ndarray`"));
    }
    let state = call.state().ok_or_else(|| node.error("a numpy array without its state"))?;
    let mut items = state.items().filter(|_| state.kind() == Kind::Tuple).ok_or_else(|| state.mismatch("tuple"))?;
    if items.len() == 5 {
        items.next();
    }
    let (Some(shape), Some(dtype), Some(fortran), Some(data), None) =
        (items.next(), items.next(), items.next(), items.next(), items.next())
    else {
        return Err(state.error("a numpy array state of the wrong length"));
    };
    build(&node, shape, dtype, fortran.get()?, &packed_bytes(&data)?)
}

/// `_frombuffer(buffer, dtype, shape, order)`, the buffer a `bytearray` or `bytes`.
fn from_frombuffer(call: &Instance<'_>) -> Result<NdArray> {
    let node = call.node();
    let mut args = call.args();
    let (Some(buffer), Some(dtype), Some(shape), Some(order), None) =
        (args.next(), args.next(), args.next(), args.next(), args.next())
    else {
        return Err(node.error("`_frombuffer` takes 4 arguments"));
    };
    let data = buffer.as_bytearray().or_else(|| buffer.as_bytes()).ok_or_else(|| buffer.mismatch("a buffer"))?;
    let fortran = match order.get::<String>()?.as_str() {
        "C" => false,
        "F" => true,
        other => return Err(order.error(format!("no array order {other:?}"))),
    };
    build(&node, shape, dtype, fortran, data)
}

/// The array of a shape node, a dtype node, the order and the data, checked by
/// [`NdArray::new`].
fn build(node: &Node<'_>, shape: Node<'_>, dtype: Node<'_>, fortran: bool, data: &[u8]) -> Result<NdArray> {
    let dims = shape.items().filter(|_| shape.kind() == Kind::Tuple).ok_or_else(|| shape.mismatch("tuple"))?;
    let shape = dims.map(|d| d.get::<usize>()).collect::<Result<Vec<usize>>>()?;
    NdArray::new(dtype.get()?, shape, fortran, data.to_vec()).map_err(|e| node.error(e))
}
