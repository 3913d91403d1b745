//! `Reduce` and `Reconstruct` for types of other crates that Python has a type for, each
//! behind the cargo feature named after its crate: they pickle as CPython pickles the Python
//! type, byte for byte, and load from what CPython writes for it at every protocol.
//!
//! | feature | Rust | Python |
//! |---|---|---|
//! | `chrono` | `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>`, `DateTime<FixedOffset>`, `TimeDelta` | `datetime.date`, `time`, `datetime`, `timezone`, `timedelta` |
//! | `uuid` | `Uuid` | `uuid.UUID` |
//! | `rust_decimal` | `Decimal` | `decimal.Decimal` |
//! | `num-complex` | `Complex<f64>` | `complex` |
//! | `indexmap` | `IndexMap`, `IndexSet` | `dict`, `set`, in insertion order |
//! | `bytes` | `bytes::Bytes` | `bytes` |
//!
//! A value the Rust type cannot hold (a `Decimal('NaN')`, a tz-aware datetime loaded into a
//! naive type) is a typed [`Error`](crate::Error), never a panic or a silent rounding.

#[cfg(feature = "bytes")]
mod bytes;
#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "num-complex")]
mod complex;
#[cfg(feature = "rust_decimal")]
mod decimal;
#[cfg(feature = "indexmap")]
mod indexmap;
#[cfg(feature = "uuid")]
mod uuid;

/// The arguments of a call of the class `module.name` (REDUCE or NEWOBJ), or a mismatch
/// that names the class.
#[cfg(any(feature = "chrono", feature = "rust_decimal", feature = "num-complex"))]
fn class_args<'a>(node: &crate::Node<'a>, module: &str, name: &str) -> crate::Result<crate::Items<'a>> {
    node.instance()
        .filter(|i| i.is(module, name))
        .map(|i| i.args())
        .ok_or_else(|| node.mismatch(format_args!("`{module}.{name}`")))
}

/// Packed binary data as Python wrote it: `bytes`, or a str of Latin-1 code points, each a
/// byte: a Python 2 str (decoded as Latin-1), or what protocols 0-2 give
/// `_codecs.encode(s, 'latin1')` when the unpickler leaves that call as an object
/// (`builtin_reductions` off). The one reader of `datetime` states and numpy's array data.
#[cfg(any(feature = "chrono", feature = "numpy"))]
pub(crate) fn packed_bytes<'a>(state: &crate::Node<'a>) -> crate::Result<std::borrow::Cow<'a, [u8]>> {
    if let Some(bytes) = state.as_bytes() {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let text = match state.instance().filter(|call| call.is("_codecs", "encode")) {
        Some(call) => latin1_encoded(call.args()),
        None => Some(*state),
    };
    let latin1 = text.and_then(|text| text.as_str()?.to_latin1());
    latin1.map(std::borrow::Cow::Owned).ok_or_else(|| state.mismatch("bytes"))
}

/// The str of the arguments `(s, 'latin1')` of `_codecs.encode`.
#[cfg(any(feature = "chrono", feature = "numpy"))]
fn latin1_encoded<'a>(mut args: crate::Items<'a>) -> Option<crate::Node<'a>> {
    let (text, encoding) = (args.next()?, args.next()?);
    crate::value::is_latin1_codec(encoding.as_str()?.as_str()?).then_some(text)
}
