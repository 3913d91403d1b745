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
    // Objects pushed above each MARK pushed, `levels[0]` below any; more MARKs open at
    // once than there are levels give no answer.
    let mut levels = [0usize; MAX_MARKS + 1];
    let mut open = 0;
    loop {
        let spent = usize::try_from(ahead.offset() - start).ok()?;
        if spent > *budget {
            *budget = 0;
            return None;
        }
        let code = ahead.peek().ok()??;
        let op = Opcode::from_byte(code)?;
        let effect = EFFECTS[code as usize];
        let pops = usize::from(effect.pops);
        let taken_from_below = match effect.to_mark {
            true => open == 0 || levels[open - 1] < pops,
            false => levels[open] < pops,
        };
        if taken_from_below {
            *budget -= spent;
            // Only the opcode's own MARK may be open.
            let own_mark = usize::from(effect.to_mark && open == 1);
            return (open == own_mark).then_some((op, levels[0]));
        }
        ahead.take_peeked();
        ahead.skip_arg(op).ok()?;
        if effect.to_mark {
            open -= 1;
        }
        levels[open] = levels[open] - pops + usize::from(effect.pushes);
        if effect.mark {
            open += 1;
            *levels.get_mut(open)? = 0;
        }
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
