//! [`Stream`]: what a typed value is read from on the fast path, as an abstraction.
//!
//! [`Reconstruct::stream`] reads a Rust value straight from a pickle, without a graph. It
//! asks for the shapes the value expects (a scalar, a list, a tuple, a dict, an instance)
//! and the source answers each, or declines. The source is this trait, not a decoder type:
//! `Reconstruct`, which users implement, depends on it, and the decoder (`de::stream`)
//! implements it from above, so the traits sit below the engine that drives them.

use super::Reconstruct;

/// A pickle read as a typed value asks for it; `None` from any method leaves the pickle to
/// the general loader, which decides every case. Not a public API: implemented by the
/// decoder, called by [`Reconstruct::stream`] and the code `#[derive(Reconstruct)]`
/// generates.
#[doc(hidden)]
pub trait Stream: Sized {
    /// A number, bool, `None` or str, as `T` takes it through
    /// [`Reconstruct::from_atom`] and [`Reconstruct::from_text`].
    fn scalar<T: Reconstruct>(&mut self) -> Option<T>;

    /// A list, each item a `T`.
    fn list<T: Reconstruct>(&mut self) -> Option<Vec<T>>;

    /// A tuple of `len` (1 or more) items, read in order by `items`.
    fn tuple<T>(&mut self, len: usize, items: impl FnOnce(&mut Self) -> Option<T>) -> Option<T>;

    /// A dict, each key a `K` and each value a `V`, given to `insert`, which says whether
    /// the key is new (a repeated key declines).
    fn pairs<K: Reconstruct, V: Reconstruct>(&mut self, insert: impl FnMut(K, V) -> bool) -> Option<()>;

    /// A set or frozenset, each item a `T` given to `insert`.
    fn set<T: Reconstruct>(&mut self, insert: impl FnMut(T)) -> Option<()>;

    /// A dict whose keys are strs among `names`, each key's value read by `fill` with the
    /// key's index: a derived `#[pickle(dict)]` struct.
    fn dict(&mut self, names: &'static [&'static str], fill: impl FnMut(&mut Self, usize) -> Option<()>) -> Option<()>;

    /// An instance of the class `module.name` as `object.__reduce_ex__` writes it, whose
    /// state is a dict with str keys among `names`, read as [`Stream::dict`] reads them.
    fn instance(
        &mut self,
        class: (&str, &str),
        names: &'static [&'static str],
        fill: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()>;

    /// A call `module.name(*args)` as `__reduce__` returning `(callable, args)` writes it:
    /// the callable, one of `callables` (by GLOBAL, STACK_GLOBAL or a GET of it), the
    /// argument tuple read by `args` (given the callable's index among `callables`, and
    /// reading the tuple with [`Stream::tuple`]), then REDUCE.
    fn call<T>(&mut self, callables: &[(&str, &str)], args: impl FnOnce(&mut Self, usize) -> Option<T>) -> Option<T>;

    /// A `bytes` (written as it is), given to `read`.
    fn bytes_with<T>(&mut self, read: impl FnOnce(&[u8]) -> Option<T>) -> Option<T>;

    /// A `str` that is valid UTF-8 (or a GET of one), given to `read`.
    fn text_with<T>(&mut self, read: impl FnOnce(&str) -> Option<T>) -> Option<T>;

    /// `None`, or a `T`.
    fn option<T: Reconstruct>(&mut self) -> Option<Option<T>>;

    /// A pointer `P` (an `Rc` or `Arc`) to what `build` reads: built once per memoized
    /// object and cloned when the pickle fetches it again.
    fn shared<P: Clone + 'static>(&mut self, build: impl FnOnce(&mut Self) -> Option<P>) -> Option<P>;

    /// One field of a dict struct into its `slot`: a field met before (a repeated key)
    /// declines.
    #[inline]
    fn field<T: Reconstruct>(&mut self, slot: &mut Option<T>) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(T::stream(self)?);
        Some(())
    }
}
