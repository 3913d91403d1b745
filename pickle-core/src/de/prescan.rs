//! The prescan: steps over a pickle in memory, up to its first STOP, without decoding it,
//! to learn what only the whole pickle tells: which memo entries some GET fetches, and the
//! highest protocol among the opcodes before a point.
//!
//! A fast path that keeps only the memo entries a GET will fetch (`direct`) asks it once it
//! needs to know; the general loader it hands over to then reads the memo entries kept and
//! carries on counting protocols where the prescan's count left off.
//!
//! Stepping is table-driven (from [`OPCODES`]) and takes no branch on the argument's kind
//! for the opcodes bulk data is made of: a payload is stepped over by its length, never
//! read. Protocol 0's text arguments (lines) take a slower path.

use super::args::{self, uint_le};
use super::memo::PLACE;
use super::text;
use crate::opcode::{ArgKind, Opcode, OPCODES};

/// A memo index the prescan saw put.
pub(crate) const PUT: u32 = 1 << 31;
/// A memo index put before the prescan's `mark`.
pub(crate) const EARLY: u32 = 1 << 30;
/// The part of a slot that numbers a fetched index.
const SLOT: u32 = PLACE;

/// What the prescan learnt.
pub(crate) struct Prescan {
    /// `slots[index]` is 0 for a memo index nobody fetches, else its place in a fetched-only
    /// memo plus one (under [`SLOT`]), with the [`PUT`] bit once put and [`EARLY`] if put
    /// before the mark.
    pub(crate) slots: Vec<u32>,
    /// How many indices some GET fetches.
    pub(crate) fetched: usize,
    /// Whether an index put before the mark is fetched.
    pub(crate) fetched_early: bool,
}

/// How to step over an opcode and its argument, as numbers rather than a choice between
/// kinds, so that stepping takes no branch on the kind (the mix of strs, ints and puts in
/// real pickles mispredicted one on most opcodes).
#[derive(Clone, Copy)]
struct Step {
    /// No opcode, or one whose argument is one or two lines: stepped over by [`slow`].
    slow: bool,
    /// Whether it reads or writes the memo.
    memo: bool,
    /// The protocol that introduced it.
    proto: u8,
    /// Bytes of argument before any payload: the fixed argument, or the payload's length.
    fixed: u8,
    /// For a counted payload, a mask of the little-endian length's bytes in a `u64`; 0 for
    /// none.
    length_mask: u64,
}

/// A counted payload's length of `width` bytes: its size and its mask.
const fn counted(width: u32) -> (u8, u64) {
    (width as u8, u64::MAX >> (64 - 8 * width))
}

/// How to step over an argument of this kind, where its size is not in lines.
const fn step_of(kind: ArgKind) -> Option<(u8, u64)> {
    if let Some(width) = args::length_width(kind) {
        return Some(counted(width as u32));
    }
    Some(match kind {
        ArgKind::None => (0, 0),
        ArgKind::Uint1 => (1, 0),
        ArgKind::Uint2 => (2, 0),
        ArgKind::Int4 | ArgKind::Uint4 => (4, 0),
        ArgKind::Uint8 | ArgKind::Float8 => (8, 0),
        // A signed length: a negative one is past any data, as the loader refuses it.
        ArgKind::String1 => counted(1),
        ArgKind::String4 | ArgKind::Long4 => counted(4),
        _ => return None,
    })
}

/// Every byte's [`Step`], from the opcode table.
static STEPS: [Step; 256] = {
    let mut steps = [Step { slow: true, memo: false, proto: 0, fixed: 0, length_mask: 0 }; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        let info = &OPCODES[i];
        let memo = matches!(
            info.opcode,
            Opcode::Memoize
                | Opcode::Binput
                | Opcode::LongBinput
                | Opcode::Binget
                | Opcode::LongBinget
                | Opcode::Put
                | Opcode::Get
        );
        let step = &mut steps[info.code as usize];
        step.memo = memo;
        step.proto = info.proto;
        if let Some((fixed, length_mask)) = step_of(info.arg) {
            *step = Step { slow: false, memo, proto: info.proto, fixed, length_mask };
        }
        i += 1;
    }
    steps
};

const STOP: u8 = Opcode::Stop as u8;
const BINPUT: u8 = Opcode::Binput as u8;
const LONG_BINPUT: u8 = Opcode::LongBinput as u8;
const PUT_LINE: u8 = Opcode::Put as u8;
const BINGET: u8 = Opcode::Binget as u8;
const LONG_BINGET: u8 = Opcode::LongBinget as u8;
const GET_LINE: u8 = Opcode::Get as u8;

/// Steps over the opcodes of `data` up to the first STOP. `None` for a byte that is no
/// opcode, a truncated pickle, a memo index put twice, or one no pickle of this size could
/// reach: the general loader decides those.
pub(crate) fn prescan(data: &[u8], mark: usize) -> Option<Prescan> {
    let mut found = Prescan { slots: Vec::new(), fetched: 0, fetched_early: false };
    let mut puts = 0usize;
    let mut pos = 0usize;
    loop {
        let (code, step, arg, next) = step_over(data, pos)?;
        pos = next;
        if !step.memo && code != STOP {
            continue;
        }
        if code == STOP {
            return Some(found);
        }
        let index = memo_index(data, code, arg, next, puts)?;
        // Pickles put index after index: the next one is pushed, without a call.
        if index == found.slots.len() {
            found.slots.push(0);
        } else if index > found.slots.len() {
            found.slots.resize(index + 1, 0);
        }
        let slot = &mut found.slots[index];
        if matches!(code, BINGET | LONG_BINGET | GET_LINE) {
            if *slot & SLOT == 0 {
                found.fetched += 1;
                *slot |= u32::try_from(found.fetched).ok().filter(|&f| f <= SLOT)?;
            }
            found.fetched_early |= *slot & EARLY != 0;
        } else if *slot & PUT != 0 {
            return None;
        } else {
            *slot |= if arg <= mark { PUT | EARLY } else { PUT };
            puts += 1;
        }
    }
}

/// What the opcodes before a point say.
pub(crate) struct Prefix {
    /// The highest protocol among them (what an `OpReader` counts).
    pub(crate) highest: u8,
}

/// Steps over the opcodes of `data` that start before `end`, which must be where one
/// starts. `None` where [`prescan`] would give `None`.
pub(crate) fn prefix(data: &[u8], end: usize) -> Option<Prefix> {
    let mut found = Prefix { highest: 0 };
    let mut pos = 0;
    while pos < end {
        let (_, step, _, next) = step_over(data, pos)?;
        pos = next;
        found.highest = found.highest.max(step.proto);
    }
    (pos == end).then_some(found)
}

/// The highest protocol among the opcodes up to the first STOP, as an `OpReader` counts
/// them: what a pickle's protocol is where it says none. `None` where [`prescan`] would give
/// `None`.
pub(crate) fn highest(data: &[u8]) -> Option<u8> {
    let (mut pos, mut highest) = (0, 0);
    loop {
        let (code, step, _, next) = step_over(data, pos)?;
        highest = highest.max(step.proto);
        if code == STOP {
            return Some(highest);
        }
        pos = next;
    }
}

/// The opcode at `pos`: its code, how to step over it, where its argument starts and where
/// the next opcode starts.
#[inline(always)]
fn step_over(data: &[u8], pos: usize) -> Option<(u8, Step, usize, usize)> {
    let code = *data.get(pos)?;
    let step = STEPS[code as usize];
    let arg = pos + 1;
    if step.slow {
        return Some((code, step, arg, slow(data, pos)?));
    }
    // The payload's length from eight bytes read at once, masked to its width (0 for an
    // opcode without one); near the end of the data, from the bytes there are.
    let word = match data.get(arg..arg + 8) {
        Some(word) => u64::from_le_bytes(word.try_into().expect("eight bytes")),
        None => uint_le(data.get(arg..)?),
    };
    let payload = usize::try_from(word & step.length_mask).ok()?;
    let next = (arg + usize::from(step.fixed)).checked_add(payload)?;
    (next <= data.len()).then_some((code, step, arg, next))
}

/// The memo index of a memo opcode whose argument is `data[arg..next]` (MEMOIZE's is the
/// count of puts before it); `None` for one no pickle of this size could reach.
#[inline(always)]
fn memo_index(data: &[u8], code: u8, arg: usize, next: usize, puts: usize) -> Option<usize> {
    let index = match code {
        BINPUT | BINGET => data[arg] as usize,
        LONG_BINPUT | LONG_BINGET => uint_le(&data[arg..next]) as usize,
        PUT_LINE | GET_LINE => usize::try_from(text::parse_index_line(&data[arg..next - 1], "").ok()?).ok()?,
        _ => puts,
    };
    (index < data.len()).then_some(index)
}

/// Where an opcode with lines for its argument ends; `None` for a byte that is no opcode.
#[cold]
fn slow(data: &[u8], at: usize) -> Option<usize> {
    let op = Opcode::from_byte(data[at])?;
    let end = after_line(data, at + 1)?;
    match op.info().arg {
        ArgKind::StringnlNoescapePair => after_line(data, end),
        _ => Some(end),
    }
}

/// Where the line that starts at `start` ends, past its newline.
fn after_line(data: &[u8], start: usize) -> Option<usize> {
    Some(start + data.get(start..)?.iter().position(|&b| b == b'\n')? + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pickle.dumps(([s], s), 0) with s = 'ab', in CPython 3.11: text PUTs and a text GET.
    #[test]
    fn text_memo_opcodes_are_stepped_over_and_counted() {
        let pickle = b"((lp0\nVab\np1\nag1\ntp2\n.";
        let found = prescan(pickle, 0).expect("a whole pickle");
        assert_eq!(found.fetched, 1);
        assert_eq!(found.slots[1] & SLOT, 1);
        assert_eq!(found.slots[0] & SLOT, 0);
        assert!(!found.fetched_early);
        assert_eq!(prefix(pickle, pickle.len()).map(|p| p.highest), Some(0));
        assert!(prefix(pickle, 4).is_none(), "4 is inside an opcode");
        // A mark past the PUT of 'ab': it is fetched after being put early.
        assert!(prescan(pickle, pickle.len()).expect("whole").fetched_early);
    }

    #[test]
    fn payloads_are_stepped_over_and_protocols_counted() {
        // pickle.dumps([b'x' * 300, 1.5], 5) in CPython 3.11 would frame; unframed here.
        let mut pickle = b"\x80\x05]\x94(B\x2c\x01\x00\x00".to_vec();
        pickle.extend([b'x'; 300]);
        pickle.extend(b"\x94G?\xf8\x00\x00\x00\x00\x00\x00e.");
        let found = prescan(&pickle, 0).expect("a whole pickle");
        assert_eq!(found.fetched, 0);
        assert_eq!(prefix(&pickle, pickle.len()).map(|p| p.highest), Some(4));
        // Cut inside the payload, or given a byte that is no opcode: the loader decides.
        assert!(prescan(&pickle[..100], 0).is_none());
        assert!(prescan(b"\x80\x02\xff.", 0).is_none());
        // An index put twice.
        assert!(prescan(b"\x80\x02K\x01q\x00K\x02q\x00h\x00\x86.", 0).is_none());
    }
}
