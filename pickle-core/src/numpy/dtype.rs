//! [`Dtype`]: the element type of an array, and `numpy.dtype`'s own reduction.
//!
//! numpy reduces a dtype (`arraydescr_reduce` in `descriptor.c`) to
//! `numpy.dtype(obj, False, True)` where `obj` is kind and size (`'f8'`), then BUILD with
//! the state `(3, byteorder, subarray, names, fields, elsize, alignment, flags)`; the
//! numeric kinds have no subarray, names or fields, `-1` for elsize and alignment and no
//! flags. The one spelling of a dtype here is numpy's `dtype.str` (`'<f8'`, `'|b1'`).

use crate::{Arg, Call, Error, GlobalName, Kind, Node, Reconstruct, Reduce, Reduction, Result};

/// What kind of number an element is: the letter of numpy's `dtype.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DtypeKind {
    /// `b`: `bool`, one byte.
    Bool,
    /// `i`: a signed integer of 1, 2, 4 or 8 bytes.
    Int,
    /// `u`: an unsigned integer of 1, 2, 4 or 8 bytes.
    UInt,
    /// `f`: an IEEE float of 2, 4 or 8 bytes.
    Float,
    /// `c`: a complex of two floats, 8 or 16 bytes.
    Complex,
}

/// The byte order of the elements: numpy's `dtype.byteorder` as `dtype.str` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`.
    Little,
    /// `>`.
    Big,
    /// `|`: elements of one byte.
    NotApplicable,
}

impl ByteOrder {
    /// The order of the machine: what numpy's `=` means.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") { ByteOrder::Big } else { ByteOrder::Little };

    fn from_char(c: char) -> Option<ByteOrder> {
        match c {
            '<' => Some(ByteOrder::Little),
            '>' => Some(ByteOrder::Big),
            '|' => Some(ByteOrder::NotApplicable),
            '=' => Some(ByteOrder::NATIVE),
            _ => None,
        }
    }

    /// The other order; `|` stays.
    fn swapped(self) -> ByteOrder {
        match self {
            ByteOrder::Little => ByteOrder::Big,
            ByteOrder::Big => ByteOrder::Little,
            ByteOrder::NotApplicable => ByteOrder::NotApplicable,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ByteOrder::Little => "<",
            ByteOrder::Big => ">",
            ByteOrder::NotApplicable => "|",
        }
    }
}

/// The element type of an [`NdArray`](super::NdArray): a numeric kind, its size in bytes and
/// its byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dtype {
    kind: DtypeKind,
    itemsize: u8,
    byteorder: ByteOrder,
}

impl DtypeKind {
    fn letter(self) -> char {
        match self {
            DtypeKind::Bool => 'b',
            DtypeKind::Int => 'i',
            DtypeKind::UInt => 'u',
            DtypeKind::Float => 'f',
            DtypeKind::Complex => 'c',
        }
    }

    fn from_letter(c: char) -> Option<DtypeKind> {
        [DtypeKind::Bool, DtypeKind::Int, DtypeKind::UInt, DtypeKind::Float, DtypeKind::Complex]
            .into_iter()
            .find(|k| k.letter() == c)
    }

    /// The sizes numpy has for the kind (without the platform's `long double`).
    fn sizes(self) -> &'static [u8] {
        match self {
            DtypeKind::Bool => &[1],
            DtypeKind::Int | DtypeKind::UInt => &[1, 2, 4, 8],
            DtypeKind::Float => &[2, 4, 8],
            DtypeKind::Complex => &[8, 16],
        }
    }
}

impl Dtype {
    /// The dtype of `kind` in `itemsize` bytes, stored in `byteorder`. As in numpy, one-byte
    /// elements have no byte order (`|`), and `|` for wider ones means the machine's order.
    pub fn new(kind: DtypeKind, itemsize: u8, byteorder: ByteOrder) -> Result<Dtype> {
        if !kind.sizes().contains(&itemsize) {
            return Err(Error::custom(format_args!("numpy has no dtype `{}{itemsize}`", kind.letter())));
        }
        let byteorder = match (itemsize, byteorder) {
            (1, _) => ByteOrder::NotApplicable,
            (_, ByteOrder::NotApplicable) => ByteOrder::NATIVE,
            (_, order) => order,
        };
        Ok(Dtype { kind, itemsize, byteorder })
    }

    /// The dtype numpy spells `descr` in `dtype.str`: `'<f8'`, `'>i2'`, `'|b1'` (`=` is
    /// the machine's order).
    pub fn from_descr(descr: &str) -> Result<Dtype> {
        let unknown = || Error::custom(format_args!("not a numeric numpy dtype: {descr:?}"));
        let mut chars = descr.chars();
        let order = chars.next().and_then(ByteOrder::from_char).ok_or_else(unknown)?;
        let kind = chars.next().and_then(DtypeKind::from_letter).ok_or_else(unknown)?;
        let size = chars.as_str();
        let size = size.parse::<u8>().ok().filter(|_| size.bytes().all(|b| b.is_ascii_digit())).ok_or_else(unknown)?;
        Dtype::new(kind, size, order)
    }

    /// numpy's `dtype.str`: byte order, kind letter, size (`'<f8'`).
    pub fn descr(&self) -> String {
        format!("{}{}", self.byteorder.as_str(), self.kind_and_size())
    }

    /// The kind.
    pub fn kind(&self) -> DtypeKind {
        self.kind
    }

    /// The size of one element in bytes.
    pub fn itemsize(&self) -> usize {
        usize::from(self.itemsize)
    }

    /// The byte order.
    pub fn byteorder(&self) -> ByteOrder {
        self.byteorder
    }

    /// What numpy's reduction passes to `numpy.dtype`: `'f8'`.
    fn kind_and_size(&self) -> String {
        format!("{}{}", self.kind.letter(), self.itemsize)
    }
}

/// The state numpy gives a numeric dtype's BUILD.
type DtypeState = (i64, &'static str, Option<i64>, Option<i64>, Option<i64>, i64, i64, i64);

impl Reduce for Dtype {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let state: DtypeState = (3, self.byteorder.as_str(), None, None, None, -1, -1, 0);
        let call = Call::new(GlobalName::static_type("numpy", "dtype"), (self.kind_and_size(), false, true));
        Ok(call.state(Arg::owned(state)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// numpy's dtypes of a numeric kind in the machine's byte order are one object each
    /// (`np.zeros(1).dtype is np.dtype('f8')`), so arrays of one such dtype share it: a memo
    /// GET after the first. Other byte orders make a new dtype object every time.
    fn identity(&self) -> Option<usize> {
        let index = self.kind as usize * 17 + self.itemsize();
        (self.byteorder != ByteOrder::NATIVE.swapped()).then(|| &CANONICAL[index] as *const u8 as usize)
    }
}

/// One address for each dtype numpy keeps as a single object, by kind and size.
static CANONICAL: [u8; 5 * 17] = [0; 5 * 17];

/// From `numpy.dtype(obj, align, copy)` and its BUILD state, as numpy 1.x and 2.x write it.
/// Structured dtypes, subarrays and every kind but the numeric ones are errors.
impl Reconstruct for Dtype {
    fn reconstruct(node: Node<'_>) -> Result<Dtype> {
        let call = node.instance().filter(|i| i.is("numpy", "dtype")).ok_or_else(|| node.mismatch("`numpy.dtype`"))?;
        let obj = call.args().next().ok_or_else(|| node.error("`numpy.dtype` of no arguments"))?;
        let obj = obj.get::<String>()?;
        let order = match call.state() {
            Some(state) => state_byteorder(&state)?,
            None => "=".to_owned(),
        };
        Dtype::from_descr(&format!("{order}{obj}")).map_err(|e| node.error(e))
    }
}

/// The byte order of a dtype's BUILD state `(version, byteorder, subarray, names, fields,
/// ...)`, for a dtype that has no subarray and no fields.
fn state_byteorder(state: &Node<'_>) -> Result<String> {
    let mut items = state.items().filter(|_| state.kind() == Kind::Tuple).ok_or_else(|| state.mismatch("tuple"))?;
    let (_version, order) = (items.next(), items.next().ok_or_else(|| state.error("a dtype state of one item"))?);
    if items.take(3).any(|n| !n.is_none()) {
        return Err(state.error("structured numpy dtypes and subarrays are not supported"));
    }
    order.get::<String>()
}
