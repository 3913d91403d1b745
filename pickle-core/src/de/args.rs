//! Opcode arguments, read by the kind the opcode table gives them: one reader for the
//! unpickler and the disassembler.

use super::input::Input;
use crate::error::{Error, ErrorKind, Result};
use crate::opcode::ArgKind;
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

/// How many more bytes the data being loaded may take.
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
