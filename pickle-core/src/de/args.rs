//! Opcode arguments, read by the kind the opcode table gives them: one reader for the
//! unpickler and the disassembler.

use super::input::Input;
use crate::error::{Error, ErrorKind, Result};
use crate::opcode::{ArgKind, Opcode};
use crate::value::PyString;

/// An opcode's inline argument.
pub(crate) enum Arg {
    None,
    /// uint1, uint2, int4, uint4, uint8.
    Int(i64),
    Float(f64),
    /// A counted payload: strings, bytes, longs.
    Data(Vec<u8>),
    /// A short str payload, already decoded: it fits in a [`PyString`] without an
    /// allocation, so it is read without one (a payload that does not decode stays `Data`).
    Text(PyString),
    /// A newline-terminated argument, without the newline.
    Line(Vec<u8>),
    /// Two lines: a global's module and name.
    Pair(Vec<u8>, Vec<u8>),
}

/// How many bytes the little-endian length of a counted payload of this kind takes (LONG1,
/// strs and bytes whose length is unsigned): what the fast paths read without [`read_arg`].
pub(crate) const fn length_width(kind: ArgKind) -> Option<usize> {
    match kind {
        ArgKind::Long1 | ArgKind::Unicodestring1 | ArgKind::Bytes1 => Some(1),
        ArgKind::Unicodestring4 | ArgKind::Bytes4 => Some(4),
        ArgKind::Unicodestring8 | ArgKind::Bytes8 | ArgKind::Bytearray8 => Some(8),
        _ => None,
    }
}

/// How many bytes an unsigned argument of this kind takes (memo indices, lengths).
pub(crate) const fn uint_width(kind: ArgKind) -> Option<usize> {
    match kind {
        ArgKind::Uint1 => Some(1),
        ArgKind::Uint2 => Some(2),
        ArgKind::Uint4 => Some(4),
        ArgKind::Uint8 => Some(8),
        _ => None,
    }
}

/// Every code byte's width of its argument, 0 for a code byte that is not among `ops`: one
/// load where the hot paths need it. With `counted`, the width of a counted payload's
/// length ([`length_width`]), else of an unsigned argument ([`uint_width`]).
pub(crate) const fn widths(ops: &[Opcode], counted: bool) -> [u8; 256] {
    let mut widths = [0; 256];
    let mut i = 0;
    while i < crate::opcode::OPCODES.len() {
        let info = &crate::opcode::OPCODES[i];
        let mut j = 0;
        while j < ops.len() {
            if ops[j] as u8 == info.code {
                let width = if counted { length_width(info.arg) } else { uint_width(info.arg) };
                if let Some(width) = width {
                    widths[info.code as usize] = width as u8;
                }
            }
            j += 1;
        }
        i += 1;
    }
    widths
}

/// The little-endian unsigned integer of `width` (at most 8) bytes at the start of `bytes`,
/// or `None` if they are not all there. One load and a mask where eight bytes are at hand,
/// as in bulk data they are, instead of a loop over the bytes. `width` is 1 to 8.
#[inline(always)]
pub(crate) fn uint_at(bytes: &[u8], width: usize) -> Option<u64> {
    debug_assert!((1..=8).contains(&width));
    match bytes.first_chunk::<8>() {
        Some(word) => Some(u64::from_le_bytes(*word) & (u64::MAX >> (64 - 8 * width))),
        None => bytes.get(..width).map(uint_le),
    }
}

/// A little-endian unsigned integer of up to eight bytes.
#[inline]
pub(crate) fn uint_le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |n, &b| n << 8 | u64::from(b))
}

/// The payload of an opcode whose argument the table gives as counted (strings, bytes,
/// longs): what both loaders take from [`read_arg`] for those opcodes.
pub(crate) fn data(arg: Arg) -> Vec<u8> {
    match arg {
        Arg::Data(d) => d,
        _ => unreachable!("the opcode table gives this opcode a counted argument"),
    }
}

/// What `max_alloc` charges for an object: its place in the graph, the `Value` it becomes,
/// and the allocation that holds a container's items.
pub(crate) const OBJECT_CHARGE: u64 = 128;
/// What `max_alloc` charges for an item in a container: its slot in the graph and the
/// `Value` it becomes.
pub(crate) const SLOT_CHARGE: u64 = 48;

/// How many more bytes the data being loaded may take.
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    used: u64,
    limit: u64,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Budget {
        Budget { used: 0, limit }
    }

    /// Counts `bytes`, or fails when they exceed the limit.
    #[inline]
    pub(crate) fn charge(&mut self, bytes: u64) -> Result<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(Error::new(ErrorKind::LimitExceeded { what: "allocated bytes", limit: self.limit }));
        }
        Ok(())
    }
}

/// Reads the argument of an opcode of this kind. A counted payload is charged to the
/// budget before it is read, so a declared length the budget cannot pay is refused first.
pub(crate) fn read_arg<I: Input + ?Sized>(
    input: &mut I,
    kind: ArgKind,
    max_line: usize,
    budget: &mut Budget,
) -> Result<Arg> {
    read_arg_inline(input, kind, max_line, budget)
}

/// [`read_arg`], inlined where it is called: for the unpickler's hot opcodes, whose kind
/// is a constant.
#[inline(always)]
pub(crate) fn read_arg_inline<I: Input + ?Sized>(
    input: &mut I,
    kind: ArgKind,
    max_line: usize,
    budget: &mut Budget,
) -> Result<Arg> {
    let mut payload = |input: &mut I, n: u64| -> Result<Arg> {
        budget.charge(n)?;
        Ok(Arg::Data(input.read_vec(n)?))
    };
    Ok(match kind {
        ArgKind::None => Arg::None,
        ArgKind::Uint1 => Arg::Int(i64::from(input.read(1)?[0])),
        ArgKind::Uint2 => Arg::Int(i64::from(u16::from_le_bytes(fixed(input)?))),
        ArgKind::Int4 => Arg::Int(i64::from(i32::from_le_bytes(fixed(input)?))),
        ArgKind::Uint4 => Arg::Int(i64::from(u32::from_le_bytes(fixed(input)?))),
        ArgKind::Uint8 => {
            let n = u64::from_le_bytes(fixed(input)?);
            Arg::Int(i64::try_from(n).map_err(|_| Error::unpickling("length exceeds the system's maximum"))?)
        }
        ArgKind::Float8 => Arg::Float(f64::from_be_bytes(fixed(input)?)),
        ArgKind::Long1 => {
            let n = input.read(1)?[0];
            if n > 8 {
                return payload(input, u64::from(n));
            }
            // Up to 8 bytes of two's complement: an `i64`, without a buffer or a `BigInt`.
            let bytes = input.read(usize::from(n))?;
            let fill = if bytes.last().is_some_and(|&b| b & 0x80 != 0) { 0xff } else { 0 };
            let mut wide = [fill; 8];
            wide[..bytes.len()].copy_from_slice(bytes);
            Arg::Int(i64::from_le_bytes(wide))
        }
        ArgKind::Unicodestring1 | ArgKind::Unicodestring4 => {
            let n = if kind == ArgKind::Unicodestring1 {
                u64::from(input.read(1)?[0])
            } else {
                u64::from(u32::from_le_bytes(fixed(input)?))
            };
            if n > PyString::INLINE as u64 {
                return payload(input, n);
            }
            budget.charge(n)?;
            let bytes = input.read(n as usize)?;
            match PyString::from_surrogatepass(bytes) {
                Ok(s) => Arg::Text(s),
                Err(_) => Arg::Data(bytes.to_vec()),
            }
        }
        ArgKind::String1 | ArgKind::Bytes1 => {
            let n = input.read(1)?[0];
            payload(input, u64::from(n))?
        }
        ArgKind::Bytes4 => {
            let n = u32::from_le_bytes(fixed(input)?);
            payload(input, u64::from(n))?
        }
        ArgKind::String4 | ArgKind::Long4 => {
            let n = i32::from_le_bytes(fixed(input)?);
            let n = u64::try_from(n).map_err(|_| {
                let what = if kind == ArgKind::Long4 { "LONG" } else { "BINSTRING" };
                Error::unpickling(format!("{what} pickle has negative byte count"))
            })?;
            payload(input, n)?
        }
        ArgKind::Bytes8 | ArgKind::Bytearray8 | ArgKind::Unicodestring8 => {
            let n = u64::from_le_bytes(fixed(input)?);
            payload(input, n)?
        }
        ArgKind::StringnlNoescapePair => {
            let module = input.read_line(max_line)?.to_vec();
            let name = input.read_line(max_line)?.to_vec();
            Arg::Pair(module, name)
        }
        ArgKind::Stringnl
        | ArgKind::StringnlNoescape
        | ArgKind::Unicodestringnl
        | ArgKind::DecimalnlShort
        | ArgKind::DecimalnlLong
        | ArgKind::Floatnl => Arg::Line(input.read_line(max_line)?.to_vec()),
    })
}

#[inline(always)]
fn fixed<const N: usize, I: Input + ?Sized>(input: &mut I) -> Result<[u8; N]> {
    Ok(input.read(N)?.try_into().expect("read returns exactly N bytes"))
}

/// How BININT1, BININT2, BININT and LONG1 give an int: `width` bytes after the opcode (0
/// for LONG1, whose length is the byte after it), and whether they are signed.
#[derive(Clone, Copy)]
struct IntShape {
    is_int: bool,
    long1: bool,
    width: u8,
    signed: bool,
}

/// Every code byte's [`IntShape`], from the opcode table's argument kinds.
static INT_SHAPES: [IntShape; 256] = {
    let mut shapes = [IntShape { is_int: false, long1: false, width: 0, signed: false }; 256];
    let mut i = 0;
    while i < crate::opcode::OPCODES.len() {
        let info = &crate::opcode::OPCODES[i];
        let shape = match (info.opcode, info.arg) {
            (Opcode::Binint1, ArgKind::Uint1) => Some((false, 1, false)),
            (Opcode::Binint2, ArgKind::Uint2) => Some((false, 2, false)),
            (Opcode::Binint, ArgKind::Int4) => Some((false, 4, true)),
            (Opcode::Long1, ArgKind::Long1) => Some((true, 0, true)),
            _ => None,
        };
        if let Some((long1, width, signed)) = shape {
            shapes[info.code as usize] = IntShape { is_int: true, long1, width, signed };
        }
        i += 1;
    }
    shapes
};

/// The int of a BININT1, BININT2, BININT or LONG1 (of up to 8 bytes) whose opcode is
/// `code` and whose argument starts `rest`, and the argument's length; `None` for other
/// opcodes, a longer LONG1, or fewer than 9 bytes in `rest` (then [`read_arg`] reads it).
///
/// The same arithmetic serves all four, so shuffled ints of mixed sizes cost no
/// mispredicted branch on which opcode came: the caller's only branch is whether it is an
/// int at all, which bulk data of ints always answers the same way.
#[inline(always)]
pub(crate) fn small_int(code: u8, rest: &[u8]) -> Option<(i64, usize)> {
    let shape = INT_SHAPES[code as usize];
    let window: &[u8; 9] = rest.first_chunk()?;
    if !shape.is_int {
        return None;
    }
    let long1 = usize::from(shape.long1);
    // LONG1's width is its first byte (its shape's is 0), without a branch on which opcode
    // came: a select the compiler makes a jump is mispredicted on shuffled int sizes.
    let width = shape.width | (window[0] & 0u8.wrapping_sub(shape.long1 as u8));
    if width > 8 {
        return None;
    }
    let mut word = [0; 8];
    word.copy_from_slice(&window[long1..long1 + 8]);
    let raw = u64::from_le_bytes(word);
    // Keep the low `width` bytes, extending the sign if the opcode is signed.
    let shift = 64 - 8 * u32::from(width);
    let high = raw.checked_shl(shift).unwrap_or(0);
    let value = if shape.signed {
        (high as i64).checked_shr(shift).unwrap_or(0)
    } else {
        high.checked_shr(shift).unwrap_or(0) as i64
    };
    Some((value, long1 + usize::from(width)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::input::SliceSource;

    /// `small_int` reads every int opcode as `read_arg` does.
    #[test]
    fn small_int_agrees_with_read_arg() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for v in [0u64, 1, 0x7F, 0x80, 0xFF, 0x1234, 0xFFFF, 0x8000_0000, u64::MAX, 0x0123_4567_89AB_CDEF] {
            let le = v.to_le_bytes();
            cases.push([b"K", &le[..1]].concat());
            cases.push([b"M", &le[..2]].concat());
            cases.push([b"J", &le[..4]].concat());
            for n in 0..=8u8 {
                cases.push([&[0x8a, n], &le[..n as usize]].concat());
            }
        }
        for case in cases {
            let mut padded = case.clone();
            padded.extend([0xAA; 9]);
            let (value, length) = small_int(case[0], &padded[1..]).expect("an int opcode");
            let mut input = SliceSource::new(&case[1..]);
            let kind = Opcode::from_byte(case[0]).unwrap().info().arg;
            let Arg::Int(expected) = read_arg(&mut input, kind, 0, &mut Budget::new(u64::MAX)).unwrap() else {
                panic!("an int argument")
            };
            assert_eq!((value, length), (expected, case.len() - 1), "{case:x?}");
        }
        assert!(small_int(b'N', &[0; 9]).is_none());
        assert!(small_int(0x8a, &[9; 12]).is_none());
        assert!(small_int(b'K', &[1; 8]).is_none());
    }
}
