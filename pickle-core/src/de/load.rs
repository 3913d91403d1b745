//! The unpickling machine: CPython's `load()` loop and its opcode handlers.
//!
//! Arguments are read by the kind the opcode table gives them ([`ArgKind`](crate::opcode::ArgKind)), so each
//! handler only says what the opcode does with its argument and the stack. The stack has
//! CPython's two parts: objects, and the positions of MARKs; the topmost MARK is a fence
//! that ordinary pops may not cross ("unpickling stack underflow").

use std::collections::HashMap;

use super::args::{self, Arg, Budget, OBJECT_CHARGE, SLOT_CHARGE};
use super::globals::{global, GlobalNames};
use super::handoff::Held;
use super::input::Input;
use super::memo::Memo;
use super::reader::OpReader;
use super::text::{self, Int};
use super::{keys, Encoding, Hooks, PersistentLoad, StringErrors, UnpicklerOptions};
use crate::compat;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{scratch, Graph, Item, Obj, ObjectNode};
use crate::opcode::Opcode;
use crate::reconstruct::Tree;
use crate::value::{Global, PyString, Value};

/// What the loop does after an opcode.
enum Flow {
    Continue,
    Stop(Item),
}

/// One object of a pickle in memory that a typed read hands to the general loader, where
/// it does not read the object's shape itself (a class reduced its own way, a `Value`
/// field): the object's opcodes run here, and the typed read goes on after them. The
/// typed read gives what the object's opcodes need of what came before.
pub(crate) struct Piece {
    /// Where the object's opcodes end (the loader starts where its input is).
    pub(crate) end: u64,
    /// What the last PROTO said.
    pub(crate) proto: u8,
    /// The highest protocol among the whole pickle's opcodes, which the general loader
    /// reading all of it gives its objects (where the pickle has no PROTO, its protocol).
    pub(crate) highest: u8,
    pub(crate) budget: Budget,
    /// Entries put so far: CPython's `memo_len`.
    pub(crate) memo_len: u64,
    /// The memo entries put before the object that its GETs fetch.
    pub(crate) seeds: Vec<(u64, Obj)>,
    /// How much deeper than the object its value may nest.
    pub(crate) max_depth: usize,
}

/// What the general loader made of a [`Piece`].
pub(crate) struct Pieced {
    pub(crate) tree: Tree,
    /// What is left of the allocation budget.
    pub(crate) budget: Budget,
    /// The memo entries the object's opcodes put.
    pub(crate) puts: Vec<(u64, HandedBack)>,
}

/// What a typed read is told of a memo entry a [`Piece`]'s opcodes put, for a GET after it.
pub(crate) enum HandedBack {
    /// A global.
    Global(Box<Global>),
    /// A str, by the offset of the opcode that made it.
    Str(u64),
    /// Anything else.
    Other,
}

pub(crate) struct Loader<'u, I: Input> {
    reader: OpReader<&'u mut I>,
    options: &'u UnpicklerOptions,
    hooks: &'u mut Hooks,
    graph: Graph,
    stack: Vec<Item>,
    marks: Vec<usize>,
    memo: Memo<Item>,
    budget: Budget,
    /// The first string object seen naming each module or qualname in STACK_GLOBAL.
    global_names: GlobalNames,
    /// The `copyreg` globals NEWOBJ and NEWOBJ_EX are recorded with, made once.
    newobj: Option<Item>,
    newobj_ex: Option<Item>,
}

impl<I: Input> Drop for Loader<'_, I> {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.stack));
        scratch::give(self.memo.take_table());
    }
}

impl<'u, I: Input> Loader<'u, I> {
    pub(crate) fn new(input: &'u mut I, options: &'u UnpicklerOptions, hooks: &'u mut Hooks) -> Self {
        Loader {
            reader: OpReader::new(input, options.max_line),
            options,
            hooks,
            graph: Graph::default(),
            stack: scratch::take(),
            marks: Vec::new(),
            memo: Memo::with_table(scratch::take()),
            budget: Budget::new(options.max_alloc),
            global_names: GlobalNames::default(),
            newobj: None,
            newobj_ex: None,
        }
    }

    /// A loader that goes on from what a fast path held, at the opcode it stopped before
    /// (where `input` is): the held values moved into the arena, the memo, the marks, the
    /// budget and the protocols carried over.
    pub(crate) fn resume(
        input: &'u mut I,
        options: &'u UnpicklerOptions,
        hooks: &'u mut Hooks,
        held: Held,
    ) -> Result<Self> {
        let at = input.offset();
        let mut loader = Loader::new(input, options, hooks);
        loader.reader.resume(held.proto, held.highest);
        loader.budget = held.budget;
        let memo_len = held.memo_len;
        let resumed = held.adopt(&mut loader.graph).map_err(|e| e.at_offset(at))?;
        loader.stack.extend(resumed.stack);
        loader.marks = resumed.marks;
        loader.memo = Memo::resumed(loader.memo.take_table(), resumed.memo, memo_len);
        loader.global_names = resumed.global_names;
        loader.newobj = resumed.newobj;
        Ok(loader)
    }

    /// Reads one pickle, up to and including its STOP.
    pub(crate) fn load(mut self) -> Result<Tree> {
        let root = loop {
            if let Flow::Stop(root) = self.next_opcode()? {
                break root;
            }
        };
        let end = self.reader.offset();
        let max_depth = self.options.max_depth;
        self.finish(root, max_depth).map_err(|e| e.at_offset(end))
    }

    /// Reads one object of a pickle for a typed read that does not read its shape (see
    /// [`Piece`]): the opcodes from where `input` is up to `piece.end`, which must leave one
    /// object on the stack and no MARK.
    pub(crate) fn piece(mut self, piece: Piece) -> Result<Pieced> {
        self.reader.resume(piece.proto, piece.highest);
        self.budget = piece.budget;
        let seeded: Vec<u64> = piece.seeds.iter().map(|(index, _)| *index).collect();
        let mut entries = Vec::with_capacity(seeded.len());
        for (index, obj) in piece.seeds {
            entries.push((index, self.graph.add(obj)?));
        }
        self.memo = Memo::resumed(self.memo.take_table(), entries, piece.memo_len);
        while self.reader.offset() < piece.end {
            if let Flow::Stop(_) = self.next_opcode()? {
                return Err(Error::unpickling("a STOP inside an object"));
            }
        }
        if self.stack.len() != 1 || !self.marks.is_empty() {
            return Err(Error::unpickling("not one object"));
        }
        let root = self.stack.pop().expect("one object");
        let puts = self.memo.take_entries().into_iter().filter(|(index, _)| !seeded.contains(index));
        let puts = puts.map(|(index, item)| (index, self.handed_back(item))).collect();
        let budget = self.budget;
        let tree = self.finish(root, piece.max_depth)?;
        Ok(Pieced { tree, budget, puts })
    }

    /// One opcode (or a run of small ints), its error placed at it.
    #[inline(always)]
    fn next_opcode(&mut self) -> Result<Flow> {
        if let Some(int) = self.reader.next_small_int() {
            // Ints, the bulk of many pickles, without a dispatch: see `args::small_int`.
            self.push(Item::Int(int));
            return Ok(Flow::Continue);
        }
        let (start, op) = self.read_op()?;
        self.step_at(start, op)
    }

    /// [`Loader::step`] of the opcode read at `start`, its error placed there.
    #[inline(always)]
    fn step_at(&mut self, start: u64, op: Opcode) -> Result<Flow> {
        self.step(op).map_err(|e| e.at_offset(start).at_opcode(op))
    }

    /// What a typed read is told of the memo entry `item`.
    fn handed_back(&self, item: Item) -> HandedBack {
        let Item::Obj(i) = item else { return HandedBack::Other };
        match self.graph.get(i) {
            Obj::Global(g) => HandedBack::Global(g.clone()),
            Obj::Str(_) => self.graph.offset_of(i).map_or(HandedBack::Other, HandedBack::Str),
            _ => HandedBack::Other,
        }
    }

    // ----- one opcode at a time, for the scanner's recorder (`record.rs`) -----

    /// Reads the next opcode without running it: its offset and the opcode. The recorder
    /// looks at the stack before [`Loader::run_op`] changes it.
    #[inline(always)]
    pub(crate) fn read_op(&mut self) -> Result<(u64, Opcode)> {
        let (start, op) = self.reader.next()?;
        self.graph.offset = start;
        Ok((start, op))
    }

    /// Runs an opcode [`Loader::read_op`] read, as [`Loader::load`] does: `Some(root)` at
    /// STOP. Nothing is undone on an error, so what was built before it stays to be seen.
    pub(crate) fn run_op(&mut self, start: u64, op: Opcode) -> Result<Option<Item>> {
        Ok(match self.step_at(start, op)? {
            Flow::Continue => None,
            Flow::Stop(root) => Some(root),
        })
    }

    /// The graph built so far, the stack and the MARKs' positions.
    pub(crate) fn state(&self) -> (&Graph, &[Item], &[usize]) {
        (&self.graph, &self.stack, &self.marks)
    }

    /// Cuts the stack to `len` and drops the MARKs above it: where the recorder goes on past
    /// what CPython does and the loader does not model (setting items or attributes of a
    /// global), the stack CPython would have.
    pub(crate) fn cut_stack(&mut self, len: usize) {
        self.stack.truncate(len);
        while self.marks.last().is_some_and(|&m| m >= len) {
            self.marks.pop();
        }
    }

    /// How far the input has been read.
    pub(crate) fn offset(&self) -> u64 {
        self.reader.offset()
    }

    /// Reads `n` bytes that are no opcodes: the array data joblib writes between a BUILD
    /// and the next opcode, which its unpickler reads from the file. An error if they are
    /// not there.
    pub(crate) fn read_raw(&mut self, n: usize) -> Result<&[u8]> {
        self.reader.input().read(n)
    }

    /// Gives dicts and sets Python's key semantics: frozensets first, in the order they
    /// were made (a frozenset's items were made before it), so that every frozenset is final
    /// when a key's hash or equality looks into it; then dicts and sets.
    fn finish(mut self, root: Item, max_depth: usize) -> Result<Tree> {
        let keyed = if self.graph.keyed > 0 { self.graph.len() } else { 0 };
        let mut keys = keys::Keys::new(max_depth);
        let mut dicts_and_sets = Vec::new();
        for index in 0..keyed {
            match self.graph.get_mut(index) {
                Obj::FrozenSet(items) if !items.is_empty() => {
                    let mut items = std::mem::take(items);
                    keys::dedupe_items(&mut keys, &self.graph, &mut items)?;
                    *self.graph.get_mut(index) = Obj::FrozenSet(items);
                }
                Obj::Dict(pairs) if !pairs.is_empty() => dicts_and_sets.push(index),
                Obj::Set(items) if !items.is_empty() => dicts_and_sets.push(index),
                _ => {}
            }
        }
        for index in dicts_and_sets {
            match self.graph.get_mut(index) {
                Obj::Dict(pairs) => {
                    let mut pairs = std::mem::take(pairs);
                    keys::dedupe_pairs(&mut keys, &self.graph, &mut pairs)?;
                    *self.graph.get_mut(index) = Obj::Dict(pairs);
                }
                Obj::Set(items) => {
                    let mut items = std::mem::take(items);
                    keys::dedupe_items(&mut keys, &self.graph, &mut items)?;
                    *self.graph.get_mut(index) = Obj::Set(items);
                }
                _ => unreachable!("a dict or set a moment ago"),
            }
        }
        let protocol = self.reader.protocol();
        Ok(Tree::new(std::mem::take(&mut self.graph), root, protocol, max_depth))
    }

    // ----- arguments -----

    /// The argument of `op`, read by the kind the table gives it. Always inlined: where
    /// `op` is a constant, the match on its kind folds away.
    #[inline(always)]
    fn arg(&mut self, op: Opcode) -> Result<Arg> {
        self.reader.arg(op, &mut self.budget)
    }

    /// Counts bytes against `max_alloc`.
    #[inline]
    fn charge(&mut self, bytes: u64) -> Result<()> {
        self.budget.charge(bytes)
    }

    // ----- the stack -----

    /// The topmost MARK's position: pops may not go below it.
    #[inline]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline]
    fn push(&mut self, item: Item) {
        self.stack.push(item);
    }

    #[inline]
    fn add(&mut self, obj: Obj) -> Result<Item> {
        self.charge(OBJECT_CHARGE)?;
        self.graph.add(obj)
    }

    #[inline]
    fn push_obj(&mut self, obj: Obj) -> Result<()> {
        let item = self.add(obj)?;
        self.push(item);
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> Result<Item> {
        if self.stack.len() <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        Ok(self.stack.pop().expect("the stack is above its fence"))
    }

    /// The top item, which must be above the fence.
    fn top(&self) -> Result<Item> {
        if self.stack.len() <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        Ok(*self.stack.last().expect("the stack is above its fence"))
    }

    /// Pops the topmost MARK and everything above it; returns what was above it.
    fn pop_mark(&mut self) -> Result<Vec<Item>> {
        let mark = self.marks.pop().ok_or_else(|| Error::new(ErrorKind::MarkNotFound))?;
        self.charge(SLOT_CHARGE * (self.stack.len() - mark) as u64)?;
        Ok(self.stack.split_off(mark))
    }

    /// The object at `index` of the stack, which must be at or above the fence (CPython's
    /// `x <= fence` check for APPENDS, SETITEMS, ADDITEMS and BUILD).
    fn target(&self, index: Option<usize>) -> Result<u32> {
        let index = index.filter(|&i| i >= self.fence()).ok_or_else(|| Error::new(ErrorKind::StackUnderflow))?;
        match self.stack[index] {
            Item::Obj(i) => Ok(i),
            other => Err(Error::unpickling(format!("cannot add items to {}", atom_name(other)))),
        }
    }

    // ----- opcodes -----

    /// One opcode. The opcodes bulk data is made of come first, one arm each, so the
    /// table's argument kind is a constant there (see [`Loader::arg`]) and each costs one
    /// dispatch, on its byte; with the kinds of shuffled data (ints of mixed sizes) a second
    /// dispatch, on the argument's kind, is a second mispredicted jump per value.
    #[inline(always)]
    fn step(&mut self, op: Opcode) -> Result<Flow> {
        match op {
            Opcode::Binint1 => self.op_int(Opcode::Binint1)?,
            Opcode::Binint2 => self.op_int(Opcode::Binint2)?,
            Opcode::Binint => self.op_int(Opcode::Binint)?,
            Opcode::Long1 => self.op_long(Opcode::Long1)?,
            Opcode::Binfloat => self.op_binfloat()?,
            Opcode::ShortBinunicode => self.op_unicode(Opcode::ShortBinunicode)?,
            Opcode::Binunicode => self.op_unicode(Opcode::Binunicode)?,
            Opcode::Memoize => self.op_put(Opcode::Memoize)?,
            Opcode::Binput => self.op_put(Opcode::Binput)?,
            Opcode::Binget => self.op_get(Opcode::Binget)?,
            _ => return self.dispatch(op),
        }
        Ok(Flow::Continue)
    }

    /// Every opcode; each arm reads its own argument, if it has one.
    fn dispatch(&mut self, op: Opcode) -> Result<Flow> {
        match op {
            Opcode::Stop => return Ok(Flow::Stop(self.pop()?)),
            // The reader took them whole: see `reader`.
            Opcode::Proto | Opcode::Frame => {}
            Opcode::Mark => self.marks.push(self.stack.len()),
            Opcode::Pop => self.op_pop()?,
            Opcode::PopMark => drop(self.pop_mark()?),
            Opcode::Dup => {
                let top = self.top()?;
                self.graph.maybe_shared = true;
                self.push(top);
            }

            Opcode::None => self.push(Item::None),
            Opcode::Newtrue => self.push(Item::Bool(true)),
            Opcode::Newfalse => self.push(Item::Bool(false)),
            Opcode::Binint | Opcode::Binint1 | Opcode::Binint2 => self.op_int(op)?,
            Opcode::Int => {
                let arg = self.arg(op)?;
                self.op_int_line(&line(arg))?
            }
            Opcode::Long => {
                let value = text::parse_long_line(&line(self.arg(op)?), self.options.max_digits)?;
                self.push_int(value)?;
            }
            Opcode::Long1 | Opcode::Long4 => self.op_long(op)?,
            Opcode::Float => {
                let value = text::parse_float_line(&line(self.arg(op)?))?;
                self.push(Item::Float(value));
            }
            Opcode::Binfloat => self.op_binfloat()?,

            Opcode::String => {
                let raw = text::parse_quoted_string(&line(self.arg(op)?))?;
                self.push_python2_string(raw)?;
            }
            Opcode::Binstring | Opcode::ShortBinstring => {
                let raw = args::data(self.arg(op)?);
                self.push_python2_string(raw)?
            }
            Opcode::Unicode => {
                let s = text::parse_raw_unicode_escape(&line(self.arg(op)?))?;
                self.push_obj(Obj::Str(s))?;
            }
            Opcode::Binunicode | Opcode::ShortBinunicode | Opcode::Binunicode8 => self.op_unicode(op)?,
            Opcode::Binbytes | Opcode::ShortBinbytes | Opcode::Binbytes8 => {
                let bytes = args::data(self.arg(op)?);
                self.push_obj(Obj::Bytes(bytes))?
            }
            Opcode::Bytearray8 => {
                let bytes = args::data(self.arg(op)?);
                self.push_obj(Obj::ByteArray(bytes))?
            }

            Opcode::EmptyTuple => self.push_obj(Obj::Tuple(Vec::new()))?,
            Opcode::Tuple => {
                let items = self.pop_mark()?;
                self.push_obj(Obj::Tuple(items))?;
            }
            Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3 => {
                let n = op.code() as usize - Opcode::Tuple1.code() as usize + 1;
                if self.stack.len() < self.fence() + n {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push_obj(Obj::Tuple(items))?;
            }
            Opcode::EmptyList => self.push_obj(Obj::List(Vec::new()))?,
            Opcode::List => {
                let items = self.pop_mark()?;
                self.push_obj(Obj::List(items))?;
            }
            Opcode::EmptyDict => self.push_obj(Obj::Dict(Vec::new()))?,
            Opcode::Dict => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(Error::unpickling("odd number of items for DICT"));
                }
                self.push_obj(Obj::Dict(pairs(items)))?;
            }
            Opcode::EmptySet => self.push_obj(Obj::Set(Vec::new()))?,
            Opcode::Frozenset => {
                let items = self.pop_mark()?;
                self.push_obj(Obj::FrozenSet(items))?;
            }
            Opcode::Append => {
                self.charge(SLOT_CHARGE)?;
                let value = self.pop()?;
                let target = self.target(self.stack.len().checked_sub(1))?;
                match self.graph.get_mut(target) {
                    Obj::List(list) => list.push(value),
                    Obj::Object(o) => o.list_items.push(value),
                    other => return Err(no_attribute(other, "append")),
                }
            }
            Opcode::Setitem => {
                self.charge(2 * SLOT_CHARGE)?;
                let value = self.pop()?;
                let key = self.pop()?;
                let target = self.target(self.stack.len().checked_sub(1))?;
                match self.graph.get_mut(target) {
                    Obj::Dict(pairs) => pairs.push((key, value)),
                    Obj::Object(o) => o.dict_items.push((key, value)),
                    other => return Err(no_item_assignment(other)),
                }
            }
            Opcode::Appends | Opcode::Setitems | Opcode::Additems => self.items_into_target(op)?,

            Opcode::Get | Opcode::Binget | Opcode::LongBinget => self.op_get(op)?,
            Opcode::Put | Opcode::Binput | Opcode::LongBinput | Opcode::Memoize => self.op_put(op)?,

            Opcode::Global => {
                let Arg::Pair(module, name) = self.arg(op)? else { unreachable!() };
                let global = self.global(utf8(&module, "GLOBAL")?, utf8(&name, "GLOBAL")?)?;
                self.push_global(global)?;
            }
            Opcode::StackGlobal => {
                let name_item = self.pop()?;
                let module_item = self.pop()?;
                let (Some(module), Some(name)) = (self.str_of(module_item), self.str_of(name_item)) else {
                    return Err(Error::unpickling("STACK_GLOBAL requires str"));
                };
                let (module, name) = (module.to_owned(), name.to_owned());
                let fresh_names = self.names_are_fresh((module_item, &module), (name_item, &name));
                let global = Global { fresh_names, ..self.global(module, name)? };
                self.push_global(global)?;
            }
            Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4 => {
                let Arg::Int(code) = self.arg(op)? else { unreachable!() };
                if code <= 0 {
                    return Err(Error::unpickling("EXT specifies code <= 0"));
                }
                let global = self
                    .hooks
                    .extensions
                    .get(&(code as i32))
                    .cloned()
                    .ok_or_else(|| Error::unpickling(format!("unregistered extension code {code}")))?;
                self.push_global(global)?;
            }

            Opcode::Reduce => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.require_callable(callable)?;
                self.require_tuple(args, "REDUCE argument list must be a tuple")?;
                let obj = match self.rebuild_builtin(callable, args) {
                    Some(Obj::Global(nested)) => {
                        self.admit(&nested)?;
                        Obj::Global(nested)
                    }
                    Some(obj) => obj,
                    None => Obj::Object(Box::new(object(callable, args))),
                };
                self.push_obj(obj)?;
            }
            Opcode::Newobj => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.require_tuple(args, "NEWOBJ expected an arg tuple.")?;
                self.require_class(cls, "NEWOBJ class argument isn't a type object")?;
                let mut all = vec![cls];
                all.extend(self.tuple_items(args));
                let args = self.add(Obj::Tuple(all))?;
                let callable = self.copyreg_global(false)?;
                self.push_obj(Obj::Object(Box::new(object(callable, args))))?;
            }
            Opcode::NewobjEx => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                self.require_tuple(args, "NEWOBJ_EX args argument must be a tuple")?;
                if !matches!(kwargs, Item::Obj(i) if matches!(self.graph.get(i), Obj::Dict(_))) {
                    return Err(Error::unpickling("NEWOBJ_EX kwargs argument must be a dict"));
                }
                self.require_class(cls, "NEWOBJ_EX class argument must be a type")?;
                let args = self.add(Obj::Tuple(vec![cls, args, kwargs]))?;
                let callable = self.copyreg_global(true)?;
                self.push_obj(Obj::Object(Box::new(object(callable, args))))?;
            }
            Opcode::Build => {
                let state = self.pop()?;
                let target = self.target(self.stack.len().checked_sub(1))?;
                match self.graph.get_mut(target) {
                    Obj::Object(o) => o.state = Some(state),
                    other => {
                        return Err(Error::unpickling(format!("BUILD on a {}, which has no state", other.type_name())))
                    }
                }
            }
            Opcode::Inst => {
                let Arg::Pair(module, name) = self.arg(op)? else { unreachable!() };
                let args = self.pop_mark()?;
                let global = self.global(utf8(&module, "INST")?, utf8(&name, "INST")?)?;
                self.admit(&global)?;
                let cls = self.add(Obj::Global(Box::new(global)))?;
                let args = self.add(Obj::Tuple(args))?;
                self.push_obj(Obj::Object(Box::new(object(cls, args))))?;
            }
            Opcode::Obj => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                let cls = items.remove(0);
                self.require_callable(cls)?;
                let args = self.add(Obj::Tuple(items))?;
                self.push_obj(Obj::Object(Box::new(object(cls, args))))?;
            }

            Opcode::Persid => {
                let id = line(self.arg(op)?);
                let id = std::str::from_utf8(&id)
                    .ok()
                    .filter(|s| s.is_ascii())
                    .ok_or_else(|| Error::unpickling("persistent IDs in protocol 0 must be ASCII strings"))?;
                let pid = self.add(Obj::Str(PyString::from(id)))?;
                self.persistent_load(pid)?;
            }
            Opcode::Binpersid => {
                let pid = self.pop()?;
                self.persistent_load(pid)?;
            }
            Opcode::NextBuffer => {
                let buffers = self.hooks.buffers.as_mut().ok_or_else(|| {
                    Error::unpickling("pickle stream refers to out-of-band data but no *buffers* argument was given")
                })?;
                let buffer = buffers.next().ok_or_else(|| Error::unpickling("not enough out-of-band buffers"))?;
                let item = self.insert_value(&buffer)?;
                self.push(item);
            }
            Opcode::ReadonlyBuffer => {
                let top = self.top()?;
                match top {
                    Item::Obj(i) => match self.graph.get_mut(i) {
                        Obj::ByteArray(b) => {
                            let bytes = std::mem::take(b);
                            let item = self.add(Obj::Bytes(bytes))?;
                            *self.stack.last_mut().expect("top exists") = item;
                        }
                        Obj::Bytes(_) => {}
                        other => {
                            return Err(Error::unpickling(format!(
                                "a bytes-like object is required, not '{}'",
                                other.type_name()
                            )))
                        }
                    },
                    other => {
                        return Err(Error::unpickling(format!(
                            "a bytes-like object is required, not '{}'",
                            atom_name(other)
                        )))
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// CPython's `load_pop`: a MARK on top of the stack is popped instead of an object.
    fn op_pop(&mut self) -> Result<()> {
        if self.marks.last() == Some(&self.stack.len()) {
            self.marks.pop();
            return Ok(());
        }
        let popped = self.pop()?;
        self.record_state_setter(popped);
        Ok(())
    }

    /// `save_reduce` applies a state setter by writing `setter, obj, state, TUPLE2, REDUCE,
    /// POP`: a call whose result is thrown away. Executing nothing, the loader would lose
    /// the state with it, so when the object just popped is such a call, made by the last
    /// two opcodes that built objects and kept nowhere, it is recorded on its target as
    /// `state` and `state_setter`.
    fn record_state_setter(&mut self, popped: Item) {
        let Item::Obj(call) = popped else { return };
        if call + 1 != self.graph.len() {
            return;
        }
        let Obj::Object(o) = self.graph.get(call) else { return };
        let plain_call = o.state.is_none() && o.list_items.is_empty() && o.dict_items.is_empty();
        let (Item::Obj(args), callable) = (o.args, o.callable) else { return };
        if !plain_call || args + 2 != self.graph.len() {
            return;
        }
        let Obj::Tuple(pair) = self.graph.get(args) else { return };
        let &[Item::Obj(target), state] = pair.as_slice() else { return };
        if let Obj::Object(t) = self.graph.get_mut(target) {
            if t.state.is_none() && t.state_setter.is_none() {
                t.state = Some(state);
                t.state_setter = Some(callable);
                *self.graph.get_mut(call) = Obj::Taken;
            }
        }
    }

    /// BININT, BININT1, BININT2.
    #[inline(always)]
    fn op_int(&mut self, op: Opcode) -> Result<()> {
        let Arg::Int(i) = self.arg(op)? else { unreachable!("the table gives these an int argument") };
        self.push(Item::Int(i));
        Ok(())
    }

    /// LONG1 and LONG4: up to 8 bytes are read as an `i64` (see `args`), longer ones as a
    /// `BigInt` that becomes an int object only if it does not fit one.
    #[inline(always)]
    fn op_long(&mut self, op: Opcode) -> Result<()> {
        let bytes = match self.arg(op)? {
            Arg::Int(small) => {
                self.push(Item::Int(small));
                return Ok(());
            }
            arg => args::data(arg),
        };
        self.push_int(Int::from_signed_le(&bytes))
    }

    #[inline(always)]
    fn op_binfloat(&mut self) -> Result<()> {
        let Arg::Float(f) = self.arg(Opcode::Binfloat)? else { unreachable!("BINFLOAT has a float argument") };
        self.push(Item::Float(f));
        Ok(())
    }

    /// SHORT_BINUNICODE, BINUNICODE, BINUNICODE8: UTF-8 with lone surrogates let through,
    /// as CPython's `surrogatepass`.
    #[inline(always)]
    fn op_unicode(&mut self, op: Opcode) -> Result<()> {
        let s = match self.arg(op)? {
            Arg::Text(s) => s,
            arg => PyString::from_surrogatepass_vec(args::data(arg))
                .map_err(|e| Error::unpickling(format!("'utf-8' codec can't decode the str payload: {e}")))?,
        };
        self.push_obj(Obj::Str(s))
    }

    /// GET, BINGET, LONG_BINGET.
    #[inline(always)]
    fn op_get(&mut self, op: Opcode) -> Result<()> {
        let index = match self.arg(op)? {
            Arg::Line(l) => text::parse_index_line(&l, "GET")? as u64,
            Arg::Int(i) => i as u64,
            _ => unreachable!("the table gives GETs an index"),
        };
        let item = *self.memo.get(index).ok_or_else(|| Error::new(ErrorKind::MemoNotFound(index)))?;
        self.graph.maybe_shared = true;
        self.push(item);
        Ok(())
    }

    /// PUT, BINPUT, LONG_BINPUT, and MEMOIZE, which puts at the memo's length.
    #[inline(always)]
    fn op_put(&mut self, op: Opcode) -> Result<()> {
        let index = match self.arg(op)? {
            Arg::Line(l) => {
                let i = text::parse_index_line(&l, "PUT")?;
                u64::try_from(i).map_err(|_| Error::unpickling("negative PUT argument"))?
            }
            Arg::Int(i) => i as u64,
            _ => self.memo.len(),
        };
        let top = self.top()?;
        self.memo.put(index, top, self.options.max_memo)
    }

    /// INT: `I00`/`I01` are the booleans of protocols 0 and 1; otherwise an int.
    fn op_int_line(&mut self, line: &[u8]) -> Result<()> {
        match line {
            b"00" => self.push(Item::Bool(false)),
            b"01" => self.push(Item::Bool(true)),
            _ => {
                let value = text::parse_int_line(line, self.options.max_digits)?;
                self.push_int(value)?;
            }
        }
        Ok(())
    }

    fn push_int(&mut self, value: Int) -> Result<()> {
        match value {
            Int::Small(i) => self.push(Item::Int(i)),
            Int::Big(b) => self.push_obj(Obj::BigInt(b))?,
        }
        Ok(())
    }

    /// A Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING), decoded by `encoding`.
    fn push_python2_string(&mut self, raw: Vec<u8>) -> Result<()> {
        let obj = match self.options.encoding {
            Encoding::Bytes => Obj::Bytes(raw),
            Encoding::Latin1 => {
                Obj::Str(PyString::from_code_points(raw.iter().map(|&b| u32::from(b))).expect("Latin-1"))
            }
            Encoding::Ascii => Obj::Str(decode_python2(&raw, self.options.errors, false)?),
            Encoding::Utf8 => Obj::Str(decode_python2(&raw, self.options.errors, true)?),
        };
        self.push_obj(obj)
    }

    /// APPENDS, SETITEMS and ADDITEMS: the items above the topmost MARK go into the object
    /// just below it, straight from the stack.
    fn items_into_target(&mut self, op: Opcode) -> Result<()> {
        let mark = self.marks.pop().ok_or_else(|| Error::new(ErrorKind::MarkNotFound))?;
        let count = self.stack.len() - mark;
        if op == Opcode::Setitems && count % 2 != 0 {
            return Err(Error::unpickling("odd number of items for SETITEMS"));
        }
        self.charge(SLOT_CHARGE * count as u64)?;
        let target = self.target(mark.checked_sub(1))?;
        let items = &self.stack[mark..];
        match (op, self.graph.get_mut(target)) {
            (Opcode::Appends, Obj::List(list)) => list.extend_from_slice(items),
            (Opcode::Appends, Obj::Object(o)) => o.list_items.extend_from_slice(items),
            (Opcode::Setitems, Obj::Dict(pairs)) => pairs.extend(pairs_of(items)),
            (Opcode::Setitems, Obj::Object(o)) => o.dict_items.extend(pairs_of(items)),
            (Opcode::Additems, Obj::Set(set)) => set.extend_from_slice(items),
            (Opcode::Appends, other) => return Err(no_attribute(other, "extend")),
            (Opcode::Setitems, other) => return Err(no_item_assignment(other)),
            (_, other) => return Err(no_attribute(other, "add")),
        }
        self.stack.truncate(mark);
        Ok(())
    }

    /// Whether a STACK_GLOBAL's names were made afresh: see [`GlobalNames`].
    fn names_are_fresh(&mut self, (module_item, module): (Item, &str), (name_item, name): (Item, &str)) -> bool {
        let (Item::Obj(m), Item::Obj(n)) = (module_item, name_item) else { return false };
        self.global_names.fresh((module, m as usize), (name, n as usize))
    }

    /// A global as `find_class` names it: Python 2 names mapped below protocol 3.
    fn global(&self, module: String, name: String) -> Result<Global> {
        global(self.reader.proto(), self.options.fix_imports, module, name)
    }

    /// Refuses a global the class policy does not allow.
    fn admit(&self, global: &Global) -> Result<()> {
        match &self.options.class_policy {
            Some(policy) => policy.admit(global),
            None => Ok(()),
        }
    }

    /// Pushes a global the pickle names, if the class policy allows it.
    fn push_global(&mut self, global: Global) -> Result<()> {
        self.admit(&global)?;
        self.push_obj(Obj::Global(Box::new(global)))
    }

    fn copyreg_global(&mut self, ex: bool) -> Result<Item> {
        let cached = if ex { self.newobj_ex } else { self.newobj };
        if let Some(item) = cached {
            self.graph.maybe_shared = true;
            return Ok(item);
        }
        let name = if ex { "__newobj_ex__" } else { "__newobj__" };
        let item = self.add(Obj::Global(Box::new(Global::new("copyreg", name))))?;
        if ex {
            self.newobj_ex = Some(item);
        } else {
            self.newobj = Some(item);
        }
        Ok(item)
    }

    fn str_of(&self, item: Item) -> Option<&str> {
        match item {
            Item::Obj(i) => match self.graph.get(i) {
                Obj::Str(s) => s.as_str(),
                _ => None,
            },
            _ => None,
        }
    }

    fn tuple_items(&self, item: Item) -> Vec<Item> {
        match item {
            Item::Obj(i) => match self.graph.get(i) {
                Obj::Tuple(items) => items.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn require_tuple(&self, item: Item, message: &str) -> Result<()> {
        match item {
            Item::Obj(i) if matches!(self.graph.get(i), Obj::Tuple(_)) => Ok(()),
            _ => Err(Error::unpickling(message)),
        }
    }

    /// What could be a class: a global (not one of the builtins known to be no class), or
    /// an object some reduction built.
    fn require_class(&self, item: Item, message: &str) -> Result<()> {
        if let Item::Obj(i) = item {
            match self.graph.get(i) {
                Obj::Global(g) if compat::is_no_class(&g.module, &g.name) => {}
                Obj::Global(_) | Obj::Object(_) | Obj::PersistentId(_) => return Ok(()),
                _ => {}
            }
        }
        Err(Error::unpickling(message))
    }

    /// What could be called: a global, or an object some reduction built (which may have
    /// `__call__`). Anything else fails as CPython's call would.
    fn require_callable(&self, item: Item) -> Result<()> {
        let type_name = match item {
            Item::Obj(i) => match self.graph.get(i) {
                Obj::Global(_) | Obj::Object(_) | Obj::PersistentId(_) => return Ok(()),
                other => other.type_name(),
            },
            other => atom_name(other),
        };
        Err(Error::unpickling(format!("'{type_name}' object is not callable")))
    }

    /// The reductions CPython itself writes for builtins below the protocol that has an
    /// opcode for them, rebuilt as those builtins without calling anything:
    /// `_codecs.encode(s, 'latin1')` and `bytes()` for bytes, `bytearray(...)`,
    /// `set(list)`, `frozenset(list)`, and `getattr(global, name)` for a nested global.
    fn rebuild_builtin(&self, callable: Item, args: Item) -> Option<Obj> {
        if !self.options.builtin_reductions {
            return None;
        }
        let Item::Obj(c) = callable else { return None };
        let Obj::Global(g) = self.graph.get(c) else {
            return None;
        };
        let args = self.tuple_items(args);
        let str_arg = |i: usize| match args.get(i)? {
            Item::Obj(o) => match self.graph.get(*o) {
                Obj::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        };
        let is_latin1_name =
            |s: Option<&PyString>| s.and_then(PyString::as_str).is_some_and(crate::value::is_latin1_codec);
        let items_of = |i: usize| match args.get(i)? {
            Item::Obj(o) => match self.graph.get(*o) {
                Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => Some(v.clone()),
                _ => None,
            },
            _ => None,
        };
        match (g.module.as_str(), g.name.as_str(), args.len()) {
            ("_codecs", "encode", 2) if is_latin1_name(str_arg(1)) => str_arg(0)?.to_latin1().map(Obj::Bytes),
            ("builtins", "bytes", 0) => Some(Obj::Bytes(Vec::new())),
            ("builtins", "bytearray", 0) => Some(Obj::ByteArray(Vec::new())),
            ("builtins", "bytearray", 1) => match args[0] {
                Item::Obj(o) => match self.graph.get(o) {
                    Obj::Bytes(b) => Some(Obj::ByteArray(b.clone())),
                    _ => None,
                },
                _ => None,
            },
            ("builtins", "bytearray", 2) if is_latin1_name(str_arg(1)) => str_arg(0)?.to_latin1().map(Obj::ByteArray),
            // How CPython writes a nested qualname below protocol 4 (`save_global`).
            ("builtins", "getattr", 2) => match (args[0], str_arg(1).and_then(PyString::as_str)) {
                (Item::Obj(o), Some(attr)) => match self.graph.get(o) {
                    Obj::Global(parent) => {
                        Some(Obj::Global(Box::new(Global::new(&*parent.module, format!("{}.{attr}", parent.name)))))
                    }
                    _ => None,
                },
                _ => None,
            },
            ("builtins", "set", 0) => Some(Obj::Set(Vec::new())),
            ("builtins", "set", 1) => items_of(0).map(Obj::Set),
            ("builtins", "frozenset", 0) => Some(Obj::FrozenSet(Vec::new())),
            ("builtins", "frozenset", 1) => items_of(0).map(Obj::FrozenSet),
            _ => None,
        }
    }

    fn persistent_load(&mut self, pid: Item) -> Result<()> {
        let item =
            match &mut self.hooks.persistent_load {
                PersistentLoad::Refuse => return Err(Error::unpickling(
                    "A load persistent id instruction was encountered,\nbut no persistent_load function was specified.",
                )),
                PersistentLoad::Keep => self.add(Obj::PersistentId(pid))?,
                PersistentLoad::Typed(_) => {
                    let id = self.graph.snapshot(pid, 0)?;
                    let PersistentLoad::Typed(hook) = &mut self.hooks.persistent_load else { unreachable!() };
                    let object = hook(id)?;
                    let item = self.add(Obj::PersistentId(pid))?;
                    self.graph.attach(item, object);
                    item
                }
                PersistentLoad::Call(_) => {
                    let id = self.graph.snapshot(pid, 0)?;
                    let PersistentLoad::Call(hook) = &mut self.hooks.persistent_load else { unreachable!() };
                    let value = hook(id)?;
                    self.insert_value(&value)?
                }
            };
        self.push(item);
        Ok(())
    }

    fn insert_value(&mut self, value: &Value) -> Result<Item> {
        let mut nodes = HashMap::new();
        self.graph.insert(value, &mut nodes, 0)
    }
}

fn object(callable: Item, args: Item) -> ObjectNode {
    ObjectNode { callable, args, state: None, list_items: Vec::new(), dict_items: Vec::new(), state_setter: None }
}

fn pairs(items: Vec<Item>) -> Vec<(Item, Item)> {
    pairs_of(&items).collect()
}

/// Consecutive items as (key, value) pairs; an odd last item is left out. From a slice,
/// so that the pairs' container is sized once.
fn pairs_of(items: &[Item]) -> impl ExactSizeIterator<Item = (Item, Item)> + '_ {
    items.chunks_exact(2).map(|pair| (pair[0], pair[1]))
}

fn no_attribute(obj: &Obj, attribute: &str) -> Error {
    Error::unpickling(format!("'{}' object has no attribute '{attribute}'", obj.type_name()))
}

fn no_item_assignment(obj: &Obj) -> Error {
    Error::unpickling(format!("'{}' object does not support item assignment", obj.type_name()))
}

fn line(arg: Arg) -> Vec<u8> {
    match arg {
        Arg::Line(l) => l,
        _ => unreachable!("the opcode table gives this opcode a line argument"),
    }
}

fn utf8(bytes: &[u8], opcode: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::unpickling(format!("{opcode} names must be UTF-8")))
}

fn atom_name(item: Item) -> &'static str {
    match item {
        Item::None => "NoneType",
        Item::Bool(_) => "bool",
        Item::Int(_) => "int",
        Item::Float(_) => "float",
        Item::Obj(_) => "object",
    }
}

/// A Python 2 `str` decoded as ASCII or UTF-8 with CPython's error handlers.
fn decode_python2(raw: &[u8], errors: StringErrors, utf8: bool) -> Result<PyString> {
    let codec = if utf8 { "utf-8" } else { "ascii" };
    let mut points = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        let valid = if utf8 {
            match std::str::from_utf8(rest) {
                Ok(s) => s.len(),
                Err(e) => e.valid_up_to(),
            }
        } else {
            rest.iter().position(|&b| b >= 0x80).unwrap_or(rest.len())
        };
        let text = std::str::from_utf8(&rest[..valid]).expect("checked above");
        points.extend(text.chars().map(|c| c as u32));
        rest = &rest[valid..];
        let Some(&bad) = rest.first() else { break };
        match errors {
            StringErrors::Strict => {
                let position = raw.len() - rest.len();
                return Err(Error::unpickling(format!(
                    "'{codec}' codec can't decode byte {bad:#04x} in position {position}"
                )));
            }
            StringErrors::Replace => points.push(0xFFFD),
            StringErrors::Ignore => {}
            StringErrors::SurrogateEscape => points.push(0xDC00 + u32::from(bad)),
        }
        rest = &rest[1..];
    }
    Ok(PyString::from_code_points(points).expect("code points are valid"))
}
