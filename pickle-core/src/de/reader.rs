//! The one opcode reader: bytes in, offset, opcode and argument out.
//!
//! Every decoding path and the disassembler read opcodes through an [`OpReader`], over
//! either [`Input`] (a slice, borrowed, or an `io::Read` behind a buffer: that is where the
//! two differ, as in serde_json's `Read`). The reader knows the format and nothing of what
//! the opcodes mean: it reads each argument by the kind [`OPCODES`](crate::opcode::OPCODES)
//! gives it, trusts a declared length only as far as the bytes that are there (and as far as
//! the caller's allocation budget), and owns the two opcodes about the stream itself:
//!
//! - PROTO: the protocol is recorded, and refused above [`HIGHEST_PROTOCOL`];
//! - FRAME: the frame's bytes must be there, as the C unpickler reads a whole frame at once.
//!
//! A lenient reader, the disassembler's, checks neither, as `pickletools` does not.
//!
//! Both are still yielded, so the disassembler can list them; a machine has nothing left to
//! do for them. A reader that `COUNTS` also tracks the highest protocol among the opcodes
//! read, which is a pickle's protocol where it has no PROTO; the direct path to a `Value`,
//! which never asks, does not pay for it (5% of decoding a list of ints or floats).

use super::args::{self, Arg, Budget};
use super::input::{Input, SliceSource};
use crate::error::{Error, ErrorKind, Result};
use crate::opcode::Opcode;
use crate::HIGHEST_PROTOCOL;

/// Reads a pickle's opcodes and their arguments from an [`Input`]; with `COUNTS`, tracks
/// the highest protocol among them. A copy of one over a slice is a look ahead.
#[derive(Clone)]
pub(crate) struct OpReader<I, const COUNTS: bool = true> {
    input: I,
    /// The longest text argument.
    max_line: usize,
    /// Whether PROTO above [`HIGHEST_PROTOCOL`] and a frame longer than the data are errors
    /// (an unpickler), or only shown (the disassembler).
    strict: bool,
    /// What the last PROTO said; 0 before one.
    proto: u8,
    /// The highest protocol among the opcodes read (with `COUNTS`).
    highest: u8,
    /// The argument of the last PROTO or FRAME, which [`OpReader::next`] read already.
    framing_arg: i64,
}

impl<I: Input, const COUNTS: bool> OpReader<I, COUNTS> {
    /// A reader for an unpickler: PROTO above [`HIGHEST_PROTOCOL`] is refused, text lines are
    /// at most `max_line` bytes.
    pub(crate) fn new(input: I, max_line: usize) -> Self {
        OpReader { input, max_line, strict: true, proto: 0, highest: 0, framing_arg: 0 }
    }

    /// A reader for the disassembler: any protocol and any frame length are shown, lines are
    /// not limited.
    pub(crate) fn lenient(input: I) -> Self {
        OpReader { strict: false, ..OpReader::new(input, usize::MAX) }
    }

    /// Goes on from another reader that stopped where this one starts: what its last PROTO
    /// said, and the highest protocol among the opcodes before (a prescan's count, where that
    /// reader did not count).
    pub(crate) fn resume(&mut self, proto: u8, highest: u8) {
        self.proto = proto;
        self.highest = highest;
    }

    /// What the last PROTO said, 0 before one.
    #[inline]
    pub(crate) fn proto(&self) -> u8 {
        self.proto
    }

    /// Bytes consumed so far.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// The input, for a path specialised to it (reading a str in place from a slice).
    #[inline]
    pub(crate) fn input(&mut self) -> &mut I {
        &mut self.input
    }

    /// The next opcode and its offset. PROTO and FRAME are taken whole here, with their
    /// arguments. An error carries the offset, and the opcode where there is one.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> Result<(u64, Opcode)> {
        let start = self.input.offset();
        let byte = match self.input.next_byte() {
            Ok(Some(byte)) => byte,
            other => return Err(no_opcode(other, start)),
        };
        // One test for the three rare cases: no opcode, PROTO and FRAME.
        let op = match ORDINARY[byte as usize] {
            Some(op) => op,
            None => self.extraordinary(byte, start)?,
        };
        self.count(op.proto());
        Ok((start, op))
    }

    /// A byte that is no opcode, or PROTO or FRAME, taken whole with its argument.
    #[cold]
    fn extraordinary(&mut self, byte: u8, start: u64) -> Result<Opcode> {
        let op = Opcode::from_byte(byte).ok_or_else(|| invalid_opcode(byte, start))?;
        self.framing(op).map_err(|e| e.at_offset(start).at_opcode(op))?;
        Ok(op)
    }

    /// The next opcode, taken as [`OpReader::next`] takes it, if it is at hand (all of a
    /// slice, a reader's buffer) and `take` accepts its code byte; `Ok(None)` otherwise, with
    /// nothing taken.
    #[inline(always)]
    pub(crate) fn next_if(&mut self, take: impl FnOnce(u8) -> bool) -> Result<Option<(u64, Opcode)>> {
        match self.input.window().first() {
            Some(&code) if take(code) => self.next().map(Some),
            _ => Ok(None),
        }
    }

    /// PROTO and FRAME, whose arguments are read at once.
    #[cold]
    fn framing(&mut self, op: Opcode) -> Result<()> {
        let Arg::Int(n) = args::read_arg(&mut self.input, op.info().arg, 0, &mut Budget::new(0))? else {
            unreachable!("the table gives PROTO and FRAME an integer argument")
        };
        self.framing_arg = n;
        if op == Opcode::Proto {
            if self.strict {
                check_proto(n)?;
            }
            self.proto = n as u8;
            return Ok(());
        }
        match self.strict {
            true => self.input.ensure(n as u64),
            false => Ok(()),
        }
    }

    /// The argument of `op`, the opcode [`OpReader::next`] gave last, read by the kind the
    /// table gives it. A counted payload is charged to `budget` before it is read. Always
    /// inlined: where `op` is a constant, the match on its kind folds away.
    #[inline(always)]
    pub(crate) fn arg(&mut self, op: Opcode, budget: &mut Budget) -> Result<Arg> {
        if matches!(op, Opcode::Proto | Opcode::Frame) {
            return Ok(Arg::Int(self.framing_arg));
        }
        args::read_arg_inline(&mut self.input, op.info().arg, self.max_line, budget)
    }

    /// The int of a BININT1, BININT2, BININT or LONG1 of up to 8 bytes, `op`, just taken by
    /// [`OpReader::next`], with its argument read; `None` for any other opcode, or where the
    /// argument is not at hand (see [`args::small_int`]). Bulk ints take this instead of a
    /// dispatch on their opcode.
    #[inline(always)]
    pub(crate) fn small_int(&mut self, op: Opcode) -> Option<i64> {
        let (int, length) = args::small_int(op.code(), self.input.window())?;
        self.input.skip(length);
        Some(int)
    }

    /// The int of the next opcode, taken whole, if it is a BININT1, BININT2, BININT or LONG1
    /// of up to 8 bytes at hand; `None` otherwise, with nothing taken. For a run of numbers,
    /// where looking at the code byte first and then taking it would read it twice.
    #[inline(always)]
    pub(crate) fn next_small_int(&mut self) -> Option<i64> {
        let (&code, rest) = self.input.window().split_first()?;
        let (int, length) = args::small_int(code, rest)?;
        self.input.skip(1 + length);
        // BININT1, BININT2 and BININT are protocol 1's, LONG1 protocol 2's.
        self.count(1 + u8::from(code == Opcode::Long1.code()));
        Some(int)
    }

    /// Notes an opcode of protocol `proto`, if this reader counts.
    #[inline(always)]
    fn count(&mut self, proto: u8) {
        if COUNTS {
            self.highest = self.highest.max(proto);
        }
    }
}

impl<'a, const COUNTS: bool> OpReader<SliceSource<'a>, COUNTS> {
    /// The code of the next opcode, past any PROTO and FRAME (taken whole, under their
    /// rules), without taking it; `None` at the end of the data.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        match self.input.window().first() {
            Some(&code) if code == Opcode::Proto.code() || code == Opcode::Frame.code() => self.peek_past_framing(),
            code => Ok(code.copied()),
        }
    }

    /// [`OpReader::peek`] where PROTO or FRAME comes first.
    #[cold]
    #[inline(never)]
    fn peek_past_framing(&mut self) -> Result<Option<u8>> {
        loop {
            match self.input.window().first() {
                Some(&code) if code == Opcode::Proto.code() || code == Opcode::Frame.code() => {
                    self.next()?;
                }
                code => return Ok(code.copied()),
            }
        }
    }

    /// Takes the opcode [`OpReader::peek`] gave, which is no PROTO or FRAME.
    #[inline(always)]
    pub(crate) fn take_peeked(&mut self) {
        let code = self.input.window()[0];
        self.input.skip(1);
        self.count_code(code);
    }

    /// Notes the opcode of `code`, just taken without [`OpReader::next`], if this reader
    /// counts.
    #[inline(always)]
    fn count_code(&mut self, code: u8) {
        if COUNTS {
            self.count(ORDINARY[code as usize].map_or(0, Opcode::proto));
        }
    }

    /// The counted payload of `op` (a str or bytes opcode just taken): its length read by
    /// the width the table gives, checked against the bytes there, and the payload borrowed
    /// from the slice; `None` for another opcode or a payload cut short.
    #[inline(always)]
    pub(crate) fn payload(&mut self, op: Opcode) -> Option<&'a [u8]> {
        let width = usize::from(PAYLOAD_WIDTHS[op as usize]);
        if width == 0 {
            return None;
        }
        let rest = self.input.rest();
        let length = usize::try_from(args::uint_at(rest, width)?).ok()?;
        let payload = rest.get(width..width.checked_add(length)?)?;
        self.input.skip(width + length);
        Some(payload)
    }

    /// The memo index of the next opcode if it is a BINGET or LONG_BINGET at hand, taken;
    /// `None`, with nothing taken, otherwise.
    #[inline(always)]
    pub(crate) fn next_get(&mut self) -> Option<u64> {
        self.next_index(&GET_WIDTHS)
    }

    /// The memo index of the next opcode if it is a BINPUT or LONG_BINPUT at hand, taken;
    /// `None`, with nothing taken, otherwise.
    #[inline(always)]
    pub(crate) fn next_put(&mut self) -> Option<u64> {
        self.next_index(&PUT_WIDTHS)
    }

    /// The unsigned argument of the next opcode if `widths` gives its code byte one.
    #[inline(always)]
    fn next_index(&mut self, widths: &[u8; 256]) -> Option<u64> {
        let (&code, rest) = self.input.window().split_first()?;
        let width = usize::from(widths[code as usize]);
        if width == 0 {
            return None;
        }
        let index = args::uint_at(rest, width)?;
        self.input.skip(1 + width);
        self.count_code(code);
        Some(index)
    }

    /// The float of the next opcode if it is a BINFLOAT at hand, taken; `None`, with nothing
    /// taken, otherwise.
    #[inline(always)]
    pub(crate) fn next_float(&mut self) -> Option<f64> {
        match self.input.window() {
            [code, bytes @ ..] if *code == Opcode::Binfloat.code() => {
                let float = f64::from_be_bytes(*bytes.first_chunk()?);
                self.input.skip(1 + 8);
                self.count(Opcode::Binfloat.proto());
                Some(float)
            }
            _ => None,
        }
    }

    /// Steps over the argument of `op`, just taken, without reading it where it is counted
    /// (a str, bytes): for a look ahead, which wants to know where an opcode ends.
    pub(crate) fn skip_arg(&mut self, op: Opcode) -> Result<()> {
        if self.payload(op).is_some() {
            return Ok(());
        }
        self.arg(op, &mut Budget::new(u64::MAX)).map(drop)
    }
}

impl<I: Input> OpReader<I> {
    /// The highest protocol among the opcodes read so far.
    pub(crate) fn highest(&self) -> u8 {
        self.highest
    }

    /// The protocol of the pickle read so far: its PROTO's, or its opcodes' where higher.
    pub(crate) fn protocol(&self) -> u8 {
        self.proto.max(self.highest)
    }
}

/// PROTO's rule for an unpickler: a protocol above [`HIGHEST_PROTOCOL`] is refused.
pub(crate) fn check_proto(protocol: i64) -> Result<()> {
    if protocol > i64::from(HIGHEST_PROTOCOL) {
        return Err(Error::new(ErrorKind::UnsupportedProtocol(protocol as u8)));
    }
    Ok(())
}

/// The width of the length of each str and bytes opcode's payload.
static PAYLOAD_WIDTHS: [u8; 256] = {
    use Opcode as O;
    let counted = [O::ShortBinunicode, O::Binunicode, O::Binunicode8, O::ShortBinbytes, O::Binbytes, O::Binbytes8];
    args::widths(&counted, true)
};

/// The width of the memo index of BINGET and LONG_BINGET.
static GET_WIDTHS: [u8; 256] = args::widths(&[Opcode::Binget, Opcode::LongBinget], false);

/// The width of the memo index of BINPUT and LONG_BINPUT.
static PUT_WIDTHS: [u8; 256] = args::widths(&[Opcode::Binput, Opcode::LongBinput], false);

/// Every byte's opcode, except PROTO's and FRAME's: `None` where [`OpReader::next`] has
/// more to do than dispatch.
static ORDINARY: [Option<Opcode>; 256] = {
    let mut table = [None; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match Opcode::from_byte(byte as u8) {
            Some(Opcode::Proto | Opcode::Frame) => None,
            op => op,
        };
        byte += 1;
    }
    table
};

/// The end of the input where an opcode should be, or the input's own error.
#[cold]
fn no_opcode(read: Result<Option<u8>>, offset: u64) -> Error {
    match read {
        Err(e) => e.at_offset(offset),
        Ok(_) => Error::new(ErrorKind::Truncated(true)).at_offset(offset),
    }
}

#[cold]
fn invalid_opcode(byte: u8, offset: u64) -> Error {
    Error::new(ErrorKind::InvalidOpcode(byte)).at_offset(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::input::{ReadSource, SliceSource};

    fn opcodes<I: Input>(mut reader: OpReader<I>) -> Result<Vec<(u64, Opcode, Option<i64>)>> {
        let mut out = Vec::new();
        loop {
            let (offset, op) = reader.next()?;
            let int = match reader.arg(op, &mut Budget::new(u64::MAX))? {
                Arg::Int(i) => Some(i),
                _ => None,
            };
            out.push((offset, op, int));
            if op == Opcode::Stop {
                return Ok(out);
            }
        }
    }

    /// A slice and a reader give the same opcodes, offsets, framing and errors.
    #[test]
    fn slices_and_readers_agree() {
        // pickle.dumps([1, 'a'], 4)
        let pickle = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94e.";
        let from_slice = opcodes(OpReader::new(SliceSource::new(pickle), 64)).unwrap();
        let from_reader = opcodes(OpReader::new(ReadSource::new(&pickle[..]), 64)).unwrap();
        assert_eq!(from_slice, from_reader);
        assert_eq!(from_slice[0], (0, Opcode::Proto, Some(4)));
        assert_eq!(from_slice[1], (2, Opcode::Frame, Some(11)));
        for cut in 0..pickle.len() {
            let a = opcodes(OpReader::new(SliceSource::new(&pickle[..cut]), 64)).unwrap_err();
            let b = opcodes(OpReader::new(ReadSource::new(&pickle[..cut]), 64)).unwrap_err();
            assert_eq!((a.kind().to_string(), a.offset()), (b.kind().to_string(), b.offset()), "cut at {cut}");
        }
    }

    /// PROTO is recorded; above the highest protocol an unpickler refuses it and the
    /// disassembler shows it. A frame longer than the data is truncated at the FRAME, for an
    /// unpickler.
    #[test]
    fn owns_proto_and_frame() {
        let mut reader: OpReader<_> = OpReader::new(SliceSource::new(b"\x80\x06N."), 64);
        let err = reader.next().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::UnsupportedProtocol(6)));
        assert_eq!((err.offset(), err.opcode()), (Some(0), Some(Opcode::Proto)));
        let mut lenient: OpReader<_> = OpReader::lenient(SliceSource::new(b"\x80\x06N."));
        assert_eq!(lenient.next().unwrap(), (0, Opcode::Proto));
        assert_eq!((lenient.proto(), lenient.protocol()), (6, 6));
        let mut framed: OpReader<_> = OpReader::new(SliceSource::new(b"\x95\x05\x00\x00\x00\x00\x00\x00\x00N."), 64);
        let err = framed.next().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Truncated(_)));
        assert_eq!((err.offset(), err.opcode()), (Some(0), Some(Opcode::Frame)));
        let mut lenient: OpReader<_> = OpReader::lenient(SliceSource::new(b"\x95\x05\x00\x00\x00\x00\x00\x00\x00N."));
        assert_eq!(lenient.next().unwrap(), (0, Opcode::Frame));
        assert!(matches!(lenient.arg(Opcode::Frame, &mut Budget::new(0)).unwrap(), Arg::Int(5)));
        // No PROTO: the protocol is the highest of the opcodes (NEWTRUE is protocol 2's).
        let plain = opcodes(OpReader::new(SliceSource::new(b"\x88."), 64)).unwrap();
        assert_eq!(plain.len(), 2);
        let mut reader: OpReader<_> = OpReader::new(SliceSource::new(b"\x88."), 64);
        reader.next().unwrap();
        assert_eq!((reader.proto(), reader.highest(), reader.protocol()), (0, 2, 2));
    }

    /// A run of numbers taken whole: ints counted as the opcodes they are, and nothing taken
    /// that is not asked for.
    #[test]
    fn takes_runs_of_numbers() {
        // BININT1 1, LONG1 of two bytes, NONE, STOP: protocols 1, 2, 0, 0; then bytes after
        // the pickle, as the fast read wants nine at hand.
        let data = b"K\x01\x8a\x02\x00\x01N.\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        let mut reader: OpReader<_> = OpReader::new(SliceSource::new(data), 64);
        assert_eq!(reader.next_small_int(), Some(1));
        assert_eq!(reader.highest(), 1);
        assert_eq!(reader.next_small_int(), Some(256));
        assert_eq!(reader.highest(), 2);
        assert_eq!(reader.next_small_int(), None);
        assert_eq!(reader.next_if(|code| code == b'.').unwrap(), None);
        assert_eq!(reader.next_if(|code| code == b'N').unwrap(), Some((6, Opcode::None)));
        assert_eq!(reader.offset(), 7);
        // Without enough bytes for the fast read, nothing is taken; `next` and `arg` read it.
        let mut short: OpReader<_> = OpReader::new(SliceSource::new(b"K\x05."), 64);
        assert_eq!(short.next_small_int(), None);
        assert_eq!(short.next().unwrap(), (0, Opcode::Binint1));
        assert!(matches!(short.arg(Opcode::Binint1, &mut Budget::new(0)).unwrap(), Arg::Int(5)));
    }
}
