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
//! do for them. The reader also tracks the highest protocol among the opcodes read, which is
//! a pickle's protocol where it has no PROTO.

use super::args::{self, Arg, Budget};
use super::input::Input;
use crate::error::{Error, ErrorKind, Result};
use crate::opcode::Opcode;
use crate::HIGHEST_PROTOCOL;

/// Reads a pickle's opcodes and their arguments from an [`Input`].
pub(crate) struct OpReader<I> {
    input: I,
    /// The longest text argument.
    max_line: usize,
    /// Whether PROTO above [`HIGHEST_PROTOCOL`] and a frame longer than the data are errors
    /// (an unpickler), or only shown (the disassembler).
    strict: bool,
    /// What the last PROTO said; 0 before one.
    proto: u8,
    /// The highest protocol among the opcodes read.
    highest: u8,
    /// The argument of the last PROTO or FRAME, which [`OpReader::next`] read already.
    framing_arg: i64,
}

impl<I: Input> OpReader<I> {
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

    /// What the last PROTO said, 0 before one.
    #[inline]
    pub(crate) fn proto(&self) -> u8 {
        self.proto
    }

    /// The highest protocol among the opcodes read so far.
    pub(crate) fn highest(&self) -> u8 {
        self.highest
    }

    /// The protocol of the pickle read so far: its PROTO's, or its opcodes' where higher.
    pub(crate) fn protocol(&self) -> u8 {
        self.proto.max(self.highest)
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
            Ok(None) => return Err(Error::new(ErrorKind::Truncated(true)).at_offset(start)),
            Err(e) => return Err(e.at_offset(start)),
        };
        let Some(op) = Opcode::from_byte(byte) else {
            return Err(Error::new(ErrorKind::InvalidOpcode(byte)).at_offset(start));
        };
        self.highest = self.highest.max(op.proto());
        if matches!(op, Opcode::Proto | Opcode::Frame) {
            self.framing(op).map_err(|e| e.at_offset(start).at_opcode(op))?;
        }
        Ok((start, op))
    }

    /// PROTO and FRAME, whose arguments are read at once.
    #[cold]
    fn framing(&mut self, op: Opcode) -> Result<()> {
        let Arg::Int(n) = args::read_arg(&mut self.input, op.info().arg, 0, &mut Budget::new(0))? else {
            unreachable!("the table gives PROTO and FRAME an integer argument")
        };
        self.framing_arg = n;
        match op {
            Opcode::Proto if self.strict && n > i64::from(HIGHEST_PROTOCOL) => {
                Err(Error::new(ErrorKind::UnsupportedProtocol(n as u8)))
            }
            Opcode::Proto => {
                self.proto = n as u8;
                Ok(())
            }
            _ if self.strict => self.input.ensure(n as u64),
            _ => Ok(()),
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

    /// The int of a BININT1, BININT2, BININT or LONG1 of up to 8 bytes whose code byte was
    /// just read, its argument taken; `None` for any other opcode (see [`args::small_int`]).
    /// Bulk ints take this instead of a dispatch on their opcode.
    #[inline(always)]
    pub(crate) fn small_int(&mut self, op: Opcode) -> Option<i64> {
        let (int, length) = args::small_int(op.code(), self.input.window())?;
        self.input.skip(length);
        Some(int)
    }
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
        let mut reader = OpReader::new(SliceSource::new(b"\x80\x06N."), 64);
        let err = reader.next().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::UnsupportedProtocol(6)));
        assert_eq!((err.offset(), err.opcode()), (Some(0), Some(Opcode::Proto)));
        let mut lenient = OpReader::lenient(SliceSource::new(b"\x80\x06N."));
        assert_eq!(lenient.next().unwrap(), (0, Opcode::Proto));
        assert_eq!((lenient.proto(), lenient.protocol()), (6, 6));
        let mut framed = OpReader::new(SliceSource::new(b"\x95\x05\x00\x00\x00\x00\x00\x00\x00N."), 64);
        let err = framed.next().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Truncated(_)));
        assert_eq!((err.offset(), err.opcode()), (Some(0), Some(Opcode::Frame)));
        let mut lenient = OpReader::lenient(SliceSource::new(b"\x95\x05\x00\x00\x00\x00\x00\x00\x00N."));
        assert_eq!(lenient.next().unwrap(), (0, Opcode::Frame));
        assert!(matches!(lenient.arg(Opcode::Frame, &mut Budget::new(0)).unwrap(), Arg::Int(5)));
        // No PROTO: the protocol is the highest of the opcodes (NEWTRUE is protocol 2's).
        let plain = opcodes(OpReader::new(SliceSource::new(b"\x88."), 64)).unwrap();
        assert_eq!(plain.len(), 2);
        let mut reader = OpReader::new(SliceSource::new(b"\x88."), 64);
        reader.next().unwrap();
        assert_eq!((reader.proto(), reader.highest(), reader.protocol()), (0, 2, 2));
    }
}
