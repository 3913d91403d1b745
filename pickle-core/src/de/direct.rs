//! The fast path of `loads` to a [`Value`]: a pickle of plain data, in memory, decoded in
//! one pass straight into the value.
//!
//! The general loader (`load`) builds an arena of objects and then a `Value` from it
//! (`graph`): two passes over every object, and a memo entry for every object the pickler
//! memoized, which for CPython's pickles is every str, tuple, list and dict. Most of those
//! entries are never fetched, and the pickle says which are: only a GET can make an object
//! reachable twice. So for a pickle in memory made only of data opcodes, a prescan finds the
//! fetched memo entries, and one pass builds the `Value` on the stack. An object nobody
//! fetches moves into its container as it is; one that is fetched becomes a [`Shared`] node
//! once it is complete (at once for a str or a tuple, when it leaves the stack for a list or
//! a dict, which APPENDS and SETITEMS fill while they are on it).
//!
//! A long list's later batches of numbers go straight into it, not through the stack.
//!
//! Class instances as `object.__reduce_ex__` writes a plain class's (its global, NEWOBJ of
//! an empty tuple, BUILD of its `__dict__`) are `copyreg.__newobj__(cls)` objects, as the
//! general loader makes them; the one `copyreg.__newobj__` global they share is a node from
//! the first NEWOBJ on, so a pickle with a single NEWOBJ (where it is not shared) is handed
//! over at its STOP.
//!
//! At an opcode this path does not decode (a reduction, a set, a persistent id, an
//! out-of-band buffer, NEWOBJ with arguments, BUILD of an object built already, items into
//! anything but a list or dict, a list or dict filled after a GET fetched it: a cycle), it
//! stops before the opcode and hands what it holds to the general loader, which goes on from
//! there (`handoff`): a payload read before a reduction is read once. So are dicts whose keys
//! are not plain str, bytes, int or None or might repeat, which need Python's equality.
//! Errors, limits, a memo index put twice and a global the class policy refuses are left to
//! the general loader whole, from the start.
//! The general loader decides all of those, so both paths give one answer by construction;
//! `tests/direct_decode.rs` checks that they do. Every object this path keeps is referred to
//! from the root once plus once per GET of it, which is what makes the general loader's
//! [`Shared`] nodes (objects with two or more references) exactly this path's fetched ones.

use std::collections::HashSet;

use super::args::{self, Arg, Budget, OBJECT_CHARGE, SLOT_CHARGE};
use super::globals::{global, GlobalNames};
use super::handoff::{FastLoad, Held};
use super::input::{Input, SliceSource};
use super::memo::Memo;
use super::prescan::{prefix, prescan, Prescan};
use super::reader::OpReader;
use super::text::Int;
use super::UnpicklerOptions;
use crate::opcode::{Opcode, BATCH_SIZE};
use crate::value::{Global, Object, PyString, Shared, Value};

/// The opcodes of the atoms [`Direct::atom_run`] reads: numbers, bools and `None`.
static ATOMS: [bool; 256] = {
    use Opcode as O;
    let mut table = [false; 256];
    let atoms = [O::Binint1, O::Binint2, O::Binint, O::Long1, O::Binfloat, O::None, O::Newtrue, O::Newfalse];
    let mut i = 0;
    while i < atoms.len() {
        table[atoms[i] as usize] = true;
        i += 1;
    }
    table
};

/// Dicts up to this size check their keys as they are filled, by comparing; larger ones by
/// hashing, once, when they leave the stack.
const LINEAR_KEYS: usize = 8;

/// A payload at least this long is not copied by a pass that may have to start again: the
/// [`prescan`] runs first, if it has not.
const PRESCAN_BEFORE: usize = 1 << 16;

/// Why a pass stopped before the STOP.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Halt {
    /// The general loader decides: an error, a limit, a case this path does not judge.
    Decline,
    /// At an opcode this path does not decode, before it: the general loader goes on.
    HandOff,
    /// Something put before the [`prescan`] ran is fetched: a pass that keeps it starts
    /// again.
    Restart,
}

/// What a pass knows of the memo indices a GET will fetch.
enum Known {
    /// Nothing yet: it assumes none, and runs the [`prescan`] when it must know.
    Nothing,
    /// The prescan's answer.
    Fetched(Prescan),
    /// Nothing, so it keeps every entry: for a handoff early in a pickle, where reading up
    /// to it again costs less than a prescan of the whole pickle.
    All,
}

/// Decodes the pickle at the start of `data`: its value and the length of the pickle, or
/// what it decoded before an opcode it does not, for the general loader to go on from.
///
/// Most pickles fetch nothing from their memo (a list of numbers or of distinct strs), so
/// the first pass assumes that and needs no [`prescan`]. It runs the prescan when it must
/// know: at the first GET, before it copies a large payload, and before an opcode it hands
/// over if it has put anything and is past [`PRESCAN_BEFORE`] (before that, a second pass
/// that keeps every memo entry costs less). If nothing put so far is fetched, the pass goes
/// on with the prescan's answer; otherwise a second pass starts with it (before any large
/// payload was copied). Pickles that fetch at all fetch early (the second record's first
/// key), so little is lost.
pub(crate) fn load(data: &[u8], options: &UnpicklerOptions) -> FastLoad<Value> {
    let mut direct = Direct::new(data, options, Known::Nothing);
    loop {
        if let Some(value) = direct.run() {
            return FastLoad::Done(value, direct.reader.offset() as usize);
        }
        let known = match direct.halt {
            Halt::Decline => return FastLoad::Declined,
            Halt::HandOff if direct.known || direct.memo.len() == 0 => return direct.into_held(),
            Halt::HandOff if direct.op_start() <= PRESCAN_BEFORE => Known::All,
            Halt::HandOff | Halt::Restart => {
                if direct.halt == Halt::HandOff && direct.learn() == Some(true) {
                    return direct.into_held();
                }
                // Something put before the prescan ran is fetched.
                match direct.restart_with.take() {
                    Some(prescan) => Known::Fetched(prescan),
                    None => return FastLoad::Declined,
                }
            }
        };
        direct = Direct::new(data, options, known);
    }
}

/// A stack entry with something to do when it leaves the stack (into a container, or as
/// the result).
struct Watched {
    /// Its position on the stack.
    pos: usize,
    /// How deeply it nests containers with items, as the general loader counts (0 for
    /// anything else): a container's depth is one more than its deepest item's.
    depth: u32,
    /// For a fetched list or dict: the node it becomes, complete, and its memo slot.
    node: Option<(Shared, u64)>,
    /// Whether a GET fetched that node while the list or dict was on the stack. Then it
    /// may not be filled any more: what is filled in could hold the node (a cycle, which
    /// the general loader closes with a weak link).
    fetched_early: bool,
    /// For a dict of more than [`LINEAR_KEYS`] items: its keys are checked then.
    large_dict: bool,
}

/// A fetched memo entry.
#[derive(Clone)]
struct MemoEntry {
    value: Value,
    /// Its depth, as [`Watched::depth`].
    depth: u32,
    /// Where a list or dict still on the stack is (its node is set when it leaves).
    open_at: Option<usize>,
}

struct Direct<'a, 'o> {
    data: &'a [u8],
    /// Never asked for the highest protocol of the opcodes: see `reader`.
    reader: OpReader<SliceSource<'a>, false>,
    options: &'o UnpicklerOptions,
    budget: Budget,
    /// Whether the memo knows which indices are fetched (or keeps them all).
    known: bool,
    /// The prescan's answer, for a pass that starts again with it.
    restart_with: Option<Prescan>,
    /// The fetched memo entries (or all of them, or none before the prescan has run).
    memo: Memo<MemoEntry>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    /// The stack entries to watch, by ascending position; most entries need none.
    watched: Vec<Watched>,
    /// Why [`Direct::run`] stopped, when it stopped before the STOP.
    halt: Halt,
    /// The globals' names so far, as the general loader's.
    global_names: GlobalNames,
    /// Identities for strs that no GET fetches, each a new object: counted down from the
    /// top of the address space, where no node is.
    fresh_identity: usize,
    /// `copyreg.__newobj__`, the callable of every NEWOBJ's object, and how many there are.
    newobj: Option<(Shared, usize)>,
}

impl<'a, 'o> Direct<'a, 'o> {
    /// A pass knowing this of the memo.
    fn new(data: &'a [u8], options: &'o UnpicklerOptions, known: Known) -> Self {
        let (memo, known) = match known {
            Known::Nothing => (Memo::fetched_only(Vec::new(), 0), false),
            Known::Fetched(prescan) => (Memo::fetched_only(prescan.slots, prescan.fetched), true),
            Known::All => (Memo::new(), true),
        };
        Direct {
            data,
            reader: OpReader::new(SliceSource::new(data), options.max_line),
            options,
            budget: Budget::new(options.max_alloc),
            memo,
            known,
            restart_with: None,
            stack: Vec::new(),
            marks: Vec::new(),
            watched: Vec::new(),
            halt: Halt::Decline,
            global_names: GlobalNames::default(),
            fresh_identity: usize::MAX,
            newobj: None,
        }
    }

    fn run(&mut self) -> Option<Value> {
        loop {
            let (_, op) = self.reader.next().ok()?;
            if let Some(int) = self.reader.small_int(op) {
                self.stack.push(Value::Int(int));
                continue;
            }
            // Every opcode not named here is handed over.
            match op {
                Opcode::Binint1 => self.int(Opcode::Binint1)?,
                Opcode::Binint2 => self.int(Opcode::Binint2)?,
                Opcode::Binint => self.int(Opcode::Binint)?,
                Opcode::Long1 => self.long()?,
                Opcode::Binfloat => self.float()?,
                Opcode::ShortBinunicode => self.unicode(Opcode::ShortBinunicode)?,
                Opcode::Binunicode => self.unicode(Opcode::Binunicode)?,
                Opcode::Binunicode8 => self.unicode(Opcode::Binunicode8)?,
                Opcode::ShortBinbytes | Opcode::Binbytes | Opcode::Binbytes8 => {
                    self.before_payload(op)?;
                    let bytes = args::data(self.arg(op)?);
                    self.push_object(Value::Bytes(bytes))?;
                }
                Opcode::Bytearray8 => {
                    self.before_payload(op)?;
                    let bytes = args::data(self.arg(op)?);
                    self.push_object(Value::ByteArray(bytes))?;
                }
                Opcode::None => self.stack.push(Value::None),
                Opcode::Newtrue => self.stack.push(Value::Bool(true)),
                Opcode::Newfalse => self.stack.push(Value::Bool(false)),

                Opcode::Memoize => self.put(Opcode::Memoize)?,
                Opcode::Binput => self.put(Opcode::Binput)?,
                Opcode::LongBinput => self.put(Opcode::LongBinput)?,
                Opcode::Binget => self.get(Opcode::Binget)?,
                Opcode::LongBinget => self.get(Opcode::LongBinget)?,

                Opcode::Mark => {
                    self.marks.push(self.stack.len());
                    self.fill_list_directly()?;
                }
                Opcode::EmptyTuple => self.push_container(Value::Tuple(Vec::new()), 0)?,
                Opcode::Tuple => {
                    let (items, depth) = self.pop_mark()?;
                    self.push_container(Value::Tuple(items), depth)?;
                }
                Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3 => {
                    let n = (op as u8 - Opcode::Tuple1 as u8) as usize + 1;
                    let start = self.stack.len().checked_sub(n).filter(|&s| s >= self.fence())?;
                    let depth = self.leave(start)? + 1;
                    let items = self.stack.split_off(start);
                    self.push_container(Value::Tuple(items), depth)?;
                }
                Opcode::EmptyList => self.push_container(Value::List(Vec::new()), 0)?,
                Opcode::List => {
                    let (items, depth) = self.pop_mark()?;
                    self.push_container(Value::List(items), depth)?;
                }
                Opcode::EmptyDict => self.push_container(Value::Dict(Vec::new()), 0)?,
                Opcode::Dict => {
                    let items = self.stack.get(*self.marks.last()?..)?;
                    let Some(large) =
                        Some(items).filter(|items| items.len() % 2 == 0).and_then(|items| keys_fit(&[], items))
                    else {
                        return self.hand_off();
                    };
                    let (mut items, depth) = self.pop_mark()?;
                    let pairs: Vec<(Value, Value)> = take_pairs(&mut items).collect();
                    self.push_container(Value::Dict(pairs), depth)?;
                    if large {
                        self.watch(self.stack.len() - 1).large_dict = true;
                    }
                }
                Opcode::Append | Opcode::Appends | Opcode::Setitem | Opcode::Setitems => self.fill(op)?,

                Opcode::StackGlobal => self.stack_global()?,
                Opcode::Global => self.global()?,
                Opcode::Newobj => self.newobj()?,
                Opcode::Build => self.build()?,
                // The reader took them whole: see `reader`.
                Opcode::Proto | Opcode::Frame => {}
                Opcode::Stop => return self.stop(),
                _ => return self.hand_off(),
            }
        }
    }

    /// The argument of `op`, read as the general loader reads it (inlined for the same
    /// reason: see `Loader::arg`).
    #[inline(always)]
    fn arg(&mut self, op: Opcode) -> Option<Arg> {
        self.reader.arg(op, &mut self.budget).ok()
    }

    #[inline(always)]
    fn int(&mut self, op: Opcode) -> Option<()> {
        let Arg::Int(i) = self.arg(op)? else { return None };
        self.stack.push(Value::Int(i));
        Some(())
    }

    /// BINFLOAT, here and in [`Direct::atom_run`].
    #[inline(always)]
    fn float(&mut self) -> Option<()> {
        let Arg::Float(f) = self.arg(Opcode::Binfloat)? else { return None };
        self.stack.push(Value::Float(f));
        Some(())
    }

    fn long(&mut self) -> Option<()> {
        match self.arg(Opcode::Long1)? {
            Arg::Int(i) => self.stack.push(Value::Int(i)),
            arg => match Int::from_signed_le(&args::data(arg)) {
                Int::Small(i) => self.stack.push(Value::Int(i)),
                Int::Big(big) => self.push_object(Value::BigInt(Box::new(big)))?,
            },
        }
        Some(())
    }

    /// SHORT_BINUNICODE, BINUNICODE, BINUNICODE8: the str made from the input where it
    /// lies, in its place on the stack. Going through the argument reader's `Arg` moved each
    /// str through three stack temporaries, each read back wider than it was written (a
    /// stalled store forward per move, a third of the strs workload); building a `PyString`
    /// and pushing it still moved it twice, so an empty str is pushed and then filled.
    #[inline(always)]
    fn unicode(&mut self, op: Opcode) -> Option<()> {
        let width = args::length_width(op.info().arg)?;
        let rest = self.reader.input().rest();
        let length = usize::try_from(args::uint_le(rest.get(..width)?)).ok()?;
        let window = &rest[width..];
        if length > window.len() {
            return None;
        }
        if length >= PRESCAN_BEFORE {
            self.learn_before_copying()?;
        }
        self.charge(length as u64)?;
        self.charge(OBJECT_CHARGE)?;
        self.stack.push(Value::Str(PyString::EMPTY));
        let Some(Value::Str(text)) = self.stack.last_mut() else { unreachable!("pushed just above") };
        text.set_surrogatepass_window(window, length).ok()?;
        self.reader.input().skip(width + length);
        Some(())
    }

    fn charge(&mut self, bytes: u64) -> Option<()> {
        self.budget.charge(bytes).ok()
    }

    #[inline]
    fn push_object(&mut self, value: Value) -> Option<()> {
        self.charge(OBJECT_CHARGE)?;
        self.stack.push(value);
        Some(())
    }

    /// Pushes a container of this depth; deeper than `max_depth` gives up.
    fn push_container(&mut self, value: Value, depth: u32) -> Option<()> {
        self.push_object(value)?;
        self.note_depth(self.stack.len() - 1, depth)
    }

    /// The entry at `pos` is at least `depth` deep.
    fn note_depth(&mut self, pos: usize, depth: u32) -> Option<()> {
        if depth as usize > self.options.max_depth {
            return None;
        }
        if depth > 0 {
            let watched = self.watch(pos);
            watched.depth = watched.depth.max(depth);
        }
        Some(())
    }

    /// The watched entry for `pos`, the highest position watched so far or above it.
    fn watch(&mut self, pos: usize) -> &mut Watched {
        if self.watched.last().is_none_or(|w| w.pos != pos) {
            self.watched.push(Watched { pos, depth: 0, node: None, fetched_early: false, large_dict: false });
        }
        self.watched.last_mut().expect("pushed above")
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// The items above the topmost MARK, which is popped, and the depth of a container of
    /// them.
    fn pop_mark(&mut self) -> Option<(Vec<Value>, u32)> {
        let mark = *self.marks.last()?;
        let depth = self.leave(mark)?;
        self.marks.pop();
        self.charge(SLOT_CHARGE * (self.stack.len() - mark) as u64)?;
        let items = self.stack.split_off(mark);
        let depth = if items.is_empty() { 0 } else { depth + 1 };
        Some((items, depth))
    }

    /// The entries at `start` and above are leaving the stack, complete: a fetched list or
    /// dict becomes its [`Shared`] node, a large dict has its keys checked. Gives the
    /// deepest depth among them. Called before the opcode changes anything else: a large
    /// dict whose keys only the general loader can judge is handed over with it.
    #[inline]
    fn leave(&mut self, start: usize) -> Option<u32> {
        let mut deepest = 0;
        while self.watched.last().is_some_and(|w| w.pos >= start) {
            let watched = self.watched.pop()?;
            if watched.large_dict && check_large_dict(&self.stack[watched.pos]).is_none() {
                self.watched.push(watched);
                return self.hand_off();
            }
            deepest = deepest.max(watched.depth);
            if let Some((node, slot)) = watched.node {
                let value = std::mem::replace(&mut self.stack[watched.pos], Value::Shared(node.clone()));
                node.set(value).ok()?;
                self.memo.fill(slot, MemoEntry { value: Value::Shared(node), depth: watched.depth, open_at: None });
            }
        }
        Some(deepest)
    }

    /// APPEND, APPENDS, SETITEM, SETITEMS: into the list or dict below the items, which must
    /// still be on the stack as itself (not a node some GET fetched already).
    fn fill(&mut self, op: Opcode) -> Option<()> {
        let batch = matches!(op, Opcode::Appends | Opcode::Setitems);
        let start = match op {
            Opcode::Append => self.stack.len().checked_sub(1)?,
            Opcode::Setitem => self.stack.len().checked_sub(2)?,
            _ => *self.marks.last()?,
        };
        // The fence below the batch's own MARK.
        let fence = self.marks.len().checked_sub(1 + usize::from(batch)).map_or(0, |m| self.marks[m]);
        let target = start.checked_sub(1).filter(|&t| t >= fence)?;
        let count = self.stack.len() - start;
        let depth = self.leave(start)? + 1;
        // A list or dict fetched while it was on the stack may hold itself once filled: a
        // cycle, which the general loader closes with a weak link.
        if self.watched.last().is_some_and(|w| w.pos == target && w.fetched_early) {
            return self.hand_off();
        }
        let mut container = std::mem::take(&mut self.stack[target]);
        let filled = match (op, &mut container) {
            (Opcode::Append | Opcode::Appends, Value::List(list)) => {
                move_tail(&mut self.stack, start, list);
                Some(false)
            }
            (Opcode::Setitem | Opcode::Setitems, Value::Dict(pairs)) if count % 2 == 0 => {
                let large = keys_fit(pairs, &self.stack[start..]);
                if large.is_some() {
                    pairs.extend(take_pairs(&mut self.stack[start..]));
                    self.stack.truncate(start);
                }
                large
            }
            _ => None,
        };
        // Anything else, and keys only the general loader can judge, are handed over.
        let Some(large) = filled else {
            self.stack[target] = container;
            return self.hand_off();
        };
        self.stack[target] = container;
        if batch {
            self.marks.pop();
        }
        self.charge(SLOT_CHARGE * count as u64)?;
        if count > 0 {
            self.note_depth(target, depth)?;
        }
        if large {
            self.watch(target).large_dict = true;
        }
        Some(())
    }

    /// After a MARK over a long list (a full batch in it already): reads the batch's
    /// numbers, bools and `None`s straight into the list, and the APPENDS that ends it.
    /// Through the stack each was written twice, and the block copy into the list was a
    /// fifth of decoding a list of ints or floats. At any other opcode the items read so far
    /// go onto the stack, and the main loop goes on from that opcode as if it had read them.
    /// A short list's one batch is left to the main loop: mixed with strs and containers, it
    /// would mostly be read twice (nested data took 9% longer). So are strs: one filled in
    /// place in the list, by partial stores to memory not in the cache, took longer than one
    /// filled on the stack and copied with the rest.
    fn fill_list_directly(&mut self) -> Option<()> {
        let start = self.stack.len();
        let Some(target) = start.checked_sub(1) else { return Some(()) };
        // The list must be below this MARK and no other. (A list some GET fetched while it
        // was on the stack never is: what the GET pushed stays above it, as it can be
        // filled no more.)
        let below = self.marks.len().checked_sub(2).map_or(0, |m| self.marks[m]);
        let atom_next = self.reader.input().rest().first().is_some_and(|&code| ATOMS[code as usize]);
        let long_list = matches!(&self.stack[target], Value::List(list) if list.len() >= BATCH_SIZE);
        if !atom_next || !long_list || target < below {
            return Some(());
        }
        let Value::List(list) = &mut self.stack[target] else { unreachable!("matched above") };
        let mut items = std::mem::take(list);
        // The list grows by whole batches, as the block copy grew it: pushed, a list of
        // 2^20 values would be past glibc's largest mmap threshold, and its pages faulted in
        // afresh on every decode.
        if items.capacity() - items.len() < BATCH_SIZE {
            items.reserve_exact(items.len());
        }
        // The list stands in for the stack while the batch is read, so the atoms' readers
        // push onto it.
        let stack = std::mem::replace(&mut self.stack, items);
        let old = self.stack.len();
        let appends = self.atom_run();
        let mut items = std::mem::replace(&mut self.stack, stack);
        if !appends? {
            move_tail(&mut items, old, &mut self.stack);
            self.stack[target] = Value::List(items);
            return Some(());
        }
        // As `fill` has it; the list's depth, 1, was noted at its first batch.
        let count = items.len() - old;
        self.stack[target] = Value::List(items);
        self.marks.pop();
        self.charge(SLOT_CHARGE * count as u64)
    }

    /// [`Direct::fill_list_directly`]'s loop, with the list as the stack: whether it ended
    /// at an APPENDS, read, rather than at another opcode, not read. Kept out of line:
    /// inlined, it took 7% longer on floats.
    #[inline(never)]
    fn atom_run(&mut self) -> Option<bool> {
        loop {
            if let Some(int) = self.reader.next_small_int() {
                self.stack.push(Value::Int(int));
                continue;
            }
            if let Some(float) = self.reader.next_float() {
                self.stack.push(Value::Float(float));
                continue;
            }
            let taken = |code| ATOMS[code as usize] || code == Opcode::Frame as u8 || code == Opcode::Appends as u8;
            let Some((_, op)) = self.reader.next_if(taken).ok()? else { return Some(false) };
            match op {
                Opcode::Binint1 | Opcode::Binint2 | Opcode::Binint => self.int(op)?,
                Opcode::Long1 => self.long()?,
                Opcode::Binfloat => self.float()?,
                Opcode::None => self.stack.push(Value::None),
                Opcode::Newtrue => self.stack.push(Value::Bool(true)),
                Opcode::Newfalse => self.stack.push(Value::Bool(false)),
                Opcode::Frame => {}
                _ => return Some(true),
            }
        }
    }

    /// MEMOIZE, BINPUT, LONG_BINPUT. Only fetched entries are kept.
    #[inline(always)]
    fn put(&mut self, op: Opcode) -> Option<()> {
        let index = match self.arg(op)? {
            Arg::Int(i) => i as u64,
            _ => self.memo.len(),
        };
        let key = self.memo.put_at(index, self.options.max_memo).ok()?;
        if self.stack.len() <= self.fence() {
            return None;
        }
        match key {
            Some(key) => self.put_fetched(key),
            None => Some(()),
        }
    }

    /// Keeps the top of the stack in the memo: an atom as it is, a str, bytes or tuple as
    /// a node now, a list or dict as a node that is set once it leaves the stack.
    fn put_fetched(&mut self, key: u64) -> Option<()> {
        let pos = self.stack.len() - 1;
        let depth = self.watched.last().filter(|w| w.pos == pos).map_or(0, |w| w.depth);
        let top = &mut self.stack[pos];
        let mut open_at = None;
        let value = match top {
            Value::List(_) | Value::Dict(_) => {
                let watched = self.watch(pos);
                if watched.node.is_some() {
                    return None;
                }
                let node = Shared::empty();
                watched.node = Some((node.clone(), key));
                open_at = Some(pos);
                Value::Shared(node)
            }
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Shared(_) => top.clone(),
            _ => {
                let node = Shared::new(std::mem::take(top));
                *top = Value::Shared(node.clone());
                Value::Shared(node)
            }
        };
        self.memo.fill(key, MemoEntry { value, depth, open_at });
        Some(())
    }

    /// BINGET, LONG_BINGET, of an entry that is complete.
    #[inline(always)]
    fn get(&mut self, op: Opcode) -> Option<()> {
        if !self.known && !self.learn()? {
            return None;
        }
        let Arg::Int(index) = self.arg(op)? else { return None };
        let entry = self.memo.get(index as u64)?;
        // A fetched entry is an atom or a node; the node's clone, inlined, is all a GET of
        // one costs (`Value::clone` is a call through every variant).
        let value = match &entry.value {
            Value::Shared(node) => Value::Shared(node.clone()),
            atom => atom.clone(),
        };
        let (mut depth, open_at) = (entry.depth, entry.open_at);
        if let Some(pos) = open_at {
            // A list or dict still on the stack: its depth so far is final, as it can be
            // filled no more.
            let open = self.watched.binary_search_by_key(&pos, |w| w.pos).ok()?;
            self.watched[open].fetched_early = true;
            depth = self.watched[open].depth;
        }
        self.stack.push(value);
        self.note_depth(self.stack.len() - 1, depth)
    }

    /// STACK_GLOBAL: the global named by the two strs below, as the general loader names it
    /// (Python 2 names mapped below protocol 3, `fresh_names` from the strs' identities),
    /// if the class policy allows it.
    fn stack_global(&mut self) -> Option<()> {
        let start = self.stack.len().checked_sub(2).filter(|&s| s >= self.fence())?;
        if self.leave(start)? > 0 {
            return None;
        }
        let name = self.stack.pop()?;
        let module = self.stack.pop()?;
        let (module, name) = (self.global_name(&module)?, self.global_name(&name)?);
        let fresh_names = self.global_names.fresh(module, name);
        let global = global(self.reader.proto(), self.options.fix_imports, module.0.to_owned(), name.0.to_owned());
        self.push_global(Global { fresh_names, ..global.ok()? })
    }

    /// GLOBAL: the global its two lines name (below protocol 4, how protocol 2 writes a
    /// class), as the general loader names it.
    fn global(&mut self) -> Option<()> {
        let Arg::Pair(module, name) = self.arg(Opcode::Global)? else { return None };
        let (module, name) = (String::from_utf8(module).ok()?, String::from_utf8(name).ok()?);
        self.push_global(global(self.reader.proto(), self.options.fix_imports, module, name).ok()?)
    }

    /// Pushes a global, if the class policy allows it.
    fn push_global(&mut self, global: Global) -> Option<()> {
        if let Some(policy) = &self.options.class_policy {
            policy.admit(&global).ok()?;
        }
        self.push_object(Value::Global(Box::new(global)))
    }

    /// The text of a str STACK_GLOBAL takes and its identity: its node's, or a new one.
    fn global_name<'v>(&mut self, value: &'v Value) -> Option<(&'v str, usize)> {
        match value {
            Value::Str(s) => {
                self.fresh_identity -= 1;
                Some((s.as_str()?, self.fresh_identity))
            }
            Value::Shared(node) => match node.get()? {
                Value::Str(s) => Some((s.as_str()?, node.id())),
                _ => None,
            },
            _ => None,
        }
    }

    /// NEWOBJ of a class and an empty tuple: `copyreg.__newobj__(cls)`, as the general loader
    /// makes it. Other arguments give up (their depth is not counted here).
    fn newobj(&mut self) -> Option<()> {
        let start = self.stack.len().checked_sub(2).filter(|&s| s >= self.fence())?;
        let global = match &self.stack[start] {
            Value::Global(global) => Some(global),
            Value::Shared(node) => match node.get() {
                Some(Value::Global(global)) => Some(global),
                _ => None,
            },
            _ => None,
        };
        let class = global.is_some_and(|g| !crate::compat::is_no_class(&g.module, &g.name));
        if !class || !matches!(&self.stack[start + 1], Value::Tuple(args) if args.is_empty()) {
            return self.hand_off();
        }
        let class_depth = self.leave(start)?;
        self.stack.pop();
        let class = self.stack.pop()?;
        let newobj = match &mut self.newobj {
            Some((node, count)) => {
                *count += 1;
                node.clone()
            }
            None => {
                self.charge(OBJECT_CHARGE)?;
                let node = Shared::new(Value::Global(Box::new(Global::new("copyreg", "__newobj__"))));
                self.newobj = Some((node.clone(), 1));
                node
            }
        };
        // The arguments' tuple, with the class first, and the object.
        self.charge(2 * OBJECT_CHARGE)?;
        let object = Object::new(Value::Shared(newobj), Value::Tuple(vec![class]));
        self.stack.push(Value::Object(Box::new(object)));
        self.note_depth(self.stack.len() - 1, class_depth + 2)
    }

    /// BUILD: the state of the object below it, which must have none yet (a second BUILD
    /// would drop the first state, which the general loader does not count).
    fn build(&mut self) -> Option<()> {
        let start = self.stack.len().checked_sub(1)?;
        let target = start.checked_sub(1).filter(|&t| t >= self.fence())?;
        if !matches!(&self.stack[target], Value::Object(object) if object.state.is_none()) {
            return self.hand_off();
        }
        let state_depth = self.leave(start)?;
        let state = self.stack.pop()?;
        if let Value::Object(object) = &mut self.stack[target] {
            object.state = Some(state);
        }
        self.note_depth(target, state_depth + 1)
    }

    /// STOP: the value, unless the general loader must judge it (items left on the stack),
    /// or only it has the value's shape: a single NEWOBJ's `copyreg.__newobj__` is not shared
    /// there (here it is a node from the first NEWOBJ on), and a root list or dict fetched
    /// while on the stack is one object however it is reached.
    fn stop(&mut self) -> Option<Value> {
        let judged = self.stack.len() != 1 || !self.marks.is_empty();
        if judged || matches!(self.newobj, Some((_, 1))) || self.watched.first().is_some_and(|w| w.node.is_some()) {
            return self.hand_off();
        }
        self.leave(0)?;
        self.stack.pop()
    }

    /// Stops before the opcode just taken, whose argument is not read yet, for the general
    /// loader to go on from it.
    fn hand_off<T>(&mut self) -> Option<T> {
        self.halt = Halt::HandOff;
        None
    }

    /// Where the opcode just taken starts (its argument not read yet).
    fn op_start(&self) -> usize {
        self.reader.offset() as usize - 1
    }

    /// Runs the [`prescan`], if it has not run, with the opcode just taken as its mark: true
    /// if this pass may go on with its answer (nothing put so far is fetched); false if a
    /// pass must start again with it; `None` if the general loader must decide.
    fn learn(&mut self) -> Option<bool> {
        if self.known {
            return Some(true);
        }
        let found = prescan(self.data, self.op_start())?;
        if found.fetched_early {
            self.halt = Halt::Restart;
            self.restart_with = Some(found);
            return Some(false);
        }
        self.memo.learn(found.slots, found.fetched);
        self.known = true;
        Some(true)
    }

    /// Before a large payload is copied, [`Direct::learn`]: a second pass would copy it again.
    #[cold]
    fn learn_before_copying(&mut self) -> Option<()> {
        self.learn()?.then_some(())
    }

    /// Before BINBYTES, SHORT_BINBYTES, BINBYTES8 or BYTEARRAY8's payload is read:
    /// [`Direct::learn_before_copying`] if it is large.
    #[inline(always)]
    fn before_payload(&mut self, op: Opcode) -> Option<()> {
        let width = args::length_width(op.info().arg)?;
        let length = self.reader.input().rest().get(..width).map_or(0, args::uint_le);
        if length >= PRESCAN_BEFORE as u64 {
            self.learn_before_copying()?;
        }
        Some(())
    }

    /// What this pass holds, for the general loader to go on from the opcode just taken.
    fn into_held(mut self) -> FastLoad<Value> {
        let at = self.op_start();
        let Some(before) = prefix(self.data, at) else { return FastLoad::Declined };
        let memo = self.memo.take_entries().into_iter().map(|(index, entry)| (index, entry.value)).collect();
        let open = self.watched.iter().filter_map(|w| w.node.as_ref().map(|(node, _)| (w.pos, node.id()))).collect();
        FastLoad::Held(Box::new(Held {
            at,
            proto: self.reader.proto(),
            highest: before.highest,
            stack: std::mem::take(&mut self.stack),
            marks: std::mem::take(&mut self.marks),
            memo,
            open,
            memo_len: self.memo.len(),
            budget: self.budget,
            global_names: std::mem::take(&mut self.global_names),
            newobj: self.newobj.as_ref().map(|(node, _)| node.id()),
        }))
    }
}

/// Moves the values of `from` at `start` and above to the end of `to`, by one block copy.
/// Extending `to` from a `Drain` moved them one by one (40% of decoding a list of floats);
/// `split_off` then `append` copies twice and allocates per batch (ints 16 ms, this 13).
fn move_tail(from: &mut Vec<Value>, start: usize, to: &mut Vec<Value>) {
    assert!(start <= from.len());
    let count = from.len() - start;
    to.reserve(count);
    // SAFETY: `from[start..]` holds `count` initialized values and `to` has room for `count`
    // more past its length (reserved above); they are two vectors, so the ranges do not
    // overlap. Nothing between the copy and the two `set_len`s can panic, and after them
    // each value is owned by `to` alone.
    unsafe {
        std::ptr::copy_nonoverlapping(from.as_ptr().add(start), to.as_mut_ptr().add(to.len()), count);
        from.set_len(start);
        to.set_len(to.len() + count);
    }
}

/// The items of `items`, an even number, as pairs, each moved out in place of a `None`.
/// Pairing the items of a `Drain` or an `IntoIter` instead went through stack temporaries
/// that stalled on their own stores (12% of the records workload).
fn take_pairs(items: &mut [Value]) -> impl Iterator<Item = (Value, Value)> + '_ {
    items.chunks_exact_mut(2).map(|pair| (std::mem::take(&mut pair[0]), std::mem::take(&mut pair[1])))
}

/// A dict key this path can compare: keys of other types need Python's equality across
/// types (`1 == 1.0 == True`) and hashability, which the general loader has.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'v> {
    Str(&'v [u8]),
    Bytes(&'v [u8]),
    Int(i64),
    None,
}

impl Key<'_> {
    fn of(value: &Value) -> Option<Key<'_>> {
        Some(match value {
            Value::Str(s) => Key::Str(s.as_surrogatepass_bytes()),
            Value::Bytes(b) => Key::Bytes(b),
            Value::Int(i) => Key::Int(*i),
            Value::None => Key::None,
            Value::Shared(node) => return Key::of(node.get()?),
            _ => return None,
        })
    }
}

/// Whether the keys of `items` (keys and values alternating) fit a dict holding `pairs`:
/// each one of a type this path compares and none repeating one before it. `Some(true)`
/// says that the dict would be too large for comparing (then [`check_large_dict`] checks it
/// whole); `None` leaves the dict to the general loader.
fn keys_fit(pairs: &[(Value, Value)], items: &[Value]) -> Option<bool> {
    // An odd last item counts as a key: the caller refuses odd items, but not first.
    if pairs.len() + items.len().div_ceil(2) > LINEAR_KEYS {
        return Some(true);
    }
    // Each key's `Key` made once, then compared with those before it.
    let mut keys = [Key::None; LINEAR_KEYS];
    let old_keys = pairs.iter().map(|(key, _)| key);
    for (i, key) in old_keys.chain(items.iter().step_by(2)).enumerate() {
        let key = Key::of(key)?;
        if i >= pairs.len() && keys[..i].contains(&key) {
            return None;
        }
        keys[i] = key;
    }
    Some(false)
}

/// Checks that no key of a large dict repeats, by hashing.
fn check_large_dict(dict: &Value) -> Option<()> {
    let Value::Dict(pairs) = dict else { return None };
    let mut keys = HashSet::with_capacity(pairs.len());
    pairs.iter().all(|(k, _)| Key::of(k).is_some_and(|key| keys.insert(key))).then_some(())
}

#[cfg(test)]
mod tests {
    use super::{load, FastLoad};
    use crate::{dumps, UnpicklerOptions, Value};

    /// What the direct path makes of `bytes`: "done", "held" or "declined".
    fn outcome_with(bytes: &[u8], options: &UnpicklerOptions) -> &'static str {
        match load(bytes, options) {
            FastLoad::Done(..) => "done",
            FastLoad::Held(_) => "held",
            FastLoad::Declined => "declined",
        }
    }

    fn outcome(bytes: &[u8]) -> &'static str {
        outcome_with(bytes, &UnpicklerOptions::default())
    }

    /// What CPython 3.11 writes for shared and plain data, which this path decodes.
    #[test]
    fn takes_cpython_data_with_sharing() {
        // pickle.dumps([x, x], 2) with x = [1]: x is fetched while still on the stack.
        assert_eq!(outcome(b"\x80\x02]q\x00(]q\x01K\x01ah\x01e."), "done");
        // pickle.dumps((x, x), 4)
        assert_eq!(outcome(b"\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00]\x94K\x01ah\x00\x86\x94."), "done");
        // pickle.dumps({'a': x, 'b': x}, 4)
        let pickle = b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94K\x01a\x8c\x01b\x94h\x02u.";
        assert_eq!(outcome(pickle), "done");
        // pickle.dumps((s, s, [s]), 4) with s = 'abc'
        let pickle = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x03abc\x94h\x00]\x94h\x00a\x87\x94.";
        assert_eq!(outcome(pickle), "done");
        let large = Value::Dict((0..100).map(|i| (Value::Int(i), Value::List(vec![]))).collect());
        assert_eq!(outcome(&dumps(&large, 4).unwrap()), "done");
        let deep = (0..200).fold(Value::None, |v, _| Value::Tuple(vec![v]));
        assert_eq!(outcome(&dumps(&deep, 2).unwrap()), "done");
    }

    /// Opcodes this path does not decode, and shapes only the general loader has, are
    /// handed over where they are; errors and cases only the general loader judges are left
    /// to it whole.
    #[test]
    fn hands_over_or_declines_where_the_general_loader_decides() {
        // pickle.dumps(l, 2) with l = [l], and d = {'me': d}: cycles.
        assert_eq!(outcome(b"\x80\x02]q\x00h\x00a."), "held");
        assert_eq!(outcome(b"\x80\x02}q\x00X\x02\x00\x00\x00meq\x01h\x00s."), "held");
        // A list filled after it was fetched; a global and items left on the stack.
        assert_eq!(outcome(b"\x80\x02]q\x00h\x00\x85a."), "held");
        assert_eq!(outcome(b"\x80\x02cbuiltins\nlist\n)."), "held");
        assert_eq!(outcome(b"\x80\x02K\x01K\x02."), "held");
        // Keys that repeat, in a small dict and a large one, and keys of other types.
        assert_eq!(outcome(b"\x80\x02(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02d."), "held");
        let pickle = b"\x80\x02}(K\x00NK\x01NK\x02NK\x03NK\x04NK\x05NK\x06NK\x07NK\x08NK\x09NK\x00\x88u.";
        assert_eq!(outcome(pickle), "held");
        assert_eq!(outcome(b"\x80\x02}(K\x01N\x88K\x02u."), "held");
        // DICT of an odd number of items, 17 (8 pairs and a key), and 3.
        let mut odd = b"\x80\x02(".to_vec();
        (0..17u8).for_each(|i| odd.extend([b'K', i]));
        odd.extend(b"d.");
        assert_eq!(outcome(&odd), "held");
        assert_eq!(outcome(b"\x80\x02(K\x01K\x02K\x03d."), "held");
        // An index put twice.
        assert_eq!(outcome(b"\x80\x02K\x01q\x00K\x02q\x00h\x00\x86."), "declined");
        let deep = (0..20).fold(Value::None, |v, _| Value::List(vec![v]));
        let options = UnpicklerOptions { max_depth: 10, ..UnpicklerOptions::default() };
        assert_eq!(outcome_with(&dumps(&deep, 2).unwrap(), &options), "declined");
    }
}
