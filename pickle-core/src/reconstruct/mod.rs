//! The load side of Python's reduce protocol: [`Reconstruct`].
//!
//! Unpickling in CPython calls the callable a reduction names, then `__setstate__`,
//! `extend` and `__setitem__`. Here nothing is called: the unpickler keeps the object
//! graph as data, and a [`Reconstruct`] type reads the part of it that is its own from a
//! [`Node`] — checking the class, then taking arguments, state attributes and items into
//! its fields. `#[derive(Reconstruct)]` writes that from the same `#[pickle(...)]`
//! attributes `#[derive(Reduce)]` reads.

mod cyclic;
mod impls;
mod instance;
mod node;
mod registry;
mod stream;

pub use impls::Persistent;
pub(crate) use impls::{collect_items, collect_pairs};
pub use instance::Instance;
pub(crate) use node::Tree;
pub use node::{Items, Kind, Node, Pairs};
pub use registry::Registry;
#[doc(hidden)]
pub use stream::Stream;

use crate::error::Result;
use crate::value::{Atom, Value};

/// A Rust value that can be rebuilt from an unpickled object: the load side of
/// [`Reduce`](crate::Reduce).
///
/// Implemented here for Rust's builtin types (from the matching Python builtins), for
/// [`Value`] (anything, kept as data), and by `#[derive(Reconstruct)]` for
/// your own types. [`loads`](crate::loads) is its one-line form.
///
/// ```
/// use pickle_core::{loads, Node, Reconstruct, Result};
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i64, y: i64 }
///
/// impl Reconstruct for Point {
///     fn reconstruct(node: Node<'_>) -> Result<Point> {
///         // Python: `Point(x, y)`, from `def __reduce__(self): return (Point, (self.x, self.y))`.
///         let instance = node.instance().filter(|i| i.is("shapes", "Point"));
///         let instance = instance.ok_or_else(|| node.mismatch("`shapes.Point`"))?;
///         let mut args = instance.args();
///         let mut next = || args.next().ok_or_else(|| node.error("Point takes 2 arguments"));
///         Ok(Point { x: next()?.get()?, y: next()?.get()? })
///     }
/// }
///
/// // What CPython 3.11 writes for `pickle.dumps(Point(1, 2), 2)`:
/// let point: Point = loads(b"\x80\x02cshapes\nPoint\nq\x00K\x01K\x02\x86q\x01Rq\x02.")?;
/// assert_eq!(point, Point { x: 1, y: 2 });
/// # Ok::<(), pickle_core::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be loaded from a pickle: it does not implement `Reconstruct`",
    label = "this type has no `Reconstruct`",
    note = "derive it with `#[derive(Reconstruct)]`, implement it by hand, or load the field through a `with` module"
)]
pub trait Reconstruct: Sized {
    /// Rebuilds the value from `node`. Children are read with [`Node::get`], which keeps
    /// deep input off the native stack and records where an error happened.
    fn reconstruct(node: Node<'_>) -> Result<Self>;

    /// Rebuilds the value from an atom (None, bool, int, float) without a [`Node`], or `None`
    /// to go through [`reconstruct`](Reconstruct::reconstruct): the fast path of numbers in
    /// long lists. Implementations must agree with `reconstruct`.
    #[doc(hidden)]
    #[inline]
    fn from_atom(atom: Atom) -> Option<Result<Self>> {
        let _ = atom;
        None
    }

    /// Rebuilds the value from a `str` that is valid UTF-8 without a [`Node`], or `None` to
    /// go through [`reconstruct`](Reconstruct::reconstruct): the fast path of strs (see
    /// [`stream`](Reconstruct::stream)). Implementations must agree with `reconstruct`.
    #[doc(hidden)]
    #[inline]
    fn from_text(text: &str) -> Option<Result<Self>> {
        let _ = text;
        None
    }

    /// Rebuilds the value from a whole unpickled graph. [`Value`](crate::Value) overrides it
    /// to take the graph's objects instead of copying them.
    #[doc(hidden)]
    fn from_tree(tree: Tree) -> Result<Self> {
        tree.root().get()
    }

    /// Reads the value straight from a pickle in memory through a [`Stream`], or `None` to
    /// leave the pickle to the general loader, which decides every case this declines. The
    /// default takes a number or a str through [`from_atom`](Reconstruct::from_atom) and
    /// [`from_text`](Reconstruct::from_text); `Vec`, `Option`, `Rc`, `Arc`, tuples, maps and
    /// derived structs read their own shapes.
    #[doc(hidden)]
    #[inline(always)]
    fn stream<S: Stream>(stream: &mut S) -> Option<Self> {
        stream.scalar()
    }

    /// Whether `Self` is [`Value`]: the unpickler then reads the pickle by the one-pass path
    /// to a `Value` and gives it back through [`from_value`](Reconstruct::from_value),
    /// rather than through [`stream`](Reconstruct::stream).
    #[doc(hidden)]
    const IS_VALUE: bool = false;

    /// The value itself where `Self` is [`Value`] ([`IS_VALUE`](Reconstruct::IS_VALUE)),
    /// `None` for every other type.
    #[doc(hidden)]
    #[inline]
    fn from_value(value: Value) -> Option<Self> {
        let _ = value;
        None
    }
}
