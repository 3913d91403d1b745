//! The pickler proper: CPython's `save()` and the functions it dispatches to.
//!
//! Each function names the CPython function it mirrors (`Modules/_pickle.c`, with
//! `Lib/pickle.py` where they agree). The byte-for-byte interop tests hold it to that.

use std::borrow::Cow;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::hooks::Hooks;
use super::memo::{Content, Memo, MemoKey};
use super::output::Output;
use super::Copier;
use super::PicklerOptions;
use crate::compat;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Item;
use crate::opcode::{Opcode, BATCH_SIZE};
use crate::reduce::{Arg, Atom, Builtin, Call, Fast, GlobalName, Mapping, Name, Reduce, Reduction, Sequence};
use crate::value::{float_repr, PyString, Value};

#[cfg(feature = "serde")]
mod push;
mod value;

#[cfg(feature = "serde")]
pub(crate) use push::{Pushed, Shape};

/// CPython 3.11's default `sys.get_int_max_str_digits()`: the longest int, in decimal
/// digits, that `repr` converts (and so that protocols 0 and 1 can write).
const MAX_STR_DIGITS: usize = 4300;

pub(crate) struct Saver<'w> {
    out: Output<'w>,
    hooks: &'w mut Hooks,
    /// Set while a persistent id itself is saved: CPython does not ask `persistent_id`
    /// about it (`save(pid, save_persistent_id=False)`).
    saving_pid: bool,
    memo: Memo,
    proto: u8,
    fix_imports: bool,
    depth: usize,
    max_depth: usize,
    /// Whether no hook can have a say about any object (no `persistent_id`, dispatch table
    /// or `reducer_override`): then [`Value`]s take their own path ([`value`]).
    unhooked: bool,
}

impl<'w> Saver<'w> {
    pub(crate) fn new(out: Output<'w>, hooks: &'w mut Hooks, options: &PicklerOptions) -> Result<Saver<'w>> {
        if options.protocol > crate::HIGHEST_PROTOCOL {
            return Err(ErrorKind::UnsupportedProtocol(options.protocol).into());
        }
        Ok(Saver {
            out,
            saving_pid: false,
            memo: Memo::new(),
            proto: options.protocol,
            fix_imports: options.fix_imports,
            depth: 0,
            max_depth: options.max_depth,
            unhooked: hooks.persistent_id.is_none() && hooks.no_dispatch() && hooks.reducer_override.is_none(),
            hooks,
        })
    }

    /// CPython's `dump()`: PROTO, the object, STOP, and the last frame.
    pub(crate) fn dump<T: Reduce + ?Sized>(self, obj: &T) -> Result<Vec<u8>> {
        self.dump_by(|saver| saver.save(obj))
    }

    /// [`Saver::dump`] of what `save` writes: one object, by whichever path.
    pub(crate) fn dump_by(mut self, save: impl FnOnce(&mut Self) -> Result<()>) -> Result<Vec<u8>> {
        if self.proto >= 2 {
            self.out.op_arg(Opcode::Proto, &[self.proto]);
        }
        if self.proto >= 4 {
            self.out.start_framing();
        }
        save(&mut self).map_err(|e| {
            let written = self.out.position();
            e.after_written(written)
        })?;
        self.out.op(Opcode::Stop);
        self.out.finish()
    }

    /// CPython's `save()`: the memo first, then the object's own reduction.
    ///
    /// Atoms are written on the spot. Everything else may recurse, so it counts against
    /// the depth limit and runs on a stack that `stacker` extends on the heap when little
    /// is left: deep values fail with `RecursionLimit`, never a stack overflow.
    ///
    /// Inlined into the loops over items, with the atoms' path, which most items of bulk
    /// data take; the rest is [`Saver::save_object`].
    #[inline(always)]
    pub(crate) fn save<T: Reduce + ?Sized>(&mut self, obj: &T) -> Result<()> {
        self.out.object_boundary()?;
        let fast = obj.fast();
        match (fast, &self.hooks.persistent_id) {
            // Atoms first, as CPython's `save` writes exact builtins: no memo, no reducers,
            // and only a `persistent_id` hook may have a say.
            (Fast::Atom(atom), None) => {
                self.saving_pid = false;
                self.save_atom(atom)
            }
            // So are strs without identity, where no dispatch table entry could replace them.
            (Fast::Str(utf8), None) if self.hooks.no_dispatch() => {
                self.saving_pid = false;
                self.save_str(utf8, None, MemoKey { identity: None, content: Content::str_singleton(utf8) })
            }
            (Fast::UnsharedStr(text), None) if self.hooks.no_dispatch() => {
                self.saving_pid = false;
                self.save_str(text.as_bytes(), None, MemoKey::default())
            }
            _ => self.save_object(obj, fast),
        }
    }

    /// [`Saver::save`] past the atoms: the memo, hooks and the object's reduction. With no
    /// hook to consult, `Value`s and names need no reduction either.
    fn save_object<T: Reduce + ?Sized>(&mut self, obj: &T, fast: Fast<'_>) -> Result<()> {
        match fast {
            Fast::Value(value) if self.unhooked => self.save_value_object(value),
            Fast::StaticName(name) if self.unhooked => self.save_static_name(name),
            Fast::Name(name) if self.unhooked => self.save_name(name),
            _ => self.save_object_by_reduction(obj),
        }
    }

    /// An interned name ([`Name`]) as its reduction, `Builtin::Name`, is written, without
    /// the reduction: memoized by content, and counted against the depth limit as every
    /// object the general path reduces is. A struct's field names are most of them.
    fn save_name(&mut self, name: &str) -> Result<()> {
        self.within_depth()?;
        self.save_str(name.as_bytes(), None, MemoKey { identity: None, content: Some(Content::name(name)) })
    }

    /// [`Saver::save_name`] of a `'static` name, found again by its address before its text
    /// is hashed: the keys of a derived dict struct, written once per value, are most of it.
    fn save_static_name(&mut self, name: &'static str) -> Result<()> {
        if let Some(index) = self.memo.get_static_name(name) {
            self.within_depth()?;
            return self.write_get(index);
        }
        self.save_name(name)?;
        let index = self.memo.get(&MemoKey { identity: None, content: Some(Content::name(name)) });
        self.memo.note_static_name(name, index.expect("a name just written is in the memo"));
        Ok(())
    }

    /// [`Saver::save_object`] by the object's reduction, with every hook consulted.
    fn save_object_by_reduction<T: Reduce + ?Sized>(&mut self, obj: &T) -> Result<()> {
        let saving_pid = std::mem::take(&mut self.saving_pid);
        let asks_persistent_id = self.hooks.persistent_id.is_some() && !saving_pid;
        let identity = obj.identity();
        let memoized = identity.and_then(|id| self.memo.get_identity(id));
        if let (Some(index), false) = (memoized, asks_persistent_id) {
            return self.write_get(index);
        }
        let mut reduction = match self.hooks.dispatch(obj, self.proto) {
            Some(reduction) => reduction?,
            None => obj.reduce_ex(self.proto)?,
        };
        if asks_persistent_id {
            let hook = self.hooks.persistent_id.as_mut().expect("checked above");
            if let Some(pid) = hook(obj.as_any(), &reduction)? {
                return self.save_pers(&pid);
            }
            if let Some(index) = memoized {
                return self.write_get(index);
            }
        }
        match reduction {
            Reduction::Builtin(Builtin::None) => self.save_atom(Atom::None)?,
            Reduction::Builtin(Builtin::Bool(v)) => self.save_atom(Atom::Bool(v))?,
            Reduction::Builtin(Builtin::Int(v)) => self.save_atom(Atom::Int(v))?,
            Reduction::Builtin(Builtin::Float(v)) => self.save_atom(Atom::Float(v))?,
            // A str the hooks have seen, which is no singleton even when CPython's would be.
            Reduction::Builtin(Builtin::Str(ref s)) if matches!(obj.fast(), Fast::UnsharedStr(_)) => {
                self.save_str(s.as_bytes(), None, MemoKey::default())?
            }
            _ => {
                if let (Some(hook), false) =
                    (self.hooks.reducer_override.as_mut(), matches!(reduction, Reduction::Builtin(_)))
                {
                    if let Some(replaced) = hook.reducer_override(obj.as_any(), &reduction, self.proto)? {
                        reduction = replaced;
                    }
                }
                self.within_depth()?;
                self.depth += 1;
                let class = match &reduction {
                    Reduction::Call(_) => obj.python_class(),
                    _ => None,
                };
                crate::stack::grow(|| self.save_reduction(reduction, identity, class.as_ref()))?;
                self.depth -= 1;
            }
        }
        Ok(())
    }

    /// Refuses an object one level deeper than the limit allows, as CPython's recursion
    /// limit does: every object the general path reduces is counted.
    #[inline]
    fn within_depth(&self) -> Result<()> {
        match self.depth >= self.max_depth {
            true => Err(ErrorKind::RecursionLimit(self.max_depth).into()),
            false => Ok(()),
        }
    }

    /// Writes None, a bool, an int or a float.
    #[inline(always)]
    fn save_atom(&mut self, atom: Atom) -> Result<()> {
        match atom {
            Atom::None => self.out.op(Opcode::None),
            Atom::Bool(v) => self.save_bool(v),
            Atom::Int(v) => self.save_int(v),
            Atom::Float(v) => self.save_float(v),
        }
        Ok(())
    }

    fn save_reduction(
        &mut self,
        reduction: Reduction<'_>,
        identity: Option<usize>,
        class: Option<&GlobalName<'_>>,
    ) -> Result<()> {
        match reduction {
            Reduction::Builtin(b) => self.save_builtin(b, identity),
            Reduction::Global(g) => self.save_global(&g, identity),
            Reduction::Call(call) => self.save_reduce(*call, MemoKey { identity, content: None }, class),
            Reduction::As(other) => {
                let inner = other.identity();
                if let Some(index) = inner.and_then(|id| self.memo.get_identity(id)) {
                    return self.write_get(index);
                }
                let reduction = other.reduce_ex(self.proto)?;
                let class = other.python_class();
                self.save_reduction(reduction, identity.or(inner), class.as_ref())
            }
        }
    }

    fn save_builtin(&mut self, b: Builtin<'_>, identity: Option<usize>) -> Result<()> {
        let key = |content| MemoKey { identity, content };
        match b {
            Builtin::None => self.out.op(Opcode::None),
            Builtin::Bool(v) => self.save_bool(v),
            Builtin::Int(v) => self.save_int(v),
            Builtin::BigInt(v) => self.save_bigint(&v)?,
            Builtin::Float(v) => self.save_float(v),
            Builtin::Str(s) => return self.save_str(s.as_bytes(), None, key(Content::str_singleton(s.as_bytes()))),
            Builtin::PyStr(s) => {
                let bytes = s.as_surrogatepass_bytes();
                return self.save_str(bytes, s.inline_buffer(), key(Content::str_singleton(bytes)));
            }
            Builtin::Name(s) => return self.save_str(s.as_bytes(), None, key(Some(Content::name(s)))),
            Builtin::Bytes(b) => return self.save_bytes(b, key(Content::bytes_singleton(b))),
            Builtin::UnsharedBytes(b) => return self.save_bytes(b, key(None)),
            Builtin::ByteArray(b) => return self.save_bytearray(b, key(None)),
            Builtin::Tuple(items) => return self.save_tuple(items, key(None)),
            Builtin::List(items) => return self.save_list(items, key(None)),
            Builtin::Dict(pairs) => return self.save_dict(pairs, key(None)),
            Builtin::Set(items) => return self.save_set(items, key(None)),
            Builtin::FrozenSet(items) => return self.save_frozenset(items, key(None)),
            Builtin::PersistentId(pid) => return self.save_pers(pid),
        }
        Ok(())
    }

    // ----- memo -----

    /// CPython's `memo_put`: records the object and writes PUT, BINPUT or MEMOIZE.
    fn memo_put(&mut self, key: &MemoKey<'_>) -> Result<u64> {
        let index = self.memo.put(key);
        // MEMOIZE, or BINPUT, inline; the rest, with its error and text paths, out of line.
        match u8::try_from(index) {
            _ if self.proto >= 4 => self.out.op(Opcode::Memoize),
            Ok(small) if self.proto >= 1 => self.out.op_arg(Opcode::Binput, &[small]),
            _ => self.write_memo_index(index, Opcode::Put, Opcode::LongBinput)?,
        }
        Ok(index)
    }

    /// CPython's `memo_get`: writes GET, BINGET or LONG_BINGET. BINGET, which shared dict
    /// keys mostly are, inline; the rest, with its error and text paths, out of line.
    #[inline]
    fn write_get(&mut self, index: u64) -> Result<()> {
        match u8::try_from(index) {
            Ok(small) if self.proto >= 1 => {
                self.out.op_arg(Opcode::Binget, &[small]);
                Ok(())
            }
            _ => self.write_memo_index(index, Opcode::Get, Opcode::LongBinget),
        }
    }

    /// A memo opcode's rare forms: PUT or GET (`text`) at protocol 0, LONG_BINPUT or
    /// LONG_BINGET (`long`) for an index past 255.
    #[cold]
    fn write_memo_index(&mut self, index: u64, text: Opcode, long: Opcode) -> Result<()> {
        if self.proto == 0 {
            self.out.op_arg(text, format!("{index}\n").as_bytes());
            return Ok(());
        }
        let index =
            u32::try_from(index).map_err(|_| Error::pickling(format!("memo id too large for {}", long.info().name)))?;
        self.out.op_arg(long, &index.to_le_bytes());
        Ok(())
    }

    /// The memo index of an object already written, for the objects memoized by content.
    fn memo_get_if_present(&mut self, key: &MemoKey<'_>) -> Result<bool> {
        match self.memo.get(key) {
            Some(index) => self.write_get(index).map(|()| true),
            None => Ok(false),
        }
    }

    // ----- atoms -----

    /// CPython's `save_bool`.
    fn save_bool(&mut self, v: bool) {
        match (self.proto >= 2, v) {
            (true, true) => self.out.op(Opcode::Newtrue),
            (true, false) => self.out.op(Opcode::Newfalse),
            (false, true) => self.out.op_arg(Opcode::Int, b"01\n"),
            (false, false) => self.out.op_arg(Opcode::Int, b"00\n"),
        }
    }

    /// CPython's `save_long` for values that fit in 64 bits.
    #[inline(always)]
    fn save_int(&mut self, v: i64) {
        if self.proto >= 2 {
            return self.save_binary_int(v);
        }
        match i32::try_from(v) {
            Ok(small) if self.proto >= 1 => match small {
                0..=0xFF => self.out.op_arg(Opcode::Binint1, &[small as u8]),
                0x100..=0xFFFF => self.out.op_arg(Opcode::Binint2, &(small as u16).to_le_bytes()),
                _ => self.out.op_arg(Opcode::Binint, &small.to_le_bytes()),
            },
            Ok(small) => self.out.op_arg(Opcode::Int, format!("{small}\n").as_bytes()),
            Err(_) => self.out.op_arg(Opcode::Long, format!("{v}L\n").as_bytes()),
        }
    }

    /// BININT1, BININT2, BININT or LONG1, by the value's size, as protocol 2 and later
    /// write it. The opcode and length come from the size by table and the bytes are
    /// written by one fixed-size copy: ints of mixed sizes would mispredict a branch on the
    /// size for most values.
    #[inline]
    fn save_binary_int(&mut self, v: i64) {
        let size =
            usize::from(v as u64 <= 0xFF) + usize::from(v as u64 <= 0xFFFF) + usize::from(i32::try_from(v).is_ok());
        // Static tables: arrays built on the stack at each call stalled the loads from them.
        static CODES: [u8; 4] =
            [Opcode::Long1.code(), Opcode::Binint.code(), Opcode::Binint2.code(), Opcode::Binint1.code()];
        static ARG_LENS: [usize; 4] = [1, 4, 2, 1];
        let long_len = long1_len(v);
        let is_long = usize::from(size == 0);
        let arg_len = ARG_LENS[size] + is_long * long_len;
        // The opcode, then the value's bytes, after LONG1's length byte. Built in a register
        // (a mask, not a branch, picks the layout): bytes put in memory at an offset that
        // depends on the opcode would stall the copy that reads them back.
        let bytes = u128::from(v as u64);
        let long = 0u128.wrapping_sub(is_long as u128);
        let arg = (long & (long_len as u128 | bytes << 8)) | (!long & bytes);
        let word = (u128::from(CODES[size]) | arg << 8).to_le_bytes();
        self.out.op_word(word.first_chunk().expect("16 bytes hold 10"), 1 + arg_len);
    }

    /// CPython's `save_long` for any size: LONG1/LONG4 from protocol 2, text below.
    fn save_bigint(&mut self, v: &BigInt) -> Result<()> {
        if let Some(small) = v.to_i64() {
            self.save_int(small);
            return Ok(());
        }
        if self.proto < 2 {
            // Protocols 0 and 1 write `repr(v)`, which CPython 3.11 refuses past its digit limit.
            let text = v.to_string();
            if text.trim_start_matches('-').len() > MAX_STR_DIGITS {
                return Err(Error::pickling(format!(
                    "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; \
                     use sys.set_int_max_str_digits() to increase the limit"
                )));
            }
            self.out.op_arg(Opcode::Long, text.as_bytes());
            self.out.bytes(b"L\n");
            return Ok(());
        }
        let bytes = v.to_signed_bytes_le();
        match u8::try_from(bytes.len()) {
            Ok(len) => self.out.op_arg(Opcode::Long1, &[len]),
            Err(_) => {
                let len = i32::try_from(bytes.len()).map_err(|_| Error::overflow("int too large to pickle"))?;
                self.out.op_arg(Opcode::Long4, &len.to_le_bytes());
            }
        }
        self.out.bytes(&bytes);
        Ok(())
    }

    /// CPython's `save_float`: BINFLOAT, or `repr` text at protocol 0.
    #[inline]
    fn save_float(&mut self, v: f64) {
        if self.proto >= 1 {
            self.out.op_arg(Opcode::Binfloat, &v.to_be_bytes());
        } else {
            self.out.op_arg(Opcode::Float, float_repr(v).as_bytes());
            self.out.bytes(b"\n");
        }
    }

    // ----- str and bytes -----

    /// CPython's `save_unicode`, from UTF-8 with surrogates passed through; `padded`, when
    /// given, is a buffer that starts with them (a [`PyString`]'s inline storage).
    fn save_str(&mut self, utf8: &[u8], padded: Option<&[u8; PyString::INLINE]>, key: MemoKey<'_>) -> Result<()> {
        if key.content.is_some() && self.memo_get_if_present(&key)? {
            return Ok(());
        }
        if self.proto >= 1 {
            let n = utf8.len();
            if let (Some(padded), true) = (padded, self.proto >= 4) {
                self.out.op_padded_payload([Opcode::ShortBinunicode.code(), n as u8], padded, n);
            } else if let Some(padded) = padded {
                let [b0, b1, b2, b3] = (n as u32).to_le_bytes();
                self.out.op_padded_payload([Opcode::Binunicode.code(), b0, b1, b2, b3], padded, n);
            } else if n <= 0xFF && self.proto >= 4 {
                self.out.op_payload(Opcode::ShortBinunicode, &[n as u8], utf8)?;
            } else if let Ok(n32) = u32::try_from(n) {
                self.out.op_payload(Opcode::Binunicode, &n32.to_le_bytes(), utf8)?;
            } else if self.proto >= 4 {
                self.out.op_payload(Opcode::Binunicode8, &(n as u64).to_le_bytes(), utf8)?;
            } else {
                return Err(Error::overflow(
                    "serializing a string larger than 4 GiB requires pickle protocol 4 or higher",
                ));
            }
        } else {
            self.out.op_arg(Opcode::Unicode, &raw_unicode_escape(utf8));
            self.out.bytes(b"\n");
        }
        self.memo_put(&key).map(drop)
    }

    /// CPython's `save_bytes`: a `_codecs.encode` reduction below protocol 3.
    fn save_bytes(&mut self, data: &[u8], key: MemoKey<'_>) -> Result<()> {
        if key.content.is_some() && self.memo_get_if_present(&key)? {
            return Ok(());
        }
        if self.proto < 3 {
            let call = if data.is_empty() {
                Call::new(GlobalName::new("builtins", "bytes"), ())
            } else {
                Call::new(GlobalName::new("_codecs", "encode"), (Latin1Str(data), Name("latin1")))
            };
            return self.save_reduce(call, key, None);
        }
        let n = data.len();
        if let Ok(n8) = u8::try_from(n) {
            self.out.op_payload(Opcode::ShortBinbytes, &[n8], data)?;
        } else if let Ok(n32) = u32::try_from(n) {
            self.out.op_payload(Opcode::Binbytes, &n32.to_le_bytes(), data)?;
        } else if self.proto >= 4 {
            self.out.op_payload(Opcode::Binbytes8, &(n as u64).to_le_bytes(), data)?;
        } else {
            return Err(Error::overflow(
                "serializing a bytes object larger than 4 GiB requires pickle protocol 4 or higher",
            ));
        }
        self.memo_put(&key).map(drop)
    }

    /// CPython's `save_bytearray`: BYTEARRAY8 at protocol 5, a reduction below.
    fn save_bytearray(&mut self, data: &[u8], key: MemoKey<'_>) -> Result<()> {
        if self.proto < 5 {
            let call = if data.is_empty() {
                Call::new(GlobalName::new("builtins", "bytearray"), ())
            } else {
                // `bytes(bytearray)` makes a new bytes object, never a shared singleton.
                Call::new(GlobalName::new("builtins", "bytearray"), (FreshBytes(data),))
            };
            return self.save_reduce(call, key, None);
        }
        self.out.op_payload(Opcode::Bytearray8, &(data.len() as u64).to_le_bytes(), data)?;
        self.memo_put(&key).map(drop)
    }

    // ----- containers -----

    /// CPython's `save_tuple`, including its handling of a tuple that contains itself.
    fn save_tuple(&mut self, items: &dyn Sequence, key: MemoKey<'_>) -> Result<()> {
        self.tuple_of(items.len(), key, |s, len| {
            items.save_items(&mut ItemSink { target: SinkTarget::Pickle(s, Batch::Each(None)), len })
        })
    }

    /// A tuple of `n` items, which `write_items` writes one after another.
    fn tuple_of(
        &mut self,
        n: usize,
        key: MemoKey<'_>,
        write_items: impl FnOnce(&mut Self, usize) -> Result<()>,
    ) -> Result<()> {
        if self.open_tuple(n) {
            write_items(self, n)?;
            self.close_tuple(n, key)?;
        }
        Ok(())
    }

    /// The start of a tuple of `n` items: EMPTY_TUPLE for none (and then `false`: the tuple
    /// is complete), MARK unless TUPLE1-3 will close it.
    fn open_tuple(&mut self, n: usize) -> bool {
        if n == 0 {
            match self.proto {
                0 => self.out.bytes(&[Opcode::Mark.code(), Opcode::Tuple.code()]),
                _ => self.out.op(Opcode::EmptyTuple),
            }
            return false;
        }
        if !self.short_tuple(n) {
            self.out.op(Opcode::Mark);
        }
        true
    }

    /// Whether a tuple of `n` items is written with TUPLE1, TUPLE2 or TUPLE3.
    fn short_tuple(&self, n: usize) -> bool {
        n <= 3 && self.proto >= 2
    }

    /// The end of a tuple of `n > 0` items, after them: its opcode and memo entry.
    fn close_tuple(&mut self, n: usize, key: MemoKey<'_>) -> Result<()> {
        let short = self.short_tuple(n);
        // The tuple is in the memo now only if one of its items contained it.
        if let Some(index) = key.identity.and_then(|id| self.memo.get_identity(id)) {
            if short {
                (0..n).for_each(|_| self.out.op(Opcode::Pop));
            } else if self.proto >= 1 {
                self.out.op(Opcode::PopMark);
            } else {
                (0..=n).for_each(|_| self.out.op(Opcode::Pop));
            }
            return self.write_get(index);
        }
        self.out.op(match (short, n) {
            (true, 1) => Opcode::Tuple1,
            (true, 2) => Opcode::Tuple2,
            (true, _) => Opcode::Tuple3,
            (false, _) => Opcode::Tuple,
        });
        self.memo_put(&key).map(drop)
    }

    /// CPython's `save_list`.
    fn save_list(&mut self, items: &dyn Sequence, key: MemoKey<'_>) -> Result<()> {
        self.filled(&LIST, items.len(), key, |s, batch, len| {
            items.save_items(&mut ItemSink { target: SinkTarget::Pickle(s, batch), len })
        })
    }

    /// CPython's `save_dict`.
    fn save_dict(&mut self, pairs: &dyn Mapping, key: MemoKey<'_>) -> Result<()> {
        self.filled(&DICT, pairs.len(), key, |s, batch, len| {
            pairs.save_pairs(&mut PairSink { target: SinkTarget::Pickle(s, batch), len })
        })
    }

    /// A list or dict of `len` items (or pairs): the empty container and its memo entry,
    /// then the items, which `write_items` writes in the batches it is given.
    fn filled(
        &mut self,
        container: &Filled,
        len: usize,
        key: MemoKey<'_>,
        write_items: impl FnOnce(&mut Self, Batch, usize) -> Result<()>,
    ) -> Result<()> {
        if let Some(batch) = self.open_filled(container, len, key)? {
            write_items(self, batch, len)?;
        }
        Ok(())
    }

    /// The start of a list or dict of `len` items: the empty container and its memo entry;
    /// the batching of its items, if it has any.
    fn open_filled(&mut self, container: &Filled, len: usize, key: MemoKey<'_>) -> Result<Option<Batch>> {
        self.empty_container(container.empty, container.text);
        self.memo_put(&key)?;
        let rule = container.batches;
        let batch = if self.proto > 0 { Batch::Batched(rule) } else { Batch::Each(rule.single) };
        Ok((len > 0).then_some(batch))
    }

    /// EMPTY_LIST/EMPTY_DICT, or MARK LIST/MARK DICT at protocol 0.
    fn empty_container(&mut self, binary: Opcode, text: Opcode) {
        if self.proto >= 1 {
            self.out.op(binary);
        } else {
            self.out.bytes(&[Opcode::Mark.code(), text.code()]);
        }
    }

    /// CPython's `save_set`: EMPTY_SET and ADDITEMS from protocol 4, `set(list)` below.
    fn save_set(&mut self, items: &dyn Sequence, key: MemoKey<'_>) -> Result<()> {
        if self.proto < 4 {
            return self.save_reduce(Call::new(GlobalName::new("builtins", "set"), (AsList(items),)), key, None);
        }
        self.out.op(Opcode::EmptySet);
        self.memo_put(&key)?;
        let len = items.len();
        if len > 0 {
            items.save_items(&mut ItemSink { target: SinkTarget::Pickle(self, Batch::Batched(SET_BATCHES)), len })?;
        }
        Ok(())
    }

    /// CPython's `save_frozenset`: MARK items FROZENSET from protocol 4, `frozenset(list)` below.
    fn save_frozenset(&mut self, items: &dyn Sequence, key: MemoKey<'_>) -> Result<()> {
        if self.proto < 4 {
            return self.save_reduce(Call::new(GlobalName::new("builtins", "frozenset"), (AsList(items),)), key, None);
        }
        self.out.op(Opcode::Mark);
        let len = items.len();
        items.save_items(&mut ItemSink { target: SinkTarget::Pickle(self, Batch::Each(None)), len })?;
        if let Some(index) = key.identity.and_then(|id| self.memo.get_identity(id)) {
            self.out.op(Opcode::PopMark);
            return self.write_get(index);
        }
        self.out.op(Opcode::Frozenset);
        self.memo_put(&key).map(drop)
    }

    // ----- persistent ids -----

    /// CPython's `save_pers`: BINPERSID, or PERSID with `str(pid)` at protocol 0.
    fn save_pers(&mut self, pid: &Value) -> Result<()> {
        if self.proto >= 1 {
            self.saving_pid = true;
            self.save(pid)?;
            self.out.op(Opcode::Binpersid);
            return Ok(());
        }
        // `str(pid)`: a str is itself; ints, tuples and other data print as their repr.
        let text = match pid.as_py_str() {
            Some(s) => s.as_str().map(str::to_owned),
            None => Some(pid.to_string()),
        };
        let Some(text) = text.filter(|t| t.is_ascii()) else {
            return Err(Error::pickling("persistent IDs in protocol 0 must be ASCII strings"));
        };
        if text.contains('\n') {
            return Err(Error::pickling("persistent IDs in protocol 0 must not contain a newline"));
        }
        self.out.op_arg(Opcode::Persid, text.as_bytes());
        self.out.bytes(b"\n");
        Ok(())
    }

    // ----- globals -----

    /// CPython's `save_global`: STACK_GLOBAL from protocol 4; GLOBAL below, with
    /// `fix_imports` names below protocol 3, and `getattr(parent, name)` for nested names.
    fn save_global(&mut self, g: &GlobalName<'_>, identity: Option<usize>) -> Result<()> {
        let key = MemoKey { identity, content: Some(Content::Global(&g.module, &g.name)) };
        if self.memo_get_if_present(&key)? {
            return Ok(());
        }
        if g.module.is_empty() || g.name.is_empty() {
            return Err(Error::pickling(format!("can't pickle global with an empty name: '{}.{}'", g.module, g.name)));
        }
        if self.proto >= 2 {
            if let Some(code) = self.hooks.extension(&g.module, &g.name) {
                // copyreg's extension registry: EXT1/EXT2/EXT4, never memoized.
                match (u8::try_from(code), u16::try_from(code)) {
                    (Ok(c), _) => self.out.op_arg(Opcode::Ext1, &[c]),
                    (_, Ok(c)) => self.out.op_arg(Opcode::Ext2, &c.to_le_bytes()),
                    _ => self.out.op_arg(Opcode::Ext4, &code.to_le_bytes()),
                }
                return Ok(());
            }
        }
        if self.proto >= 4 {
            if g.fresh_names {
                if g.interned_module {
                    self.save(&Name(&g.module))?;
                } else {
                    self.save(&*g.module)?;
                }
                self.save(&*g.name)?;
            } else {
                self.save(&Name(&g.module))?;
                self.save(&Name(&g.name))?;
            }
            self.out.op(Opcode::StackGlobal);
        } else if let Some((parent, last)) = g.name.rsplit_once('.') {
            // Nested names cannot be spelled by GLOBAL: pickle `getattr(parent, last)`.
            let getattr = Arg::owned(GlobalName::new("builtins", "getattr"));
            let args = Arg::owned((GlobalName::new(&*g.module, parent), last));
            self.write_reduce(&getattr, &args, None, None)?;
        } else {
            self.write_global_opcode(&g.module, &g.name)?;
        }
        self.memo_put(&key).map(drop)
    }

    /// The GLOBAL opcode: `c`, module, newline, name, newline.
    fn write_global_opcode(&mut self, module: &str, name: &str) -> Result<()> {
        if module.contains('\n') || name.contains('\n') {
            return Err(Error::pickling(format!("can't pickle global '{module}.{name}': a name contains a newline")));
        }
        let (module, name) =
            if self.proto < 3 && self.fix_imports { compat::to_python2(module, name) } else { (module, name) };
        if self.proto < 3 && !(module.is_ascii() && name.is_ascii()) {
            return Err(Error::pickling(format!(
                "can't pickle global identifier '{module}.{name}' using pickle protocol {}",
                self.proto
            )));
        }
        self.out.op_arg(Opcode::Global, module.as_bytes());
        self.out.bytes(b"\n");
        self.out.bytes(name.as_bytes());
        self.out.bytes(b"\n");
        Ok(())
    }

    // ----- reductions -----

    /// CPython's `save_reduce`: the call, the memo, then list items, dict items and state.
    /// `class` is the object's own class, when it says ([`Reduce::python_class`]).
    pub(crate) fn save_reduce(
        &mut self,
        call: Call<'_>,
        key: MemoKey<'_>,
        class: Option<&GlobalName<'_>>,
    ) -> Result<()> {
        let Call { callable, args, state, list_items, dict_items, state_setter } = call;
        if state_setter.is_some() && state.is_none() {
            return Err(Error::pickling(
                "a state setter without a state would never be called: give a state or no setter",
            ));
        }
        let index = self.write_reduce(&callable, &args, Some(&key), class)?;
        if let Some(items) = list_items {
            self.batch_appends(items)?;
        }
        if let Some(items) = dict_items {
            self.batch_setitems(items)?;
        }
        if let Some(state) = state {
            match state_setter {
                None => {
                    self.save(state.get())?;
                    self.out.op(Opcode::Build);
                }
                Some(setter) => {
                    self.save(setter.get())?;
                    self.write_get(index.expect("the reduced object was memoized"))?;
                    self.save(state.get())?;
                    self.out.op(Opcode::Tuple2);
                    self.out.op(Opcode::Reduce);
                    self.out.op(Opcode::Pop);
                }
            }
        }
        Ok(())
    }

    /// The call part of `save_reduce`: REDUCE, NEWOBJ or NEWOBJ_EX, then (with a key) the
    /// memo, or POP and GET when the object turned up in the memo while its args were saved.
    fn write_reduce(
        &mut self,
        callable: &Arg<'_>,
        args: &Arg<'_>,
        key: Option<&MemoKey<'_>>,
        class: Option<&GlobalName<'_>>,
    ) -> Result<Option<u64>> {
        let (callable, args_obj) = (callable.get(), args.get());
        let args_reduction = args_obj.reduce_ex(self.proto)?;
        let Reduction::Builtin(Builtin::Tuple(args)) = args_reduction else {
            return Err(Error::pickling("args from save_reduce() must be a tuple"));
        };
        let func_name = match callable.reduce_ex(self.proto)? {
            Reduction::Global(g) => g.name.rsplit('.').next().map(str::to_owned),
            _ => None,
        };
        match func_name.as_deref() {
            Some(name @ "__newobj_ex__") if self.proto >= 2 => {
                check_class(args.get(0), class, name)?;
                self.write_newobj_ex(args)?;
            }
            Some(name @ "__newobj__") if self.proto >= 2 => {
                let cls = args.get(0).ok_or_else(|| Error::pickling("__newobj__ arglist is empty"))?;
                check_class(Some(cls), class, name)?;
                self.save(cls)?;
                self.save(&TailArgs(args))?;
                self.out.op(Opcode::Newobj);
            }
            _ => {
                self.save(callable)?;
                self.save(args_obj)?;
                self.out.op(Opcode::Reduce);
            }
        }
        let Some(key) = key else { return Ok(None) };
        if let Some(index) = key.identity.and_then(|id| self.memo.get_identity(id)) {
            self.out.op(Opcode::Pop);
            self.write_get(index)?;
            return Ok(Some(index));
        }
        self.memo_put(key).map(Some)
    }

    /// `copyreg.__newobj_ex__(cls, args, kwargs)`: NEWOBJ_EX from protocol 4; at 2 and 3,
    /// `functools.partial(cls.__new__, cls, *args, **kwargs)()` as CPython writes it.
    fn write_newobj_ex(&mut self, args: &dyn Sequence) -> Result<()> {
        let (Some(cls), Some(cls_args), Some(kwargs), 3) = (args.get(0), args.get(1), args.get(2), args.len()) else {
            return Err(Error::pickling("__newobj_ex__ args must be (cls, args, kwargs)"));
        };
        if self.proto >= 4 {
            self.save(cls)?;
            self.save(cls_args)?;
            self.save(kwargs)?;
            self.out.op(Opcode::NewobjEx);
            return Ok(());
        }
        let Reduction::Global(class) = cls.reduce_ex(self.proto)? else {
            return Err(Error::pickling("__newobj_ex__ below protocol 4 needs a class given by its global name"));
        };
        let Reduction::Builtin(Builtin::Tuple(positional)) = cls_args.reduce_ex(self.proto)? else {
            return Err(Error::pickling("__newobj_ex__ args must be a tuple"));
        };
        let kwargs = match kwargs.reduce_ex(self.proto)? {
            Reduction::Builtin(Builtin::Dict(pairs)) => (!pairs.is_empty()).then_some(kwargs),
            _ => return Err(Error::pickling("__newobj_ex__ kwargs must be a dict")),
        };
        // `cls.__new__`: the class's own, which below protocol 4 pickles as getattr(cls, '__new__').
        let new = GlobalName {
            module: class.module.clone(),
            name: format!("{}.__new__", class.name).into(),
            fresh_names: class.fresh_names,
            interned_module: class.interned_module,
        };
        let state = PartialState { func: new.borrowed(), cls_and_args: ClsArgs { cls, args: positional }, kwargs };
        let partial = Call::new(GlobalName::new("functools", "partial"), (new.borrowed(),)).state(Arg::owned(state));
        self.save_reduce(partial, MemoKey::default(), None)?;
        self.save(&())?;
        self.out.op(Opcode::Reduce);
        Ok(())
    }

    /// CPython's `batch_list` for an iterator of list items.
    fn batch_appends(&mut self, items: Box<dyn Iterator<Item = Arg<'_>> + '_>) -> Result<()> {
        self.save_batched_iter(items, Opcode::Append, Opcode::Appends, |s, item| s.save(item.get()))
    }

    /// CPython's `batch_dict` for an iterator of dict items.
    fn batch_setitems(&mut self, items: Box<dyn Iterator<Item = (Arg<'_>, Arg<'_>)> + '_>) -> Result<()> {
        self.save_batched_iter(items, Opcode::Setitem, Opcode::Setitems, |s, (k, v)| s.save_pair(k.get(), v.get()))
    }

    /// CPython's batching of an iterator of unknown length (`batch_list`, `batch_dict`):
    /// `single` after each item at protocol 0; otherwise `MARK ... many` per 1000 items,
    /// except that a batch of one item is written with `single`.
    fn save_batched_iter<I: Iterator>(
        &mut self,
        mut items: I,
        single: Opcode,
        many: Opcode,
        mut save: impl FnMut(&mut Self, I::Item) -> Result<()>,
    ) -> Result<()> {
        if self.proto == 0 {
            for item in items {
                save(self, item)?;
                self.out.op(single);
            }
            return Ok(());
        }
        loop {
            let Some(first) = items.next() else {
                return Ok(());
            };
            let Some(second) = items.next() else {
                save(self, first)?;
                self.out.op(single);
                return Ok(());
            };
            self.out.op(Opcode::Mark);
            save(self, first)?;
            save(self, second)?;
            let mut n = 2;
            while n < BATCH_SIZE {
                let Some(item) = items.next() else { break };
                save(self, item)?;
                n += 1;
            }
            self.out.op(many);
            if n < BATCH_SIZE {
                return Ok(());
            }
        }
    }

    /// Writes the items of a container of known length by `batch`'s rule; returns how many
    /// there were (counting any past `len`, which are not written: the caller's length check
    /// fails then).
    fn save_known_len<I: Iterator>(
        &mut self,
        mut items: I,
        len: usize,
        batch: Batch,
        mut save: impl FnMut(&mut Self, I::Item) -> Result<()>,
    ) -> Result<usize> {
        let count = self.save_batches(len, batch, |s, n| {
            let mut saved = 0;
            for item in items.by_ref().take(n) {
                save(s, item)?;
                saved += 1;
            }
            Ok(saved)
        })?;
        Ok(count + items.count())
    }

    /// Writes `len` items framed by `batch`'s opcodes. `save_run(self, n)` writes the next
    /// `n` items and says how many it wrote: fewer only when a [`Sequence`] has fewer items
    /// than its `len`. The items of a run are written by one loop, in the caller's code:
    /// a call per item was a quarter of the time spent on a list of ints.
    fn save_batches(
        &mut self,
        len: usize,
        batch: Batch,
        mut save_run: impl FnMut(&mut Self, usize) -> Result<usize>,
    ) -> Result<usize> {
        let mut batches = Batches::new(len, batch);
        loop {
            let n = batches.open_run(&mut self.out);
            if n == 0 {
                break;
            }
            let saved = save_run(self, n)?;
            batches.close_run(&mut self.out, saved);
            if saved < n {
                break;
            }
        }
        batches.finish(&mut self.out);
        Ok(batches.done)
    }

    #[inline]
    fn save_pair<K: Reduce + ?Sized, V: Reduce + ?Sized>(&mut self, k: &K, v: &V) -> Result<()> {
        self.save(k)?;
        self.save(v)
    }
}

/// How the items of a container of known length are framed by opcodes.
#[derive(Clone, Copy)]
pub(crate) enum Batch {
    /// One after another, each followed by the opcode if there is one (tuples and
    /// frozensets; lists and dicts at protocol 0).
    Each(Option<Opcode>),
    /// In batches of 1000 (lists, dicts and sets at protocol 1+).
    Batched(BatchRule),
}

/// CPython's batching of a list, dict or set (`batch_list_exact`, `batch_dict_exact`,
/// `save_set`): `MARK ... close` per 1000 items.
#[derive(Clone, Copy)]
pub(crate) struct BatchRule {
    /// A container of exactly one item is written with this opcode, without MARK.
    single: Option<Opcode>,
    /// The opcode that closes a batch.
    close: Opcode,
    /// When the size is a multiple of 1000, the C pickler writes one more, empty, batch.
    trailing_empty_batch: bool,
}

/// A container that is made empty and then filled: a list or a dict.
struct Filled {
    /// The opcode of the empty container.
    empty: Opcode,
    /// The opcode that makes it from a MARK at protocol 0, where there is no empty one.
    text: Opcode,
    /// How its items are written from protocol 1 (at 0, each with `batches.single`).
    batches: BatchRule,
}

const LIST: Filled = Filled { empty: Opcode::EmptyList, text: Opcode::List, batches: LIST_BATCHES };
const DICT: Filled = Filled { empty: Opcode::EmptyDict, text: Opcode::Dict, batches: DICT_BATCHES };

const LIST_BATCHES: BatchRule =
    BatchRule { single: Some(Opcode::Append), close: Opcode::Appends, trailing_empty_batch: false };
const DICT_BATCHES: BatchRule =
    BatchRule { single: Some(Opcode::Setitem), close: Opcode::Setitems, trailing_empty_batch: true };
const SET_BATCHES: BatchRule = BatchRule { single: None, close: Opcode::Additems, trailing_empty_batch: true };

/// Where the items of a container of known length are in its batches: the one statement of
/// CPython's batching rule, followed by [`Saver::save_batches`] (items in runs) and by the
/// push path (items one at a time, as a serde serializer gives them).
#[derive(Clone, Copy)]
pub(crate) struct Batches {
    len: usize,
    batch: Batch,
    /// Items written in closed runs.
    done: usize,
}

impl Batches {
    fn new(len: usize, batch: Batch) -> Batches {
        let batch = match batch {
            // A container of exactly one item is written without MARK.
            Batch::Batched(BatchRule { single: Some(single), .. }) if len == 1 => Batch::Each(Some(single)),
            batch => batch,
        };
        Batches { len, batch, done: 0 }
    }

    /// Opens the next run, writing its MARK if it has one; its length, 0 when all are done.
    #[inline]
    fn open_run(&mut self, out: &mut Output<'_>) -> usize {
        let left = self.len - self.done;
        match self.batch {
            _ if left == 0 => 0,
            Batch::Each(None) => left,
            Batch::Each(Some(_)) => 1,
            Batch::Batched(_) => {
                out.op(Opcode::Mark);
                left.min(BATCH_SIZE)
            }
        }
    }

    /// Closes the run after the `saved` items written in it.
    #[inline]
    fn close_run(&mut self, out: &mut Output<'_>, saved: usize) {
        match self.batch {
            Batch::Each(Some(op)) if saved > 0 => out.op(op),
            Batch::Batched(rule) => out.op(rule.close),
            _ => {}
        }
        self.done += saved;
    }

    /// After the last run: the C pickler's empty batch after a multiple of 1000 items.
    fn finish(&self, out: &mut Output<'_>) {
        if let Batch::Batched(rule) = self.batch {
            if rule.trailing_empty_batch && self.done > 0 && self.done % BATCH_SIZE == 0 {
                out.op(Opcode::Mark);
                out.op(rule.close);
            }
        }
    }
}

/// Where a sink sends what it receives: into a pickle, or into a copy (see
/// [`deepcopy`](crate::deepcopy)).
pub(crate) enum SinkTarget<'s, 'w> {
    Pickle(&'s mut Saver<'w>, Batch),
    Copy(&'s mut Copier, &'s mut Vec<Item>),
}

/// Receives the items of a [`Sequence`] and writes them as the container needs.
pub struct ItemSink<'s, 'w> {
    pub(crate) target: SinkTarget<'s, 'w>,
    pub(crate) len: usize,
}

impl ItemSink<'_, '_> {
    /// Writes every item, in order. There must be exactly [`Sequence::len`] of them.
    pub fn save_all<'x, T, I>(&mut self, items: I) -> Result<()>
    where
        T: Reduce + ?Sized + 'x,
        I: IntoIterator<Item = &'x T>,
    {
        let count = match &mut self.target {
            SinkTarget::Pickle(saver, batch) => {
                saver.save_known_len(items.into_iter(), self.len, *batch, |s, item| s.save(item))?
            }
            SinkTarget::Copy(copier, out) => copier.copy_all(items.into_iter(), out, |c, item| Ok([c.copy(item)?]))?,
        };
        check_len(count, self.len)
    }
}

/// Receives the pairs of a [`Mapping`] and writes them as a dict needs.
pub struct PairSink<'s, 'w> {
    pub(crate) target: SinkTarget<'s, 'w>,
    pub(crate) len: usize,
}

impl PairSink<'_, '_> {
    /// Writes every pair, in order. There must be exactly [`Mapping::len`] of them.
    pub fn save_all<'x, K, V, I>(&mut self, pairs: I) -> Result<()>
    where
        K: Reduce + ?Sized + 'x,
        V: Reduce + ?Sized + 'x,
        I: IntoIterator<Item = (&'x K, &'x V)>,
    {
        let count = match &mut self.target {
            SinkTarget::Pickle(saver, batch) => {
                saver.save_known_len(pairs.into_iter(), self.len, *batch, |s, (k, v)| s.save_pair(k, v))?
            }
            SinkTarget::Copy(copier, out) => copier.copy_all(pairs.into_iter(), out, |c, (k, v)| {
                let key = c.copy(k)?;
                Ok([key, c.copy(v)?])
            })?,
        };
        check_len(count, self.len)
    }
}

/// CPython's check that a `__newobj__`/`__newobj_ex__` reduction names the object's class;
/// and, so that no pickle is written that cannot load, that it names a class at all: not a
/// builtin value, nor a name in `builtins` that is no class (the unpickler's NEWOBJ rule).
fn check_class(cls: Option<&dyn Reduce>, class: Option<&GlobalName<'_>>, func: &str) -> Result<()> {
    let Some(cls) = cls else { return Ok(()) };
    let not_a_class = || Error::pickling(format!("args[0] from {func} args is not a class"));
    match cls.reduce_ex(0)? {
        Reduction::Builtin(Builtin::PersistentId(_)) => {}
        Reduction::Builtin(_) => return Err(not_a_class()),
        Reduction::Global(g) if compat::is_no_class(&g.module, &g.name) => return Err(not_a_class()),
        Reduction::Global(g) => {
            if let Some(class) = class {
                if g.module != class.module || g.name != class.name {
                    return Err(Error::pickling(format!("args[0] from {func} args has the wrong class")));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_len(count: usize, len: usize) -> Result<()> {
    if count == len {
        Ok(())
    } else {
        Err(Error::pickling(format!("container changed size during iteration: expected {len} items, got {count}")))
    }
}

/// How many bytes LONG1 gives `v`: its minimal two's complement length, as CPython's
/// `encode_long` counts it (`nbits / 8 + 1`).
#[inline]
fn long1_len(v: i64) -> usize {
    ((64 - (v ^ (v >> 63)).leading_zeros()) / 8 + 1) as usize
}

/// CPython's `raw_unicode_escape` for protocol 0's UNICODE opcode: Latin-1 bytes as they
/// are, `\uXXXX`/`\UXXXXXXXX` above, and `\`, NUL, `\n`, `\r`, `\x1a` escaped.
fn raw_unicode_escape(utf8: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(utf8.len() + 8);
    // SAFETY-free walk: the input is UTF-8 with surrogatepass, so decode code points by hand.
    let points = crate::value::PyString::from_surrogatepass(utf8).expect("str payloads are valid surrogatepass UTF-8");
    for cp in points.code_points() {
        match cp {
            0x5C | 0x00 | 0x0A | 0x0D | 0x1A => out.extend_from_slice(format!("\\u{cp:04x}").as_bytes()),
            0..=0xFF => out.push(cp as u8),
            0x100..=0xFFFF => out.extend_from_slice(format!("\\u{cp:04x}").as_bytes()),
            _ => out.extend_from_slice(format!("\\U{cp:08x}").as_bytes()),
        }
    }
    out
}

// ----- objects the pickler makes for its own reductions -----

/// A `str` decoded from bytes as Latin-1 (`_codecs.encode(s, 'latin1')` pickles bytes).
struct Latin1Str<'a>(&'a [u8]);

impl Reduce for Latin1Str<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Str(Cow::Owned(self.0.iter().map(|&b| b as char).collect()))))
    }
}

/// A new `bytes` object, never one of CPython's shared singletons.
struct FreshBytes<'a>(&'a [u8]);

impl Reduce for FreshBytes<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::UnsharedBytes(self.0)))
    }
}

/// The items of a set as a new list (`set.__reduce__` returns `(set, (list(self),))`).
struct AsList<'a>(&'a dyn Sequence);

impl Reduce for AsList<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::List(self.0)))
    }
}

/// The state of the `functools.partial` that stands for `__newobj_ex__` below protocol 4:
/// `(func, (cls, *args), kwargs or None, None)`, as `partial.__reduce__` gives it.
struct PartialState<'a> {
    func: GlobalName<'a>,
    cls_and_args: ClsArgs<'a>,
    kwargs: Option<&'a dyn Reduce>,
}

static NONE: Option<i32> = None;

impl Reduce for PartialState<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Tuple(self)))
    }
}

impl Sequence for PartialState<'_> {
    fn len(&self) -> usize {
        4
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        match index {
            0 => Some(&self.func),
            1 => Some(&self.cls_and_args),
            2 => Some(self.kwargs.unwrap_or(&NONE)),
            3 => Some(&NONE),
            _ => None,
        }
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all((0..4).filter_map(|i| self.get(i)))
    }
}

/// `(cls, *args)` as a new tuple.
struct ClsArgs<'a> {
    cls: &'a dyn Reduce,
    args: &'a dyn Sequence,
}

impl Reduce for ClsArgs<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Tuple(self)))
    }
}

impl Sequence for ClsArgs<'_> {
    fn len(&self) -> usize {
        1 + self.args.len()
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        match index {
            0 => Some(self.cls),
            _ => self.args.get(index - 1),
        }
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all((0..self.len()).filter_map(|i| self.get(i)))
    }
}

/// `args[1:]` as a new tuple, for NEWOBJ.
struct TailArgs<'a>(&'a dyn Sequence);

impl Reduce for TailArgs<'_> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Tuple(self)))
    }
}

impl Sequence for TailArgs<'_> {
    fn len(&self) -> usize {
        self.0.len().saturating_sub(1)
    }
    fn get(&self, index: usize) -> Option<&dyn Reduce> {
        self.0.get(index + 1)
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all((1..self.0.len()).filter_map(|i| self.0.get(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long1_length_is_minimal() {
        for shift in 0..64 {
            let p = 1i64 << shift;
            for v in [p, p.wrapping_sub(1), p.wrapping_neg(), p.wrapping_neg().wrapping_sub(1), i64::MAX, i64::MIN] {
                assert_eq!(long1_len(v), BigInt::from(v).to_signed_bytes_le().len(), "{v}");
            }
        }
    }

    #[test]
    fn raw_unicode_escape_matches_cpython() {
        assert_eq!(
            raw_unicode_escape("a\\b\n\u{e9}\u{20ac}\u{1F40D}\x1a".as_bytes()),
            b"a\\u005cb\\u000a\xe9\\u20ac\\U0001f40d\\u001a".to_vec()
        );
    }

    /// A list, tuple, set or dict whose `len` says one thing and whose items another.
    struct Lying {
        says: usize,
        has: usize,
        builtin: fn(&Lying) -> Builtin<'_>,
    }

    impl Reduce for Lying {
        fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
            Ok(Reduction::Builtin((self.builtin)(self)))
        }
    }

    impl Sequence for Lying {
        fn len(&self) -> usize {
            self.says
        }
        fn get(&self, _: usize) -> Option<&dyn Reduce> {
            None
        }
        fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
            sink.save_all((0..self.has).map(|_| &1i64))
        }
    }

    impl Mapping for Lying {
        fn len(&self) -> usize {
            self.says
        }
        fn save_pairs(&self, sink: &mut PairSink<'_, '_>) -> Result<()> {
            sink.save_all((0..self.has).map(|_| (&1i64, &2i64)))
        }
    }

    /// A container with fewer or more items than its length fails, in every batching rule
    /// (one by one, in batches, a batch of one, a multiple of the batch size). One that says
    /// it is empty is written empty, its items not asked for.
    #[test]
    fn containers_that_change_size_fail() {
        let kinds: [fn(&Lying) -> Builtin<'_>; 4] =
            [|l| Builtin::List(l), |l| Builtin::Tuple(l), |l| Builtin::Set(l), |l| Builtin::Dict(l)];
        for builtin in kinds {
            for (says, has) in [(1, 0), (1, 2), (2, 1), (3, 5), (1000, 999), (1000, 1001), (2500, 2000)] {
                for protocol in 0..=5 {
                    let err = crate::dumps(&Lying { says, has, builtin }, protocol).unwrap_err();
                    assert!(err.to_string().contains("changed size"), "{says} {has} p{protocol}: {err}");
                }
            }
        }
    }
}
