//! The scanner's recorder: the general loader run one opcode at a time, noting every global a
//! pickle would import and every call it would make, each with the byte offset of its opcode.
//!
//! It exists because scanners that read opcodes in isolation guess, and their guesses are
//! bypassed: a name built through the memo, STACK_GLOBAL operands pushed with the STRING
//! opcodes, a `getattr` chain, a nested pickle handed to `pickle.loads`, a pickle that breaks
//! after its REDUCE has run. The recorder runs the machine [`loads`](crate::loads) runs
//! (`load.rs`), which executes nothing, and reads what each opcode made out of its graph, so a
//! name is seen however it was built. Where CPython goes on and the loader does not model it
//! (BUILD, SETITEM(S), APPEND(S), ADDITEMS on a module-level object: CPython sets attributes or
//! items of that object), the recorder notes the mutation and goes on with the stack CPython
//! would have. Where the pickle breaks, what was recorded before the break is kept with the
//! error. Verdicts are not made here: this is the evidence a policy judges (`pickletool scan`).
//!
//! ```
//! use pickle_core::scan::{record, Action, ScanOptions};
//!
//! // `os.system('id')` at protocol 0, whose STOP is missing: the call is still recorded.
//! let record = record(b"cos\nsystem\n(S'id'\ntR", &ScanOptions::default());
//! let calls: Vec<_> = record.found.iter().filter(|f| f.action == Action::Call).collect();
//! assert_eq!((calls[0].module.as_str(), calls[0].name.as_str(), calls[0].offset), ("os", "system", 19));
//! assert!(record.error.is_some());
//! ```

use std::collections::{HashMap, HashSet};

use super::input::{Input, SliceSource};
use super::load::Loader;
use super::{Encoding, Hooks, PersistentLoad, UnpicklerOptions};
use crate::error::{Error, ErrorKind};
use crate::graph::{Graph, Item, Obj, ObjectNode};
use crate::opcode::Opcode;
use crate::value::Global;

/// What the pickle does with a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// GLOBAL, STACK_GLOBAL or INST names it: `find_class` imports it.
    Import,
    /// EXT1, EXT2 or EXT4 names it through copyreg's extension registry; unregistered, the
    /// name is `code N` in the module `copyreg._extension_registry`.
    Extension,
    /// It is called: REDUCE, INST, OBJ, or NEWOBJ and NEWOBJ_EX (the class's `__new__`).
    Call,
    /// `getattr(obj, 'name')` reaches it (the name is the dotted path it reaches).
    Attribute,
    /// BUILD on an object it made: its `__setstate__`, or setattr on the instance.
    SetState,
    /// Attributes or items set on a module-level object: BUILD, SETITEM(S), APPEND(S) or
    /// ADDITEMS on a global.
    Mutate,
}

impl Action {
    /// A lowercase word for it, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Import => "import",
            Action::Extension => "extension",
            Action::Call => "call",
            Action::Attribute => "attribute",
            Action::SetState => "setstate",
            Action::Mutate => "mutate",
        }
    }
}

/// One thing a pickle would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// What it does.
    pub action: Action,
    /// The module (`?` where the object has no name, such as a call's result).
    pub module: String,
    /// The qualified name in the module; empty for a module itself.
    pub name: String,
    /// The byte offset of the opcode, in the pickle where it is (see `nested_in`).
    pub offset: u64,
    /// The opcode.
    pub opcode: Opcode,
    /// Empty for the pickle scanned; for a pickle nested in it (bytes passed to a loader such
    /// as `pickle.loads`), the offsets of the bytes objects it is in, outermost first.
    pub nested_in: Vec<u64>,
    /// For a call, its first 16 positional arguments in short (see [`Arg`]); empty otherwise.
    pub args: Vec<Arg>,
}

/// An argument of a call, in short: enough for a policy to check its shape.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Arg {
    /// None, a bool, an int or a float.
    Atom,
    /// A str (its first 256 characters).
    Str(String),
    /// A bytes or bytearray, by length.
    Bytes(usize),
    /// A global: module and qualname.
    Global(String, String),
    /// Anything else, by its Python type name (`tuple`, `dict`, `object` for a call's result).
    Other(&'static str),
}

/// How to record.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The loader's options: limits, and how Python 2 strings decode (Latin-1 by default, so
    /// no STRING opcode fails where some loader would take it; the reductions of builtins
    /// stay calls, so that each is seen).
    pub unpickler: UnpicklerOptions,
    /// How deep pickles passed as bytes to loaders are followed.
    pub max_nesting: usize,
    /// Extension codes the loading program registered (copyreg's `add_extension`).
    pub extensions: Vec<(i32, Global)>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        let unpickler =
            UnpicklerOptions { encoding: Encoding::Latin1, builtin_reductions: false, ..UnpicklerOptions::default() };
        ScanOptions { unpickler, max_nesting: 4, extensions: Vec::new() }
    }
}

/// What one pickle would do, up to its STOP or to where it breaks.
#[derive(Debug)]
pub struct Record {
    /// Everything found, in the order the opcodes come; a nested pickle's findings follow
    /// the call that loads it.
    pub found: Vec<Found>,
    /// Why reading stopped before the STOP, with the offset; `None` when the STOP was read.
    pub error: Option<Error>,
    /// Errors of nested pickles, each with the offsets of the bytes it is in.
    pub nested_errors: Vec<(Vec<u64>, Error)>,
    /// The offset just past the STOP, or of the opcode where reading stopped.
    pub end: u64,
}

impl Record {
    /// Moves every offset of the pickle scanned by `by`: for a pickle read from the middle
    /// of a file, offsets in the file.
    pub fn shift(&mut self, by: u64) {
        self.shift_at(0, by);
    }

    /// Moves by `by` the offsets counted in the pickle `depth` loaders deep: the offsets of
    /// its findings, or of the bytes holding the pickles nested in it.
    fn shift_at(&mut self, depth: usize, by: u64) {
        self.end += by;
        for found in &mut self.found {
            match found.nested_in.get_mut(depth) {
                Some(outer) => *outer += by,
                None => found.offset += by,
            }
        }
        for (nested_in, _) in &mut self.nested_errors {
            if let Some(outer) = nested_in.get_mut(depth) {
                *outer += by;
            }
        }
    }
}

/// Records what the pickle at the start of `bytes` would do. Offsets are from the start of
/// `bytes`; bytes after the STOP are not read (`Record::end` says where they start).
pub fn record(bytes: &[u8], options: &ScanOptions) -> Record {
    Recorder::new(options, Vec::new()).run(bytes)
}

/// The callables that load a pickle from the bytes they are given (or a `BytesIO` of them);
/// an `Unpickler` made over a `BytesIO` loads it when its `load` is called.
const LOADERS: &[(&str, &str)] = &[
    ("pickle", "Unpickler"),
    ("pickle", "_Unpickler"),
    ("_pickle", "Unpickler"),
    ("pickle", "loads"),
    ("pickle", "load"),
    ("pickle", "_loads"),
    ("pickle", "_load"),
    ("_pickle", "loads"),
    ("_pickle", "load"),
    ("cPickle", "loads"),
    ("dill", "loads"),
    ("dill._dill", "loads"),
    ("cloudpickle", "loads"),
    ("numpy", "loads"),
    ("torch", "load"),
    ("torch.serialization", "load"),
    ("joblib", "load"),
];

/// The callables that return the module their first argument names.
const IMPORTERS: &[(&str, &str)] =
    &[("builtins", "__import__"), ("importlib", "import_module"), ("importlib", "__import__")];

type Name = (String, String);

/// A mutation of a global the loader will refuse and CPython performs: what to record, and
/// the stack length CPython leaves.
struct Pending {
    found: Found,
    stack_len: usize,
}

/// The most dimensions a numpy array has (`NPY_MAXDIMS`).
const MAX_DIMS: usize = 64;
/// The arguments of a call kept in its finding, at most.
const MAX_ARGS: usize = 16;

/// How deep joblib's object arrays (each a pickle, which may hold more) are followed.
const MAX_INLINE_DEPTH: usize = 16;

struct Recorder<'o> {
    options: &'o ScanOptions,
    /// How many joblib object arrays this pickle is inside.
    inline_depth: usize,
    /// The names of the graph's objects that have one: globals, modules, attributes.
    names: HashMap<u32, Name>,
    /// The objects holding nested pickles already recorded.
    payloads: HashSet<u32>,
    found: Vec<Found>,
    nested_errors: Vec<(Vec<u64>, Error)>,
    nested_in: Vec<u64>,
}

impl<'o> Recorder<'o> {
    fn new(options: &'o ScanOptions, nested_in: Vec<u64>) -> Self {
        Recorder {
            options,
            inline_depth: 0,
            names: HashMap::new(),
            payloads: HashSet::new(),
            found: Vec::new(),
            nested_errors: Vec::new(),
            nested_in,
        }
    }

    fn run(mut self, bytes: &[u8]) -> Record {
        let mut input = SliceSource::new(bytes);
        let extensions = self.options.extensions.iter().cloned().collect();
        let mut hooks = Hooks { persistent_load: PersistentLoad::Keep, extensions, buffers: None };
        let mut loader = Loader::new(&mut input, &self.options.unpickler, &mut hooks);
        let error = loop {
            match self.step(&mut loader, bytes) {
                Ok(true) => break None,
                Ok(false) => {}
                Err(e) => break Some(e),
            }
        };
        let end = loader.offset();
        Record { found: self.found, error, nested_errors: self.nested_errors, end }
    }

    /// One opcode, recorded before and after it runs: `Ok(true)` at the STOP.
    fn step<I: Input>(&mut self, loader: &mut Loader<'_, I>, bytes: &[u8]) -> Result<bool, Error> {
        let (start, op) = loader.read_op()?;
        let made = loader.state().0.len();
        let built = built_object(loader, op);
        let pending = self.before(loader, start, op);
        let ran = loader.run_op(start, op);
        self.after(loader.state().0, made, start, op);
        match ran {
            Ok(Some(_root)) => Ok(true),
            Ok(None) => built.map_or(Ok(()), |index| self.joblib_array(loader, index, bytes)).map(|()| false),
            Err(e) => self.recover(loader, e, pending, (start, op), bytes).map(|()| false),
        }
    }

    /// After an opcode failed: a mutation of a global, which CPython performs, is recorded
    /// and the stack cut as CPython leaves it; any other error ends the pickle, as in CPython
    /// (an EXT code the registry lacks recorded first).
    fn recover<I: Input>(
        &mut self,
        loader: &mut Loader<'_, I>,
        error: Error,
        pending: Option<Pending>,
        (start, op): (u64, Opcode),
        bytes: &[u8],
    ) -> Result<(), Error> {
        match pending {
            Some(p) if matches!(error.kind(), ErrorKind::Unpickling(_)) => {
                self.found.push(p.found);
                loader.cut_stack(p.stack_len);
                Ok(())
            }
            _ => {
                self.unregistered_extension(&error, start, op, bytes);
                Err(error)
            }
        }
    }

    /// After the BUILD of a joblib `NumpyArrayWrapper`: the array joblib wrote right after
    /// it, which its unpickler reads from the file before the next opcode. An object array
    /// is a pickle of its own (recorded, offsets in `bytes`); any other is raw data, after a
    /// byte of padding length and the padding when the wrapper has an alignment.
    fn joblib_array<I: Input>(&mut self, loader: &mut Loader<'_, I>, index: u32, bytes: &[u8]) -> Result<(), Error> {
        let graph = loader.state().0;
        let Obj::Object(o) = graph.get(index) else { return Ok(()) };
        let is_wrapper = self.class_of(graph, o) == ("joblib.numpy_pickle".to_owned(), "NumpyArrayWrapper".to_owned());
        let Some(array) = o.state.filter(|_| is_wrapper).and_then(|state| JoblibArray::of(graph, state)) else {
            return Ok(());
        };
        let at = loader.offset();
        if array.objects {
            if self.inline_depth >= MAX_INLINE_DEPTH {
                return Err(Error::unpickling("joblib object arrays nested too deeply").at_offset(at));
            }
            let mut inner = Recorder::new(self.options, self.nested_in.clone());
            inner.inline_depth = self.inline_depth + 1;
            let mut inner = inner.run(&bytes[at as usize..]);
            inner.shift_at(self.nested_in.len(), at);
            self.found.extend(inner.found);
            self.nested_errors.extend(inner.nested_errors);
            if let Some(e) = inner.error {
                return Err(e);
            }
            return skip(loader, inner.end - at);
        }
        if array.aligned {
            let padding = loader.read_raw(1)?[0];
            skip(loader, u64::from(padding))?;
        }
        skip(loader, array.bytes)
    }

    fn finding(&self, action: Action, (module, name): Name, offset: u64, opcode: Opcode) -> Found {
        Found { action, module, name, offset, opcode, nested_in: self.nested_in.clone(), args: Vec::new() }
    }

    /// Before an opcode that sets state, items or attributes: BUILD on an object records its
    /// `__setstate__`; on a global, a mutation CPython performs and the loader refuses is
    /// returned, to be recorded when the loader refuses it.
    fn before<I: Input>(&mut self, loader: &Loader<'_, I>, start: u64, op: Opcode) -> Option<Pending> {
        let (graph, stack, marks) = loader.state();
        let len = stack.len();
        let (target, stack_len) = match op {
            Opcode::Build | Opcode::Append if len >= 2 => (stack[len - 2], len - 1),
            Opcode::Setitem if len >= 3 => (stack[len - 3], len - 2),
            Opcode::Appends | Opcode::Setitems | Opcode::Additems => {
                let mark = *marks.last()?;
                (*stack.get(mark.checked_sub(1)?)?, mark)
            }
            _ => return None,
        };
        let Item::Obj(index) = target else { return None };
        match graph.get(index) {
            Obj::Global(g) => {
                let found = self.finding(Action::Mutate, (g.module.clone(), g.name.clone()), start, op);
                Some(Pending { found, stack_len })
            }
            Obj::Object(o) if op == Opcode::Build => {
                let class = self.class_of(graph, o);
                self.found.push(self.finding(Action::SetState, class, start, op));
                None
            }
            _ => None,
        }
    }

    /// After an opcode ran (or failed): the globals and calls among the objects it made.
    fn after(&mut self, graph: &Graph, made: u32, start: u64, op: Opcode) {
        for index in made..graph.len() {
            match graph.get(index) {
                Obj::Global(g) => {
                    let name = (g.module.clone(), g.name.clone());
                    // NEWOBJ's `copyreg.__newobj__` is the loader's record, no import.
                    if !matches!(op, Opcode::Newobj | Opcode::NewobjEx) {
                        let action = if is_ext(op) { Action::Extension } else { Action::Import };
                        self.found.push(self.finding(action, name.clone(), start, op));
                    }
                    self.names.insert(index, name);
                }
                Obj::Object(o) => self.call(graph, index, o, start, op),
                _ => {}
            }
        }
    }

    /// A call: what is called, and what `getattr`, `__import__` and the loaders of pickles
    /// give.
    fn call(&mut self, graph: &Graph, index: u32, o: &ObjectNode, start: u64, op: Opcode) {
        let args = tuple(graph, o.args);
        let callee = match op {
            Opcode::Newobj | Opcode::NewobjEx => self.name_or_describe(graph, args.first().copied()),
            _ => self.name_or_describe(graph, Some(o.callable)),
        };
        let mut call = self.finding(Action::Call, callee.clone(), start, op);
        let positional = match op {
            Opcode::Newobj => &args[args.len().min(1)..],
            Opcode::NewobjEx => &[][..],
            _ => args,
        };
        call.args = positional.iter().take(MAX_ARGS).map(|&a| arg_of(graph, a)).collect();
        self.found.push(call);
        let callee = (callee.0.as_str(), callee.1.as_str());
        if callee == ("builtins", "getattr") && args.len() >= 2 {
            let Some(attr) = str_of(graph, args[1]) else { return };
            let reached = match self.name_of(args[0]) {
                Some((module, qualname)) if qualname.is_empty() => (module.clone(), attr.to_owned()),
                Some((module, qualname)) => (module.clone(), format!("{qualname}.{attr}")),
                None => {
                    let (module, what) = self.name_or_describe(graph, Some(args[0]));
                    self.found.push(self.finding(Action::Attribute, (module, format!("{what}.{attr}")), start, op));
                    return;
                }
            };
            self.found.push(self.finding(Action::Attribute, reached.clone(), start, op));
            self.names.insert(index, reached);
        } else if IMPORTERS.contains(&callee) {
            if let Some(module) = args.first().and_then(|&a| str_of(graph, a)) {
                self.names.insert(index, (module.to_owned(), String::new()));
            }
        } else if LOADERS.contains(&callee) {
            if let Some(&payload) = args.first() {
                self.nested(graph, payload);
            }
        }
    }

    /// A pickle passed to a loader, recorded in turn, as deep as the options allow.
    fn nested(&mut self, graph: &Graph, payload: Item) {
        if self.nested_in.len() >= self.options.max_nesting {
            return;
        }
        let Some((holder, at)) = payload_of(graph, payload, 2) else { return };
        // One payload loaded again and again (a memo GET per call) is recorded once: the
        // work stays in proportion to the input.
        if !self.payloads.insert(holder) {
            return;
        }
        let Some(data) = payload_bytes(graph, holder) else { return };
        let mut path = self.nested_in.clone();
        path.push(at);
        let inner = Recorder::new(self.options, path.clone()).run(&data);
        self.found.extend(inner.found);
        self.nested_errors.extend(inner.nested_errors);
        if let Some(error) = inner.error {
            self.nested_errors.push((path, error));
        }
    }

    /// After a failed EXT: the code the registry does not have, as CPython fails on it.
    fn unregistered_extension(&mut self, error: &Error, start: u64, op: Opcode, bytes: &[u8]) {
        if !is_ext(op) || !matches!(error.kind(), ErrorKind::Unpickling(_)) {
            return;
        }
        let at = start as usize + 1;
        let width = match op {
            Opcode::Ext1 => 1,
            Opcode::Ext2 => 2,
            _ => 4,
        };
        let Some(raw) = bytes.get(at..at + width) else { return };
        let code = raw.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let name = ("copyreg._extension_registry".to_owned(), format!("code {code}"));
        self.found.push(self.finding(Action::Extension, name, start, op));
    }

    fn name_of(&self, item: Item) -> Option<&Name> {
        match item {
            Item::Obj(index) => self.names.get(&index),
            _ => None,
        }
    }

    /// The name of what `item` is, or `?` and a description of it.
    fn name_or_describe(&self, graph: &Graph, item: Option<Item>) -> Name {
        if let Some(name) = item.and_then(|i| self.name_of(i)) {
            return name.clone();
        }
        let what = match item {
            Some(Item::Obj(index)) => {
                let at = graph.offset_of(index).map(|o| format!(" made at offset {o}")).unwrap_or_default();
                match graph.get(index) {
                    Obj::Object(_) => format!("<a call's result{at}>"),
                    Obj::PersistentId(_) => format!("<a persistent id{at}>"),
                    other => format!("<a {}{at}>", other.type_name()),
                }
            }
            Some(_) => "<a number or constant>".to_owned(),
            None => "<nothing>".to_owned(),
        };
        ("?".to_owned(), what)
    }

    /// The class whose `__setstate__` a BUILD on `o` calls: NEWOBJ's and
    /// `copyreg._reconstructor`'s first argument, otherwise what was called.
    fn class_of(&self, graph: &Graph, o: &ObjectNode) -> Name {
        let callee = self.name_of(o.callable);
        let by_first_arg = callee.is_some_and(|(m, n)| {
            m == "copyreg" && matches!(n.as_str(), "__newobj__" | "__newobj_ex__" | "_reconstructor")
        });
        match by_first_arg {
            true => self.name_or_describe(graph, tuple(graph, o.args).first().copied()),
            false => self.name_or_describe(graph, Some(o.callable)),
        }
    }
}

fn is_ext(op: Opcode) -> bool {
    matches!(op, Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4)
}

/// The items of a tuple, borrowed (a tuple the memo shares may be met at every call).
fn tuple(graph: &Graph, item: Item) -> &[Item] {
    match item {
        Item::Obj(index) => match graph.get(index) {
            Obj::Tuple(items) => items,
            _ => &[],
        },
        _ => &[],
    }
}

fn str_of(graph: &Graph, item: Item) -> Option<&str> {
    match item {
        Item::Obj(index) => match graph.get(index) {
            Obj::Str(s) => s.as_str(),
            _ => None,
        },
        _ => None,
    }
}

/// The object holding the bytes a loader would read from `item`, and the offset of `item`:
/// a bytes or bytearray, the str of `_codecs.encode(text, 'latin1')` (how protocols 0 to 2
/// write bytes), or either in a `BytesIO`.
fn payload_of(graph: &Graph, item: Item, depth: usize) -> Option<(u32, u64)> {
    let Item::Obj(index) = item else { return None };
    let at = graph.offset_of(index).unwrap_or(0);
    match graph.get(index) {
        Obj::Bytes(_) | Obj::ByteArray(_) => Some((index, at)),
        Obj::Object(o) if depth > 0 => {
            let Item::Obj(callable) = o.callable else { return None };
            let Obj::Global(g) = graph.get(callable) else { return None };
            let first = *tuple(graph, o.args).first()?;
            match (g.module.as_str(), g.name.as_str(), first) {
                ("_codecs" | "codecs", "encode", Item::Obj(text)) if matches!(graph.get(text), Obj::Str(_)) => {
                    Some((text, at))
                }
                ("io" | "_io", "BytesIO", _) => payload_of(graph, first, depth - 1).map(|(holder, _)| (holder, at)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The bytes held by the object [`payload_of`] found.
fn payload_bytes(graph: &Graph, holder: u32) -> Option<Vec<u8>> {
    match graph.get(holder) {
        Obj::Bytes(b) | Obj::ByteArray(b) => Some(b.clone()),
        Obj::Str(text) => text.to_latin1(),
        _ => None,
    }
}

/// The object a BUILD is about to set the state of.
fn built_object<I: Input>(loader: &Loader<'_, I>, op: Opcode) -> Option<u32> {
    let (graph, stack, _) = loader.state();
    match (op, stack.len().checked_sub(2).map(|i| stack[i])) {
        (Opcode::Build, Some(Item::Obj(index))) if matches!(graph.get(index), Obj::Object(_)) => Some(index),
        _ => None,
    }
}

/// Skips `n` bytes of raw data, a slice at a time.
fn skip<I: Input>(loader: &mut Loader<'_, I>, mut n: u64) -> Result<(), Error> {
    while n > 0 {
        let step = n.min(1 << 30);
        loader.read_raw(step as usize)?;
        n -= step;
    }
    Ok(())
}

/// What a joblib `NumpyArrayWrapper`'s state says about the array written after it.
struct JoblibArray {
    /// An object array: a pickle follows.
    objects: bool,
    /// A byte of padding length and the padding come first.
    aligned: bool,
    /// The raw array's length.
    bytes: u64,
}

impl JoblibArray {
    fn of(graph: &Graph, state: Item) -> Option<JoblibArray> {
        let Item::Obj(state) = state else { return None };
        let Obj::Dict(pairs) = graph.get(state) else { return None };
        let get = |key: &str| pairs.iter().find(|(k, _)| str_of(graph, *k) == Some(key)).map(|&(_, v)| v);
        let (code, elsize) = dtype(graph, get("dtype")?)?;
        let aligned = get("numpy_array_alignment_bytes").is_some_and(|v| v != Item::None);
        if code.starts_with('O') {
            return Some(JoblibArray { objects: true, aligned, bytes: 0 });
        }
        let shape = tuple(graph, get("shape")?);
        if shape.len() > MAX_DIMS {
            return None;
        }
        let count = shape.iter().try_fold(1u64, |n, d| {
            if let Item::Int(d) = d {
                n.checked_mul(u64::try_from(*d).ok()?)
            } else {
                None
            }
        })?;
        let itemsize = if elsize > 0 { elsize } else { itemsize(&code)? };
        Some(JoblibArray { objects: false, aligned, bytes: count.checked_mul(itemsize)? })
    }
}

/// A numpy dtype as numpy pickles it, `numpy.dtype(code, False, True)` with state `(3, '<',
/// None, names, fields, elsize, ...)`: its type code and the item size its state gives (0
/// where it leaves it to the code, -1 in the pickle).
fn dtype(graph: &Graph, item: Item) -> Option<(String, u64)> {
    let Item::Obj(index) = item else { return None };
    let Obj::Object(o) = graph.get(index) else { return None };
    let code = str_of(graph, *tuple(graph, o.args).first()?)?.to_owned();
    let elsize = o.state.map(|s| tuple(graph, s)).and_then(|t| t.get(5).copied());
    let elsize = match elsize {
        Some(Item::Int(n)) if n > 0 => n as u64,
        _ => 0,
    };
    Some((code, elsize))
}

/// The item size of a dtype code: `f8`, `<i4`, `U5` (4 bytes a character), `S3`, `b1`, `M8`.
fn itemsize(code: &str) -> Option<u64> {
    let code = code.trim_start_matches(['<', '>', '=', '|']);
    let kind = code.chars().next()?;
    let digits: String = code[kind.len_utf8()..].chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    Some(if kind == 'U' { n * 4 } else { n })
}

/// An argument in short.
fn arg_of(graph: &Graph, item: Item) -> Arg {
    let Item::Obj(index) = item else { return Arg::Atom };
    match graph.get(index) {
        Obj::Str(s) => Arg::Str(s.as_str().map_or_else(|| "?".to_owned(), |t| t.chars().take(256).collect())),
        Obj::Bytes(b) | Obj::ByteArray(b) => Arg::Bytes(b.len()),
        Obj::Global(g) => Arg::Global(g.module.clone(), g.name.clone()),
        Obj::BigInt(_) => Arg::Atom,
        other => Arg::Other(other.type_name()),
    }
}
