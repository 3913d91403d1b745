//! Where a run of opcodes hands back to what is below it on the stack: a look ahead by the
//! stack effects the opcode table gives every opcode (pickletools' `stack_before` and
//! `stack_after`), without building anything.
//!
//! A decoder that reads a container as it goes must know, where no MARK opens a batch,
//! whether an entry follows (its item, then APPEND; its key and value, then SETITEM) or the
//! container is complete. That is a question of stack depth, not of shapes: the opcodes
//! after the container are an entry exactly when, counted from there, the first opcode
//! that takes more than they pushed is APPEND (SETITEM) with one item (two) pushed and no
//! MARK open. [`reach`] answers it for any opcodes, from the same table as the
//! disassembler, so no decoder writes stack effects by hand.

use super::input::SliceSource;
use super::reader::OpReader;
use crate::opcode::{Opcode, StackItem, OPCODES};

/// What one opcode does to the stack: pops to the topmost MARK first (taking the MARK)
/// if `to_mark`, then pops `pops`, then pushes `pushes` (and a MARK if `mark`).
#[derive(Clone, Copy)]
struct Effect {
    to_mark: bool,
    pops: u8,
    pushes: u8,
    mark: bool,
}

const NO_EFFECT: Effect = Effect { to_mark: false, pops: 0, pushes: 0, mark: false };

/// Every code byte's [`Effect`], from the opcode table.
static EFFECTS: [Effect; 256] = effects();

const fn effects() -> [Effect; 256] {
    let mut table = [NO_EFFECT; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        let info = &OPCODES[i];
        table[info.code as usize] = effect(info.stack_before, info.stack_after);
        i += 1;
    }
    table
}

/// The effect of taking `before` (bottom first; from a MARK on, everything above the
/// topmost MARK) and leaving `after`.
const fn effect(before: &[StackItem], after: &[StackItem]) -> Effect {
    let mut below_mark = before.len();
    let mut i = 0;
    while i < before.len() {
        if matches!(before[i], StackItem::Mark) {
            below_mark = i;
            break;
        }
        i += 1;
    }
    let mark = after.len() == 1 && matches!(after[0], StackItem::Mark);
    Effect {
        to_mark: below_mark < before.len(),
        pops: below_mark as u8,
        pushes: if mark { 0 } else { after.len() as u8 },
        mark,
    }
}

/// The stack as a look ahead counts it: objects pushed above each MARK pushed (`levels[0]`
/// below any), by the opcodes' [`Effect`]s. More MARKs open at once than there are levels
/// give no answer.
struct Walk {
    levels: [usize; MAX_MARKS + 1],
    open: usize,
}

impl Walk {
    fn new() -> Walk {
        Walk { levels: [0; MAX_MARKS + 1], open: 0 }
    }

    /// Whether `effect` takes more than the opcodes stepped over pushed (a MARK they did not
    /// push included).
    fn takes_from_below(&self, effect: Effect) -> bool {
        let pops = usize::from(effect.pops);
        match effect.to_mark {
            true => self.open == 0 || self.levels[self.open - 1] < pops,
            false => self.levels[self.open] < pops,
        }
    }

    /// Whether only the MARK of an opcode with `effect` (if it takes one) is open.
    fn closed_but_own(&self, effect: Effect) -> bool {
        self.open == usize::from(effect.to_mark && self.open == 1)
    }

    /// Applies `effect`, which does not take from below.
    fn apply(&mut self, effect: Effect) -> Option<()> {
        if effect.to_mark {
            self.open -= 1;
        }
        self.levels[self.open] = self.levels[self.open] - usize::from(effect.pops) + usize::from(effect.pushes);
        if effect.mark {
            self.open += 1;
            *self.levels.get_mut(self.open)? = 0;
        }
        Some(())
    }
}

/// Steps `ahead` over opcodes until one takes more from the stack than the opcodes stepped
/// over pushed (a MARK they did not push included), and gives that opcode, not taken, and
/// how many objects they pushed below any MARK (the opcode's own MARK, if it takes one,
/// may be open); `None` where they take apart a MARK's batch from below
/// (no pickle a pickler writes does), the data ends or is malformed, or more than `budget`
/// bytes would be stepped over (which is then spent).
pub(crate) fn reach<const C: bool>(
    ahead: &mut OpReader<SliceSource<'_>, C>,
    budget: &mut usize,
) -> Option<(Opcode, usize)> {
    let start = ahead.offset();
    let mut walk = Walk::new();
    loop {
        let (op, effect) = next_effect(ahead, start, budget)?;
        if walk.takes_from_below(effect) {
            spend(ahead, start, budget);
            return walk.closed_but_own(effect).then_some((op, walk.levels[0]));
        }
        ahead.take_peeked();
        ahead.skip_arg(op).ok()?;
        walk.apply(effect)?;
    }
}

/// The opcode `ahead` is at, peeked, and its effect; `None` at the end of the data, on a
/// byte that is no opcode, or past `budget` bytes from `start` (then spent).
fn next_effect<const C: bool>(
    ahead: &mut OpReader<SliceSource<'_>, C>,
    start: u64,
    budget: &mut usize,
) -> Option<(Opcode, Effect)> {
    let spent = usize::try_from(ahead.offset() - start).ok()?;
    if spent > *budget {
        *budget = 0;
        return None;
    }
    let code = ahead.peek().ok()??;
    Some((Opcode::from_byte(code)?, EFFECTS[code as usize]))
}

/// Spends from `budget` the bytes `ahead` stepped over from `start`.
fn spend<const C: bool>(ahead: &OpReader<SliceSource<'_>, C>, start: u64, budget: &mut usize) {
    *budget -= (ahead.offset() - start) as usize;
}

/// Where the object that starts at `ahead` ends, and the memo indices it fetches that were
/// put before it: see [`object`].
pub(crate) struct ObjectExtent {
    /// The offset just past its last opcode (its puts included).
    pub(crate) end: u64,
    /// The indices its GETs fetch that it did not put itself, in the order met.
    pub(crate) fetched_before: Vec<u64>,
    /// The indices it puts.
    pub(crate) put: Vec<u64>,
    /// Whether it has a GET at all.
    pub(crate) fetches: bool,
    /// Whether it has a STACK_GLOBAL, whose names' freshness depends on every global before.
    pub(crate) names_globals: bool,
}

/// Steps `ahead` over the opcodes of one object, whatever its shape, for a decoder that
/// hands it to another: up to the opcode that takes from below it (the APPEND or SETITEM
/// that puts it in its container, a batch's end, a TUPLE) or STOP. Where siblings follow it
/// before that (the rest of a batch, a tuple's other items), it ends where the first of
/// them starts: the last time the stack went from one object to two and stayed there (a
/// BUILD or a REDUCE folds a second object into the first). `memo_len` is the memo's length
/// before it, which MEMOIZE puts at. `None` as [`reach`] gives it, or for no object.
pub(crate) fn object<const C: bool>(
    ahead: &mut OpReader<SliceSource<'_>, C>,
    budget: &mut usize,
    memo_len: u64,
) -> Option<ObjectExtent> {
    let start = ahead.offset();
    let mut walk = Walk::new();
    let mut memo = MemoSeen { next: memo_len, ..MemoSeen::default() };
    // Where the object after the first began, and where the MARK below any other opened.
    let (mut second, mut outer_mark) = (None, 0);
    let mut first_stack_global = None;
    loop {
        let at = ahead.offset();
        let (op, effect) = next_effect(ahead, start, budget)?;
        if op == Opcode::Stop || walk.takes_from_below(effect) {
            spend(ahead, start, budget);
            let end = match walk.levels[0] {
                1 => at,
                2.. => second?,
                0 => return None,
            };
            // What the object's own opcodes did, not its siblings'.
            let own = |seen: Vec<(u64, u64)>| seen.into_iter().filter(|&(at, _)| at < end).map(|(_, index)| index);
            let extent = ObjectExtent {
                end,
                fetches: memo.first_get.is_some_and(|at| at < end),
                fetched_before: own(memo.fetched_before).collect(),
                put: own(memo.puts).collect(),
                names_globals: first_stack_global.is_some_and(|at| at < end),
            };
            return walk.closed_but_own(effect).then_some(extent);
        }
        let (open, below) = (walk.open, walk.levels[0]);
        if op == Opcode::Mark && open == 0 {
            outer_mark = at;
        }
        if op == Opcode::StackGlobal {
            first_stack_global.get_or_insert(at);
        }
        ahead.take_peeked();
        memo.step(ahead, op, at)?;
        walk.apply(effect)?;
        match walk.levels[0] {
            2 if below == 1 => second = Some(if effect.to_mark && open == 1 { outer_mark } else { at }),
            0 | 1 => second = None,
            _ => {}
        }
    }
}

/// The memo as [`object`] follows it (over the siblings it looks past too), each put and
/// fetch with the offset of its opcode.
#[derive(Default)]
struct MemoSeen {
    put: rustc_hash::FxHashSet<u64>,
    puts: Vec<(u64, u64)>,
    /// Where the next MEMOIZE puts, if no index put before is put again.
    next: u64,
    /// The fetches of indices not put since the start.
    fetched_before: Vec<(u64, u64)>,
    first_get: Option<u64>,
}

impl MemoSeen {
    /// Steps over the argument of `op`, just taken at `at`, noting a put or a fetch.
    fn step<const C: bool>(&mut self, ahead: &mut OpReader<SliceSource<'_>, C>, op: Opcode, at: u64) -> Option<()> {
        let index = match op {
            Opcode::Memoize => Some(self.next),
            Opcode::Get | Opcode::Binget | Opcode::LongBinget | Opcode::Put | Opcode::Binput | Opcode::LongBinput => {
                Some(memo_index(ahead, op)?)
            }
            _ => {
                ahead.skip_arg(op).ok()?;
                None
            }
        };
        let Some(index) = index else { return Some(()) };
        match op {
            Opcode::Get | Opcode::Binget | Opcode::LongBinget => {
                self.first_get.get_or_insert(at);
                if !self.put.contains(&index) {
                    self.fetched_before.push((at, index));
                }
            }
            _ => {
                if self.put.insert(index) {
                    self.next += 1;
                }
                self.puts.push((at, index));
            }
        }
        Some(())
    }
}

/// The index argument of a GET or PUT just taken.
fn memo_index<const C: bool>(ahead: &mut OpReader<SliceSource<'_>, C>, op: Opcode) -> Option<u64> {
    match ahead.arg(op, &mut super::args::Budget::new(u64::MAX)).ok()? {
        super::args::Arg::Int(index) => u64::try_from(index).ok(),
        super::args::Arg::Line(line) => u64::try_from(super::text::parse_index_line(&line, "GET").ok()?).ok(),
        _ => None,
    }
}

/// How many MARKs [`reach`] follows open at once.
const MAX_MARKS: usize = 15;

#[cfg(test)]
mod tests {
    use super::reach;
    use crate::de::input::SliceSource;
    use crate::de::reader::OpReader;
    use crate::opcode::Opcode;

    fn reached(bytes: &[u8]) -> Option<(Opcode, usize)> {
        let mut reader: OpReader<SliceSource<'_>, false> = OpReader::new(SliceSource::new(bytes), 1 << 20);
        let mut budget = usize::MAX;
        reach(&mut reader, &mut budget)
    }

    /// What CPython writes after a container's opening: an entry, a batch, or the end.
    #[test]
    fn tells_an_entry_from_what_follows_a_container() {
        // After `]`: `K\x01a` is one item appended (pickle.dumps([1], 2) from its `]`).
        assert_eq!(reached(b"K\x01a."), Some((Opcode::Append, 1)));
        // A dict key and a list value with its own batch of one, then SETITEM.
        assert_eq!(reached(b"X\x01\x00\x00\x00k]K\x01as."), Some((Opcode::Setitem, 2)));
        // A batch: APPENDS takes the container, below its MARK.
        assert_eq!(reached(b"(K\x01K\x02e."), Some((Opcode::Appends, 0)));
        // A sibling, then TUPLE2 takes the container and it.
        assert_eq!(reached(b"K\x01\x86."), Some((Opcode::Tuple2, 1)));
        // A batch's end that belongs to the parent.
        assert_eq!(reached(b"K\x01e."), Some((Opcode::Appends, 1)));
    }

    fn object_end(bytes: &[u8], memo_len: u64) -> Option<(u64, Vec<u64>)> {
        let mut reader: OpReader<SliceSource<'_>, false> = OpReader::new(SliceSource::new(bytes), 1 << 20);
        let extent = super::object(&mut reader, &mut usize::MAX.clone(), memo_len)?;
        Some((extent.end, extent.fetched_before))
    }

    /// Where one object ends: before the opcode that takes it from below, or where a
    /// sibling after it starts; an object BUILD or SETITEM fills goes on past them.
    #[test]
    fn finds_where_one_object_ends() {
        // An item, then its APPEND; an item, then a sibling in a batch.
        assert_eq!(object_end(b"K\x01a.", 0), Some((2, vec![])));
        assert_eq!(object_end(b"K\x01K\x02e.", 0), Some((2, vec![])));
        // The whole pickle's object: a dict filled by SETITEM, with its puts, up to STOP.
        assert_eq!(object_end(b"}\x94\x8c\x01a\x94K\x01s.", 0), Some((9, vec![])));
        // An instance (class, EMPTY_TUPLE, NEWOBJ, state, BUILD), then a sibling MARKed tuple.
        let instance = b"c__main__\nC\n)\x81}b(K\x01te.";
        assert_eq!(object_end(instance, 0), Some((16, vec![])));
        // A tuple of a call and a str, then APPEND: the call's callable is STACK_GLOBAL of a
        // GET of an entry put before (index 3) and a str; MEMOIZE puts at the memo's length,
        // 5 then 6, so the GET of 5 fetches the object's own str.
        let call = b"h\x03\x8c\x01C\x94\x93\x94)Rh\x05\x86a";
        assert_eq!(object_end(call, 5), Some((13, vec![3])));
        // Nothing pushed, or the data ends.
        assert_eq!(object_end(b"e", 0), None);
        assert_eq!(object_end(b"K\x01", 0), None);
    }

    /// Malformed or truncated data, and a spent budget, give no answer.
    #[test]
    fn gives_no_answer_on_bad_data_or_a_spent_budget() {
        assert_eq!(reached(b"K\x01"), None);
        assert_eq!(reached(b"\xff"), None);
        // A MARK pushed, then APPEND taking across it.
        assert_eq!(reached(b"(a."), None);
        let mut reader: OpReader<SliceSource<'_>, false> =
            OpReader::new(SliceSource::new(b"K\x01K\x02K\x03a."), 1 << 20);
        let mut budget = 3;
        assert_eq!(reach(&mut reader, &mut budget), None);
        assert_eq!(budget, 0);
    }
}
