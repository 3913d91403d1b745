//! A serde bridge (feature `serde`): programs that already derive `Serialize` and
//! `Deserialize`, or that move from serde-pickle, get CPython's own bytes for the equivalent
//! Python object and typed loading with byte offsets in errors, through pickle-core's one
//! pickler and one unpickler: nothing here encodes or decodes an opcode of its own.
//!
//! The functions and options are serde-pickle's, so that moving is a change of path:
//! `serde_pickle::to_vec(&v, SerOptions::new())` becomes
//! `pickle_core::serde::to_vec(&v, SerOptions::new())`. Where the two differ (the default
//! protocol is 4, not 3; the bytes are CPython's, memo and framing included), the crate's
//! README lists it.
//!
//! ```
//! use pickle_core::serde::{from_slice, to_vec, DeOptions, SerOptions};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Point { x: i64, y: i64 }
//!
//! let bytes = to_vec(&Point { x: 1, y: 2 }, SerOptions::new().protocol(2))?;
//! // What CPython 3.11 writes for `pickle.dumps({'x': 1, 'y': 2}, 2)`:
//! assert_eq!(bytes, b"\x80\x02}q\x00(X\x01\x00\x00\x00xq\x01K\x01X\x01\x00\x00\x00yq\x02K\x02u.");
//! assert_eq!(from_slice::<Point>(&bytes, DeOptions::new())?, Point { x: 1, y: 2 });
//! # Ok::<(), pickle_core::Error>(())
//! ```

mod de;
mod options;
mod ser;

use std::io::{Read, Write};

use ::serde::de::DeserializeOwned;
use ::serde::Serialize;

pub use options::{DeOptions, SerOptions};

use crate::de::{Encoding, Unpickler, UnpicklerOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::reconstruct::Tree;
use crate::ser::{dump_by, PicklerOptions};
use crate::value::Value;

/// The pickle of `value`: what CPython's `pickle.dumps` writes for the equivalent Python
/// object at the options' protocol.
pub fn to_vec<T: Serialize + ?Sized>(value: &T, options: SerOptions) -> Result<Vec<u8>> {
    dump_by(None::<&mut Vec<u8>>, &pickler_options(&options), |saver| ser::State::new(saver, &options).save(value))
}

/// [`to_vec`] into a writer, each frame handed over as it is complete.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(writer: &mut W, value: &T, options: SerOptions) -> Result<()> {
    let rest = dump_by(Some(writer), &pickler_options(&options), |saver| ser::State::new(saver, &options).save(value))?;
    debug_assert!(rest.is_empty());
    Ok(())
}

/// A `T` from one pickle in memory, which must be all of `bytes`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8], options: DeOptions) -> Result<T> {
    let mut unpickler = Unpickler::from_slice(bytes).with_options(unpickler_options(&options));
    let tree = unpickler.load_tree()?;
    let rest = unpickler.remaining().len();
    if rest > 0 {
        return Err(Error::new(ErrorKind::TrailingData(rest as u64)).at_offset(unpickler.position()));
    }
    from_tree(&tree, unpickler.position(), &options)
}

/// A `T` from the one pickle `reader` holds: after its STOP, the reader must be at its end
/// (as serde-pickle checks), or the error is [`ErrorKind::TrailingData`] with the number of
/// bytes already read past the STOP (at least 1).
pub fn from_reader<R: Read, T: DeserializeOwned>(reader: R, options: DeOptions) -> Result<T> {
    let mut unpickler = Unpickler::new(reader).with_options(unpickler_options(&options));
    let tree = unpickler.load_tree()?;
    let position = unpickler.position();
    let (mut reader, buffered) = unpickler.into_inner();
    let past = match buffered.len() {
        0 => reader.read(&mut [0])?,
        n => n,
    };
    if past > 0 {
        return Err(Error::new(ErrorKind::TrailingData(past as u64)).at_offset(position));
    }
    from_tree(&tree, position, &options)
}

/// `value` as a [`Value`]: what loading its pickle gives (the same identities and all).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    crate::loads(&to_vec(value, SerOptions::new().protocol(crate::HIGHEST_PROTOCOL))?)
}

/// A `T` from a [`Value`], read as [`from_slice`] reads its pickle.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    from_slice(&crate::dumps(&value, crate::HIGHEST_PROTOCOL)?, DeOptions::new())
}

/// A `T` from the graph of a pickle of `length` bytes.
fn from_tree<T: DeserializeOwned>(tree: &Tree, length: u64, options: &DeOptions) -> Result<T> {
    let mut context = de::Context::new(options, length);
    T::deserialize(de::NodeDeserializer { node: tree.root(), context: &mut context })
}

fn pickler_options(options: &SerOptions) -> PicklerOptions {
    PicklerOptions { protocol: options.protocol, ..PicklerOptions::default() }
}

/// Python 2 strs stay bytes unless `decode_strings` asks for UTF-8, as in serde-pickle.
fn unpickler_options(options: &DeOptions) -> UnpicklerOptions {
    let encoding = if options.decode_strings { Encoding::Utf8 } else { Encoding::Bytes };
    UnpicklerOptions { encoding, ..UnpicklerOptions::default() }
}
