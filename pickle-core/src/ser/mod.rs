//! Pickling: [`Pickler`], [`dumps`] and [`dump`].

mod deepcopy;
mod hooks;
mod memo;
mod output;
mod saver;

use std::any::Any;
use std::io::Write;

pub use deepcopy::deepcopy;
pub(crate) use deepcopy::Copier;
pub use hooks::{PersistentId, ReducerOverride, Registered};
pub(crate) use output::{Output, FRAME_SIZE_TARGET};
pub use saver::{ItemSink, PairSink};
#[cfg(feature = "serde")]
pub(crate) use saver::{Pushed, Saver, Shape};

use crate::error::{Error, Result};
use crate::reduce::{Reduce, Reduction};
use crate::value::Value;
use hooks::Hooks;
#[cfg(not(feature = "serde"))]
use saver::Saver;

/// The protocol [`Pickler::new`] uses, as CPython 3.8+'s `pickle.DEFAULT_PROTOCOL`.
pub const DEFAULT_PROTOCOL: u8 = pickle_protocol::DEFAULT_PROTOCOL;
/// The highest protocol there is, as CPython 3.8+'s `pickle.HIGHEST_PROTOCOL` (the number
/// `pickle-derive` checks protocol ranges against: both read it from `pickle-protocol`).
pub const HIGHEST_PROTOCOL: u8 = pickle_protocol::HIGHEST_PROTOCOL;

/// The options of a [`Pickler`], as CPython's `Pickler` takes them.
#[derive(Clone, Debug)]
pub struct PicklerOptions {
    /// The protocol, `0..=5`.
    pub protocol: u8,
    /// Below protocol 3, write Python 3 names as Python 2 knows them (`copy_reg`,
    /// `__builtin__`), as CPython does by default.
    pub fix_imports: bool,
    /// How deeply objects may nest before pickling fails, as CPython's recursion limit
    /// makes it fail. Deep values never overflow the native stack: the pickler grows its
    /// stack on the heap as it needs, so the limit only bounds the work.
    pub max_depth: usize,
}

impl Default for PicklerOptions {
    fn default() -> PicklerOptions {
        PicklerOptions { protocol: DEFAULT_PROTOCOL, fix_imports: true, max_depth: 1000 }
    }
}

/// Writes pickles to an [`io::Write`](std::io::Write), as CPython's `pickle.Pickler`.
///
/// ```
/// use pickle_core::Pickler;
///
/// let mut out = Vec::new();
/// Pickler::new(&mut out).protocol(2).dump(&vec![1, 2, 3])?;
/// assert_eq!(out, pickle_core::dumps(&vec![1, 2, 3], 2)?);
/// # Ok::<(), pickle_core::Error>(())
/// ```
///
/// Unlike CPython's, the memo does not carry over from one [`dump`](Pickler::dump) to the
/// next: each pickle stands alone, as with [`dumps`].
pub struct Pickler<W> {
    writer: W,
    options: PicklerOptions,
    hooks: Hooks,
}

impl<W: Write> Pickler<W> {
    /// A pickler writing protocol [`DEFAULT_PROTOCOL`] to `writer`.
    pub fn new(writer: W) -> Pickler<W> {
        Pickler::with_options(writer, PicklerOptions::default())
    }

    /// A pickler with these options.
    pub fn with_options(writer: W, options: PicklerOptions) -> Pickler<W> {
        Pickler { writer, options, hooks: Hooks::default() }
    }

    /// Sets `persistent_id`: asked about every object before it is saved; an id it returns
    /// is written (BINPERSID, or PERSID with the id's `str` at protocol 0) in place of the
    /// object. See [`PersistentId`]. Only values whose [`Reduce::as_any`] returns them can be
    /// recognized by type: derived types, `String`, the numbers and [`Value`] do.
    ///
    /// A closure stored in a variable before it is passed here needs its argument types
    /// written out (`|obj: Option<&dyn Any>, _: &Reduction<'_>|`): Rust infers a hook's
    /// lifetimes only where it is passed directly.
    ///
    /// ```
    /// use pickle_core::{Pickler, Reduction, Value};
    ///
    /// let mut out = Vec::new();
    /// let mut pickler = Pickler::new(&mut out).protocol(2).persistent_id(|obj, _reduction| {
    ///     // Strings that look like URLs stay outside the pickle.
    ///     let url = obj.and_then(|o| o.downcast_ref::<String>()).filter(|s| s.starts_with("db://"));
    ///     Ok(url.map(|u| Value::from(u.as_str())))
    /// });
    /// # let _ = &mut pickler;
    /// ```
    pub fn persistent_id(
        mut self,
        hook: impl FnMut(Option<&dyn Any>, &Reduction<'_>) -> Result<Option<Value>> + 'static,
    ) -> Pickler<W> {
        self.hooks.persistent_id = Some(Box::new(hook));
        self
    }

    /// Registers a reducer for type `T` in the pickler's dispatch table (`copyreg.pickle`):
    /// it is used before the type's own [`Reduce`], for values whose type provides
    /// [`Reduce::as_any`], and for values wrapped in [`Registered`] (types that do not
    /// implement `Reduce` at all). As in CPython, where the pickler writes an exact `int` or
    /// `str` without looking at its dispatch table, a reducer for a type that pickles as a
    /// builtin (`String`, `PyString`, `char`, the numbers, [`Value`]) is never used.
    pub fn dispatch<T: 'static>(mut self, reducer: for<'a> fn(&'a T, u8) -> Result<Reduction<'a>>) -> Pickler<W> {
        self.hooks.register(reducer);
        self
    }

    /// Sets `reducer_override`: asked about every object that is not a builtin.
    pub fn reducer_override(mut self, hook: impl ReducerOverride + 'static) -> Pickler<W> {
        self.hooks.reducer_override = Some(Box::new(hook));
        self
    }

    /// Registers an extension code (`copyreg.add_extension`): from protocol 2 the global
    /// `module.name` is written as EXT1, EXT2 or EXT4 with this code. Codes are 1 to
    /// 0x7fffffff.
    pub fn extension(mut self, module: impl Into<String>, name: impl Into<String>, code: i32) -> Result<Pickler<W>> {
        if code <= 0 {
            return Err(Error::pickling(format!("code out of range: {code}")));
        }
        self.hooks.extensions.insert((module.into(), name.into()), code);
        Ok(self)
    }

    /// Sets the protocol (`0..=5`; a higher one fails when pickling).
    pub fn protocol(mut self, protocol: u8) -> Pickler<W> {
        self.options.protocol = protocol;
        self
    }

    /// Sets `fix_imports` (on by default).
    pub fn fix_imports(mut self, fix_imports: bool) -> Pickler<W> {
        self.options.fix_imports = fix_imports;
        self
    }

    /// Sets the nesting limit (1000 by default).
    pub fn max_depth(mut self, max_depth: usize) -> Pickler<W> {
        self.options.max_depth = max_depth;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &PicklerOptions {
        &self.options
    }

    /// Writes one pickle of `obj`. Frames are handed to the writer as they are completed,
    /// and large str and bytes payloads are written straight from `obj`, uncopied.
    pub fn dump<T: Reduce + ?Sized>(&mut self, obj: &T) -> Result<()> {
        let saver = Saver::new(Output::new(Some(&mut self.writer)), &mut self.hooks, &self.options)?;
        let rest = saver.dump(obj)?;
        debug_assert!(rest.is_empty());
        Ok(())
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.writer
    }

    /// The writer, mutably.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Gives the writer back.
    pub fn into_inner(self) -> W {
        self.writer
    }
}

/// `pickle.dumps(obj, protocol)`: the pickle of `obj`, byte for byte what CPython writes for
/// the same Python object.
///
/// ```
/// let bytes = pickle_core::dumps(&(1, "two", 3.0), 4)?;
/// // What CPython 3.11's `pickle.dumps((1, 'two', 3.0), 4)` returns:
/// assert_eq!(bytes, b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00K\x01\x8c\x03two\x94G@\x08\x00\x00\x00\x00\x00\x00\x87\x94.");
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn dumps<T: Reduce + ?Sized>(obj: &T, protocol: u8) -> Result<Vec<u8>> {
    dumps_with(obj, &PicklerOptions { protocol, ..PicklerOptions::default() })
}

/// [`dumps`] with all the options.
pub fn dumps_with<T: Reduce + ?Sized>(obj: &T, options: &PicklerOptions) -> Result<Vec<u8>> {
    Saver::new(Output::new(None), &mut Hooks::default(), options)?.dump(obj)
}

/// `pickle.dump(obj, file, protocol)`.
pub fn dump<T: Reduce + ?Sized, W: Write>(obj: &T, writer: W, protocol: u8) -> Result<()> {
    Pickler::new(writer).protocol(protocol).dump(obj)
}

/// One pickle of what `save` writes with the pickler, into `writer` or (with `None`) the
/// returned bytes: the serde bridge's way in.
#[cfg(feature = "serde")]
pub(crate) fn dump_by<W: Write>(
    writer: Option<&mut W>,
    options: &PicklerOptions,
    save: impl FnOnce(&mut Saver<'_>) -> Result<()>,
) -> Result<Vec<u8>> {
    let mut hooks = Hooks::default();
    let writer = writer.map(|w| w as &mut dyn Write);
    Saver::new(Output::new(writer), &mut hooks, options)?.dump_by(save)
}
