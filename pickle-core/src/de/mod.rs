//! Unpickling: [`Unpickler`], [`loads`] and [`load()`].
//!
//! The unpickler executes nothing. Globals, calls and instances become inert [`Value`]
//! data that records what the pickle says (callable, args, state, items); re-pickling that
//! value gives back the bytes CPython wrote. The reductions CPython itself writes for
//! builtins at low protocols (`_codecs.encode` for bytes, `set(list)`, `bytearray(...)`)
//! come back as those builtins.

mod args;
pub(crate) mod direct;
mod dis;
mod extent;
mod globals;
pub(crate) mod handoff;
mod input;
mod keys;
mod load;
mod memo;
mod optimize;
mod policy;
mod prescan;
mod reader;
pub mod record;
pub(crate) mod stream;
mod text;

use std::collections::HashMap;
use std::io::Read;

pub use dis::{dis, dis_with, DisOptions};
pub use input::{ReadSource, SliceSource, Source};
pub use optimize::optimize;
pub use policy::{ClassPolicy, ALWAYS_ALLOWED};

use crate::error::{Error, ErrorKind, Result};
use crate::reconstruct::Reconstruct;
use crate::value::{Global, Value};
use handoff::FastLoad;
use load::Loader;

/// How Python 2 `str` objects (STRING, BINSTRING, SHORT_BINSTRING) are decoded: CPython's
/// `encoding` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `"ASCII"`, CPython's default.
    #[default]
    Ascii,
    /// `"latin1"`: every byte is a code point (NumPy and datetime pickles need it).
    Latin1,
    /// `"utf-8"`.
    Utf8,
    /// `"bytes"`: leave them as `bytes`.
    Bytes,
}

/// What to do with Python 2 strings that do not decode: CPython's `errors` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StringErrors {
    /// `"strict"`: fail, CPython's default.
    #[default]
    Strict,
    /// `"replace"`: U+FFFD.
    Replace,
    /// `"ignore"`: drop the byte.
    Ignore,
    /// `"surrogateescape"`: U+DC80 plus the byte.
    SurrogateEscape,
}

/// The options of an [`Unpickler`]: CPython's, and limits for untrusted input.
///
/// Every limit fails with [`ErrorKind::LimitExceeded`]; none of them changes what a
/// successful load returns.
#[derive(Clone, Debug)]
pub struct UnpicklerOptions {
    /// Below protocol 3, read Python 2 names as Python 3 knows them (`copy_reg` is
    /// `copyreg`, `__builtin__` is `builtins`), as CPython does by default.
    pub fix_imports: bool,
    /// How Python 2 strings are decoded.
    pub encoding: Encoding,
    /// What happens to Python 2 strings that do not decode.
    pub errors: StringErrors,
    /// Rebuild the reductions CPython writes for `bytes`, `bytearray`, `set` and
    /// `frozenset` below the protocols with opcodes for them as those builtins (on by
    /// default); off, they stay [`Value::Object`]s.
    pub builtin_reductions: bool,
    /// The deepest nesting of the loaded value.
    pub max_depth: usize,
    /// The most bytes the loaded data may take: payloads, plus an estimate per object and
    /// per container item of what they take while loading and as the `Value` (not an exact
    /// bound on memory: allocators round up, and vectors grow by doubling). A declared
    /// length is checked against it before anything is read.
    pub max_alloc: u64,
    /// The most memo entries.
    pub max_memo: usize,
    /// The longest text argument (protocol 0 lines).
    pub max_line: usize,
    /// The most decimal digits of a text integer (CPython 3.11's `int_max_str_digits`).
    pub max_digits: usize,
    /// Which globals the pickle may name; `None` (the default) allows all of them, as inert
    /// data. Set one to read untrusted input into typed values.
    pub class_policy: Option<ClassPolicy>,
}

impl Default for UnpicklerOptions {
    fn default() -> UnpicklerOptions {
        UnpicklerOptions {
            fix_imports: true,
            encoding: Encoding::Ascii,
            errors: StringErrors::Strict,
            builtin_reductions: true,
            max_depth: 10_000,
            max_alloc: 4 << 30,
            max_memo: 1 << 26,
            max_line: 64 << 20,
            max_digits: 4300,
            class_policy: None,
        }
    }
}

/// What the unpickler does with a persistent id (PERSID, BINPERSID).
pub enum PersistentLoad {
    /// Fail, as CPython does without a `persistent_load` method (the default).
    Refuse,
    /// Keep it as a [`Value::PersistentId`], which pickles back to the same id.
    Keep,
    /// Ask this function for the object the id stands for.
    Call(Box<dyn FnMut(Value) -> Result<Value>>),
    /// Ask this function for a Rust object the id stands for. The pickle keeps the id (a
    /// [`Value`] load gives [`Value::PersistentId`]); a typed load takes the object with
    /// [`Persistent<T>`](crate::Persistent) or [`Node::persistent`](crate::Node::persistent).
    Typed(Box<dyn FnMut(Value) -> Result<std::rc::Rc<dyn std::any::Any>>>),
}

/// The unpickler's hooks: persistent ids, extension codes, out-of-band buffers.
pub(crate) struct Hooks {
    pub(crate) persistent_load: PersistentLoad,
    pub(crate) extensions: HashMap<i32, Global>,
    pub(crate) buffers: Option<Box<dyn Iterator<Item = Value>>>,
}

impl Hooks {
    /// Whether reading a pickle again calls nothing a second time: no persistent-id hook
    /// that is a function, no buffers to take.
    fn without_effects(&self) -> bool {
        matches!(self.persistent_load, PersistentLoad::Refuse | PersistentLoad::Keep) && self.buffers.is_none()
    }
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks { persistent_load: PersistentLoad::Refuse, extensions: HashMap::new(), buffers: None }
    }
}

/// Reads pickles, as CPython's `pickle.Unpickler`.
///
/// From memory, [`Unpickler::from_slice`] reads without copying the input; from any
/// `io::Read`, [`Unpickler::new`] reads through a buffer it keeps, so pickles written one
/// after another to a stream load one after another.
///
/// ```
/// use pickle_core::{dumps, Unpickler, Value};
///
/// let mut stream = dumps(&1, 4)?;
/// stream.extend(dumps(&"two", 2)?);
/// let mut unpickler = Unpickler::new(&stream[..]);
/// assert_eq!(unpickler.load::<i64>()?, 1);
/// assert_eq!(unpickler.load::<Value>()?, Value::from("two"));
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub struct Unpickler<S> {
    source: S,
    options: UnpicklerOptions,
    hooks: Hooks,
}

impl<R: Read> Unpickler<ReadSource<R>> {
    /// An unpickler reading from `reader`.
    pub fn new(reader: R) -> Unpickler<ReadSource<R>> {
        Unpickler { source: ReadSource::new(reader), options: UnpicklerOptions::default(), hooks: Hooks::default() }
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        self.source.get_ref()
    }

    /// The reader, and the bytes read from it past the last pickle loaded.
    pub fn into_inner(self) -> (R, Vec<u8>) {
        self.source.into_parts()
    }
}

impl<'a> Unpickler<SliceSource<'a>> {
    /// An unpickler reading from memory.
    pub fn from_slice(bytes: &'a [u8]) -> Unpickler<SliceSource<'a>> {
        Unpickler { source: SliceSource::new(bytes), options: UnpicklerOptions::default(), hooks: Hooks::default() }
    }

    /// The bytes after the last pickle loaded.
    pub fn remaining(&self) -> &'a [u8] {
        self.source.rest()
    }
}

impl<S: Source> Unpickler<S> {
    /// Sets all the options.
    pub fn with_options(mut self, options: UnpicklerOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &UnpicklerOptions {
        &self.options
    }

    /// Sets `fix_imports` (on by default).
    pub fn fix_imports(mut self, fix_imports: bool) -> Self {
        self.options.fix_imports = fix_imports;
        self
    }

    /// Sets how Python 2 strings are decoded, and what happens when they do not decode.
    pub fn encoding(mut self, encoding: Encoding, errors: StringErrors) -> Self {
        self.options.encoding = encoding;
        self.options.errors = errors;
        self
    }

    /// Sets the class policy: globals it does not allow are an error
    /// ([`ErrorKind::Forbidden`]) at the opcode that names them.
    pub fn class_policy(mut self, policy: ClassPolicy) -> Self {
        self.options.class_policy = Some(policy);
        self
    }

    /// Sets what persistent ids become.
    pub fn persistent_load(mut self, persistent_load: PersistentLoad) -> Self {
        self.hooks.persistent_load = persistent_load;
        self
    }

    /// Sets a typed `persistent_load`: `hook` gives the Rust object each persistent id stands
    /// for, which a typed load takes as a [`Persistent<T>`](crate::Persistent) field.
    ///
    /// ```
    /// use pickle_core::{Persistent, Unpickler, Value};
    ///
    /// // CPython: a Pickler whose persistent_id gives 'doc:7' for a document, at protocol 2.
    /// let bytes = b"\x80\x02]q\x00X\x05\x00\x00\x00doc:7q\x01Qa.";
    /// let docs: Vec<Persistent<String>> = Unpickler::from_slice(bytes)
    ///     .persistent_load_typed(|id: Value| Ok(format!("document {}", id.as_str().unwrap_or("?"))))
    ///     .load()?;
    /// assert_eq!(docs[0].0, "document doc:7");
    /// # Ok::<(), pickle_core::Error>(())
    /// ```
    pub fn persistent_load_typed<T: Clone + 'static>(
        mut self,
        mut hook: impl FnMut(Value) -> Result<T> + 'static,
    ) -> Self {
        let typed = move |id: Value| -> Result<std::rc::Rc<dyn std::any::Any>> { Ok(std::rc::Rc::new(hook(id)?)) };
        self.hooks.persistent_load = PersistentLoad::Typed(Box::new(typed));
        self
    }

    /// Registers an extension code (copyreg's `add_extension`): EXT1/EXT2/EXT4 with this
    /// code load as the global `module.name`.
    pub fn extension(mut self, code: i32, module: impl Into<String>, name: impl Into<String>) -> Self {
        self.hooks.extensions.insert(code, Global::new(module, name));
        self
    }

    /// Supplies the out-of-band buffers that NEXT_BUFFER takes, in order (protocol 5);
    /// READONLY_BUFFER turns a `bytearray` into `bytes`.
    pub fn buffers<I: IntoIterator<Item = Value>>(mut self, buffers: I) -> Self
    where
        I::IntoIter: 'static,
    {
        self.hooks.buffers = Some(Box::new(buffers.into_iter()));
        self
    }

    /// Reads exactly one pickle, up to its STOP, and returns its value: a [`Value`], or any
    /// [`Reconstruct`] type. After it, the source is positioned just past the STOP.
    pub fn load<T: Reconstruct>(&mut self) -> Result<T> {
        let fast = match self.source.unread() {
            Some(bytes) => fast_load::<T>(bytes, &self.options),
            None => FastLoad::Declined,
        };
        match fast {
            FastLoad::Done(value, length) => {
                self.source.skip(length);
                Ok(value)
            }
            FastLoad::Held(held) => {
                let start = self.source.offset();
                self.source.skip(held.at);
                let loaded = Loader::resume(&mut self.source, &self.options, &mut self.hooks, *held)
                    .and_then(Loader::load)
                    .and_then(T::from_tree);
                match loaded {
                    // Objects made before the handoff have no offset; an error about one (an
                    // object nested too deeply) is placed by the general loader, from the
                    // start, where reading again calls no hook twice.
                    Err(e) if e.offset().is_none() && self.hooks.without_effects() && self.source.rewind(start) => {
                        T::from_tree(self.load_tree()?)
                    }
                    loaded => loaded,
                }
            }
            FastLoad::Declined => T::from_tree(self.load_tree()?),
        }
    }

    /// Reads one pickle into the graph [`Node`](crate::Node)s read.
    pub(crate) fn load_tree(&mut self) -> Result<crate::reconstruct::Tree> {
        Loader::new(&mut self.source, &self.options, &mut self.hooks).load()
    }

    /// How many bytes have been consumed.
    pub fn position(&self) -> u64 {
        self.source.offset()
    }
}

/// The fast path for a `T` over a pickle in memory: the one-pass path to a [`Value`]
/// (`direct`), which may hand what it holds to the general loader part way, or the typed
/// path (`stream`), which decodes the whole pickle or leaves it.
fn fast_load<T: Reconstruct>(bytes: &[u8], options: &UnpicklerOptions) -> FastLoad<T> {
    if T::IS_VALUE {
        return match direct::load(bytes, options) {
            FastLoad::Done(value, length) => {
                T::from_value(value).map_or(FastLoad::Declined, |v| FastLoad::Done(v, length))
            }
            FastLoad::Held(held) => FastLoad::Held(held),
            FastLoad::Declined => FastLoad::Declined,
        };
    }
    match stream::load(bytes, options) {
        Some((value, length)) => FastLoad::Done(value, length),
        None => FastLoad::Declined,
    }
}

/// `pickle.loads(bytes)`: the value of a pickle held in memory, as a [`Value`] or any
/// [`Reconstruct`] type. Bytes after its STOP are an error ([`ErrorKind::TrailingData`]);
/// use [`Unpickler::from_slice`] to read on.
///
/// A pickle in memory can take fast paths that read plain data straight into a `Value` or
/// into the Rust type (lists, dicts, numbers, strs, derived structs of dicts and of plain
/// classes), where a reader ([`load()`]) goes through the general loader; both give the same
/// values and the same errors.
///
/// ```
/// use pickle_core::{loads, Value};
///
/// let v: Value = loads(b"\x80\x04K\x01.")?;
/// assert_eq!(v.as_i64(), Some(1));
/// let numbers: Vec<i64> = loads(b"\x80\x04]q\x00(K\x01K\x02e.")?;
/// assert_eq!(numbers, [1, 2]);
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn loads<T: Reconstruct>(bytes: &[u8]) -> Result<T> {
    loads_with(bytes, &UnpicklerOptions::default())
}

/// [`loads`] of a pickled `bytes`, with its payload borrowed from `bytes` where the pickle
/// holds it as it is (protocols 3 to 5 write `bytes` so): no copy, however large it is.
/// Otherwise (protocols 0 to 2 write `_codecs.encode` of a Latin-1 str) the payload is
/// decoded, and owned. Anything but a `bytes` is the error [`loads`] gives for
/// [`Bytes`](crate::Bytes).
///
/// ```
/// use std::borrow::Cow;
///
/// // What CPython 3.11 writes for `pickle.dumps(b'data', 4)`:
/// let pickle = b"\x80\x04\x95\x08\x00\x00\x00\x00\x00\x00\x00C\x04data\x94.";
/// let payload = pickle_core::loads_bytes(pickle)?;
/// assert!(matches!(payload, Cow::Borrowed(b"data")));
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn loads_bytes(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    loads_bytes_with(bytes, &UnpicklerOptions::default())
}

/// [`loads_bytes`] with options.
pub fn loads_bytes_with<'a>(bytes: &'a [u8], options: &UnpicklerOptions) -> Result<std::borrow::Cow<'a, [u8]>> {
    if let Some(payload) = stream::load_bytes(bytes, options) {
        return Ok(std::borrow::Cow::Borrowed(payload));
    }
    loads_with::<crate::Bytes>(bytes, options).map(|b| std::borrow::Cow::Owned(b.0))
}

/// [`loads`] with options.
pub fn loads_with<T: Reconstruct>(bytes: &[u8], options: &UnpicklerOptions) -> Result<T> {
    let mut unpickler = Unpickler::from_slice(bytes).with_options(options.clone());
    let value = unpickler.load()?;
    let rest = unpickler.remaining().len();
    if rest > 0 {
        return Err(Error::new(ErrorKind::TrailingData(rest as u64)).at_offset(unpickler.position()));
    }
    Ok(value)
}

/// `pickle.load(file)`: one pickle from a reader.
pub fn load<T: Reconstruct, R: Read>(reader: R) -> Result<T> {
    Unpickler::new(reader).load()
}
