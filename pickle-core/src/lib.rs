//! Python's pickle protocol for Rust, done properly.
//!
//! - [`dumps`] writes what CPython's `pickle.dumps` writes, byte for byte, at protocols 0 to 5.
//! - [`loads`] reads anything CPython writes into a [`Value`] or straight into your types
//!   ([`Reconstruct`]), and survives anything an attacker writes: it executes nothing, a
//!   [`ClassPolicy`] decides which classes may appear at all, and bad input is a typed
//!   [`Error`] with its byte offset.
//! - [`Reduce`] is `__reduce_ex__`: Rust's builtin types pickle as Python's builtins, your
//!   types as Python class instances. `#[derive(Reduce, Reconstruct)]` writes both sides
//!   from one set of `#[pickle(...)]` attributes.
//! - [`Value`] holds any Python object graph as data, with shared references and cycles.
//! - [`Pickler`] and [`Unpickler`] have CPython's hooks: persistent ids, a dispatch table,
//!   extension codes, out-of-band buffers; [`deepcopy`] is `copy.deepcopy`.
//! - [`opcode`] is the one table of all 68 opcodes that the rest is built on.
//! - Optional features, one per crate whose types Python has (`chrono`, `uuid`,
//!   `rust_decimal`, `num-complex`, `indexmap`, `bytes`), pickle those types as CPython
//!   pickles `datetime`, `uuid.UUID`, `decimal.Decimal`, `complex`, `dict`/`set` and
//!   `bytes`, and load them from what CPython writes.
//! - Feature `serde`: [`serde`](mod@crate::serde) pickles any `Serialize` type as the
//!   equivalent Python object, byte for byte with CPython, and loads any `Deserialize`
//!   type, with serde-pickle's functions and options.
//! - Feature `numpy`: [`numpy::NdArray`], a numpy array as numpy pickles it, byte for byte.
//! - Feature `torch`: [`torch::Checkpoint`], PyTorch checkpoints read lazily under the policy
//!   of `torch.load(weights_only=True)`.
//! - [`scan`]: the general loader with a recorder, for scanners: every global a pickle would
//!   import and every call it would make, with byte offsets, however the names were built.
//!
//! ```
//! use pickle_core::{dumps, loads, Reconstruct, Reduce};
//!
//! #[derive(Reduce, Reconstruct, Debug, PartialEq)]
//! #[pickle(module = "shapes")]
//! struct Point {
//!     x: i64,
//!     y: i64,
//! }
//!
//! // What CPython writes for `pickle.dumps(shapes.Point(1, 2), 2)` of a plain class.
//! let bytes = dumps(&Point { x: 1, y: 2 }, 2)?;
//! assert_eq!(bytes, b"\x80\x02cshapes\nPoint\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04K\x02ub.");
//! assert_eq!(loads::<Point>(&bytes)?, Point { x: 1, y: 2 });
//! # Ok::<(), pickle_core::Error>(())
//! ```

#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

mod compat;
pub mod de;
pub mod error;
mod foreign;
mod graph;
#[cfg(feature = "numpy")]
pub mod numpy;
pub mod opcode;
pub mod reconstruct;
pub mod reduce;
pub mod ser;
#[cfg(feature = "serde")]
pub mod serde;
mod stack;
#[cfg(feature = "torch")]
pub mod torch;
pub mod value;

pub use de::record as scan;
pub use de::{
    dis, dis_with, load, loads, loads_bytes, loads_bytes_with, loads_with, optimize, ClassPolicy, DisOptions, Encoding,
    PersistentLoad, StringErrors, Unpickler, UnpicklerOptions,
};
pub use error::{Error, ErrorKind, Result};
pub use reconstruct::{Instance, Items, Kind, Node, Pairs, Persistent, Reconstruct, Registry};
pub use reduce::{
    Arg, Attrs, Builtin, ByteArray, Bytes, Call, FrozenSet, GlobalName, Mapping, Name, Reduce, Reduction, Sequence,
};
pub use ser::{
    deepcopy, dump, dumps, dumps_with, PersistentId, Pickler, PicklerOptions, ReducerOverride, Registered,
    DEFAULT_PROTOCOL, HIGHEST_PROTOCOL,
};
pub use value::{Cycle, Global, Object, PyString, Shared, Value};

/// Python's arbitrary-precision `int`, as fields and `Value`s hold it: `num_bigint::BigInt`,
/// re-exported so that a derived type's field needs no dependency of its own.
pub use num_bigint::BigInt;

/// `#[derive(Reduce)]`: pickle a type as the Python class it mirrors.
///
/// The container attributes name the class and choose its shape; each field gets a role
/// (its default is an entry of the instance's `__dict__`). Roles take protocol ranges, and
/// the derive checks at compile time that every field has exactly one role at every
/// protocol. See the attribute reference in the crate's README.
///
/// ```
/// use pickle_core::{dumps, Reduce};
///
/// /// Python: `def __reduce_ex__(self, p): return (Job, (self.name,)) if p < 2 else (Job, (self.name,), {'steps': self.steps})`
/// #[derive(Reduce)]
/// #[pickle(module = "jobs")]
/// struct Job {
///     #[pickle(arg)]
///     name: String,
///     #[pickle(arg(until = 1), state(since = 2))]
///     steps: Vec<String>,
/// }
///
/// let job = Job { name: "build".into(), steps: vec!["fetch".into()] };
/// assert_eq!(&dumps(&job, 0)?[..14], b"cjobs\nJob\np0\n(");
/// # Ok::<(), pickle_core::Error>(())
/// ```
#[cfg(feature = "derive")]
pub use pickle_derive::Reduce;

/// `#[derive(Reconstruct)]`: load a type from what CPython writes for the class it mirrors.
///
/// Reads the same `#[pickle(...)]` attributes as `#[derive(Reduce)]`, and accepts every
/// shape CPython writes for an instance (`copyreg._reconstructor` below protocol 2,
/// `copyreg.__newobj__` and NEWOBJ from 2, NEWOBJ_EX, a custom `__reduce__`). Load-only
/// attributes: `constructor = path` (a Rust function that plays the callable), `default`
/// and `default = path` on fields (for missing attributes), `ignore_unknown` on the type.
///
/// ```
/// use pickle_core::{loads, Reconstruct};
///
/// #[derive(Reconstruct, Debug, PartialEq)]
/// #[pickle(module = "shapes", ignore_unknown)]
/// struct Point {
///     x: i64,
///     #[pickle(default)]
///     y: i64,
/// }
///
/// // CPython: `pickle.dumps(shapes.Point(1, 2), 2)` of a plain class with `x` and `y`.
/// let bytes = b"\x80\x02cshapes\nPoint\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04K\x02ub.";
/// assert_eq!(loads::<Point>(bytes)?, Point { x: 1, y: 2 });
/// # Ok::<(), pickle_core::Error>(())
/// ```
#[cfg(feature = "derive")]
pub use pickle_derive::Reconstruct;

/// The code in README.md compiles and runs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
