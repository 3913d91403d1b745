//! Python's pickle protocol for Rust, done properly.
//!
//! - [`dumps`] writes what CPython's `pickle.dumps` writes, byte for byte, at protocols 0 to 5.
//! - [`loads`] reads anything CPython writes, and survives anything an attacker writes: it
//!   executes nothing, and bad input is a typed [`Error`] with its byte offset.
//! - [`Reduce`] is `__reduce_ex__`: Rust's builtin types pickle as Python's builtins, your
//!   types as Python class instances.
//! - [`Value`] holds any Python object graph as data, with shared references and cycles.
//! - [`opcode`] is the one table of all 68 opcodes that the rest is built on.
//!
//! ```
//! use pickle_core::{dumps, Value};
//!
//! let v = Value::dict([("name", Value::from("Ada")), ("langs", Value::list(["en", "fr"]))]);
//! let bytes = dumps(&v, pickle_core::DEFAULT_PROTOCOL)?;
//! assert_eq!(&bytes[..2], b"\x80\x04");
//! # Ok::<(), pickle_core::Error>(())
//! ```

#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

mod compat;
pub mod de;
pub mod error;
pub mod opcode;
pub mod reconstruct;
pub mod reduce;
pub mod ser;
pub mod value;

pub use de::{
    dis, load, loads, loads_with, ClassPolicy, Encoding, PersistentLoad, StringErrors, Unpickler, UnpicklerOptions,
};
pub use error::{Error, ErrorKind, Result};
pub use reconstruct::{deepcopy, Instance, Items, Kind, Node, Pairs, Persistent, Reconstruct, Registry};
pub use reduce::{Arg, Attrs, Builtin, ByteArray, Bytes, Call, GlobalName, Mapping, Name, Reduce, Reduction, Sequence};
pub use ser::{
    dump, dumps, dumps_with, PersistentId, Pickler, PicklerOptions, ReducerOverride, Registered, DEFAULT_PROTOCOL,
    HIGHEST_PROTOCOL,
};
pub use value::{Cycle, Global, Object, PyString, Shared, Value};

#[cfg(feature = "derive")]
pub use pickle_derive::{Reconstruct, Reduce};

/// The code in README.md compiles and runs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
