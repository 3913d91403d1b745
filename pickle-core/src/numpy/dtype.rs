//! [`Dtype`]: the element type of an array, and `numpy.dtype`'s own reduction.
//!
//! numpy reduces a dtype (`arraydescr_reduce` in `descriptor.c`) to
//! `numpy.dtype(obj, False, True)` where `obj` is kind and size (`'f8'`), then BUILD with
//! the state `(3, byteorder, subarray, names, fields, elsize, alignment, flags)`; the
//! numeric kinds have no subarray, names or fields, `-1` for elsize and alignment and no
//! flags; `datetime64` and `timedelta64` have version 4 and their unit as a 9th item
//! (see [`datetime`](super::datetime)). The one spelling of a dtype here is numpy's
//! `dtype.str` (`'<f8'`, `'|b1'`, `'>M8[ns]'`).

use super::datetime::{read_unit_state, unit_state, Unit};
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
    /// `M`: `datetime64`, 8 bytes, with a [`Unit`].
    Datetime,
    /// `m`: `timedelta64`, 8 bytes, with a [`Unit`].
    Timedelta,
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

/// The element type of an [`NdArray`](super::NdArray): a numeric kind, its size in bytes,
/// its byte order and, for `datetime64` and `timedelta64`, its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dtype {
    kind: DtypeKind,
    itemsize: u8,
    byteorder: ByteOrder,
    unit: Option<Unit>,
}

impl DtypeKind {
    fn letter(self) -> char {
        match self {
            DtypeKind::Bool => 'b',
            DtypeKind::Int => 'i',
            DtypeKind::UInt => 'u',
            DtypeKind::Float => 'f',
            DtypeKind::Complex => 'c',
            DtypeKind::Datetime => 'M',
            DtypeKind::Timedelta => 'm',
        }
    }

    fn from_letter(c: char) -> Option<DtypeKind> {
        use DtypeKind::*;
        [Bool, Int, UInt, Float, Complex, Datetime, Timedelta].into_iter().find(|k| k.letter() == c)
    }

    /// The sizes numpy has for the kind (without the platform's `long double`).
    fn sizes(self) -> &'static [u8] {
        match self {
            DtypeKind::Bool => &[1],
            DtypeKind::Int | DtypeKind::UInt => &[1, 2, 4, 8],
            DtypeKind::Float => &[2, 4, 8],
            DtypeKind::Complex => &[8, 16],
            DtypeKind::Datetime | DtypeKind::Timedelta => &[8],
        }
    }

    fn has_unit(self) -> bool {
        matches!(self, DtypeKind::Datetime | DtypeKind::Timedelta)
    }
}

impl Dtype {
    /// The dtype of `kind` in `itemsize` bytes, stored in `byteorder`. As in numpy, one-byte
    /// elements have no byte order (`|`), and `|` for wider ones means the machine's order.
    /// `datetime64` and `timedelta64` get the generic unit (see [`with_unit`](Dtype::with_unit)).
    pub fn new(kind: DtypeKind, itemsize: u8, byteorder: ByteOrder) -> Result<Dtype> {
        if !kind.sizes().contains(&itemsize) {
            return Err(Error::custom(format_args!("numpy has no dtype `{}{itemsize}`", kind.letter())));
        }
        let byteorder = match (itemsize, byteorder) {
            (1, _) => ByteOrder::NotApplicable,
            (_, ByteOrder::NotApplicable) => ByteOrder::NATIVE,
            (_, order) => order,
        };
        let unit = kind.has_unit().then(|| Unit::new(super::TimeUnit::Generic, 1).expect("the generic unit"));
        Ok(Dtype { kind, itemsize, byteorder, unit })
    }

    /// The same `datetime64` or `timedelta64` dtype in `unit`; an error for other kinds.
    pub fn with_unit(self, unit: Unit) -> Result<Dtype> {
        match self.kind.has_unit() {
            true => Ok(Dtype { unit: Some(unit), ..self }),
            false => Err(Error::custom(format_args!("a `{}` dtype has no unit", self.descr()))),
        }
    }

    /// The unit of a `datetime64` or `timedelta64` dtype.
    pub fn unit(&self) -> Option<Unit> {
        self.unit
    }

    /// The dtype numpy spells `descr` in `dtype.str`: `'<f8'`, `'>i2'`, `'|b1'`,
    /// `'<M8[ns]'` (`=` is the machine's order).
    pub fn from_descr(descr: &str) -> Result<Dtype> {
        let unknown = || Error::custom(format_args!("not a numeric numpy dtype: {descr:?}"));
        let mut chars = descr.chars();
        let order = chars.next().and_then(ByteOrder::from_char).ok_or_else(unknown)?;
        let kind = chars.next().and_then(DtypeKind::from_letter).ok_or_else(unknown)?;
        let rest = chars.as_str();
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let size = rest[..digits].parse::<u8>().map_err(|_| unknown())?;
        let dtype = Dtype::new(kind, size, order)?;
        match (kind.has_unit(), &rest[digits..]) {
            (false, "") => Ok(dtype),
            (true, unit) => dtype.with_unit(Unit::from_brackets(unit).ok_or_else(unknown)?),
            (false, _) => Err(unknown()),
        }
    }

    /// numpy's `dtype.str`: byte order, kind letter, size and unit (`'<f8'`, `'<M8[ns]'`).
    pub fn descr(&self) -> String {
        let unit = self.unit.map(|u| u.brackets()).unwrap_or_default();
        format!("{}{}{unit}", self.byteorder.as_str(), self.kind_and_size())
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

    /// Whether numpy exports arrays of this dtype through the buffer protocol, which its
    /// protocol 5 reduction needs: datetimes and timedeltas it does not.
    pub(super) fn exports_buffer(&self) -> bool {
        !self.kind.has_unit()
    }

    /// What numpy's reduction passes to `numpy.dtype`: `'f8'`.
    fn kind_and_size(&self) -> String {
        format!("{}{}", self.kind.letter(), self.itemsize)
    }
}

impl Reduce for Dtype {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let order = self.byteorder.as_str();
        let state = match self.unit {
            None => Arg::owned((3, order, None::<i64>, None::<i64>, None::<i64>, -1, -1, 0)),
            Some(unit) => Arg::owned((4, order, None::<i64>, None::<i64>, None::<i64>, -1, -1, 0, unit_state(unit))),
        };
        let call = Call::new(GlobalName::static_type("numpy", "dtype"), (self.kind_and_size(), false, true));
        Ok(call.state(state).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// numpy's dtypes of a numeric kind in the machine's byte order are one object each
    /// (`np.zeros(1).dtype is np.dtype('f8')`), so arrays of one such dtype share it: a memo
    /// GET after the first. Other byte orders make a new dtype object every time.
    fn identity(&self) -> Option<usize> {
        let index = self.kind as usize * 17 + self.itemsize();
        let canonical = self.unit.is_none() && self.byteorder != ByteOrder::NATIVE.swapped();
        canonical.then(|| &CANONICAL[index] as *const u8 as usize)
    }
}

/// One address for each dtype numpy keeps as a single object, by kind and size.
static CANONICAL: [u8; 7 * 17] = [0; 7 * 17];

/// From `numpy.dtype(obj, align, copy)` and its BUILD state, as numpy 1.x and 2.x write it.
/// Structured dtypes, subarrays and every kind that is not a [`DtypeKind`] (strings, Python
/// objects) are errors.
impl Reconstruct for Dtype {
    fn reconstruct(node: Node<'_>) -> Result<Dtype> {
        let call = node.instance().filter(|i| i.is("numpy", "dtype")).ok_or_else(|| node.mismatch("`numpy.dtype`"))?;
        let obj = call.args().next().ok_or_else(|| node.error("`numpy.dtype` of no arguments"))?;
        let obj = obj.get::<String>()?;
        let Some(state) = call.state() else {
            return Dtype::from_descr(&format!("={obj}")).map_err(|e| node.error(e));
        };
        let dtype = Dtype::from_descr(&format!("{}{obj}", state_byteorder(&state)?)).map_err(|e| node.error(e))?;
        match (dtype.kind.has_unit(), state.items().and_then(|mut items| items.nth(8))) {
            (true, Some(unit)) => dtype.with_unit(read_unit_state(&unit)?).map_err(|e| node.error(e)),
            _ => Ok(dtype),
        }
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
