//! `pickletools.optimize`: a pickle without the PUTs no GET uses, the memo renumbered, and
//! the frames of protocol 4 and above made anew.
//!
//! It exists so that a tool can shrink a pickle exactly as CPython's `pickletools.optimize`
//! does, byte for byte. The opcodes are read by the one [`OpReader`] and checked as the
//! disassembler checks their arguments; every opcode but PUT, GET and FRAME is copied as it
//! is, and the output goes through the pickler's [`Output`], whose framing is CPython's.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::args::Budget;
use super::dis::{memo_key, show_arg};
use super::input::SliceSource;
use super::reader::OpReader;
use crate::error::{Error, ErrorKind, Result};
use crate::opcode::Opcode;
use crate::ser::{Output, FRAME_SIZE_TARGET};
use crate::HIGHEST_PROTOCOL;

/// One opcode to write: a memo store or fetch by its old key, or bytes copied as they are.
enum Step {
    Put(String),
    Get(String, u64),
    Copy(Range<usize>),
}

/// What a first pass over the pickle finds: where its leading PROTO is, the steps, the keys
/// some fetch uses, and the protocol to write at (the highest of PROTO's and the fetches').
struct Plan {
    header: Range<usize>,
    steps: Vec<Step>,
    used: HashSet<String>,
    protocol: u8,
    /// The offset of the PROTO that gave `protocol`, for the error where it is too high.
    protocol_at: u64,
}

/// What `pickletools.optimize(pickle)` returns: the first pickle in `pickle` (up to its
/// STOP) with only the memo stores some fetch uses, numbered from 0 in order, at the
/// protocol of its PROTO and fetches. An opcode that cannot be read, or a binary fetch with
/// no store before it, is an error with its offset (at protocol 0 pickletools writes such a
/// fetch as `gNone`, and so does this).
///
/// ```
/// // pickle.dumps([1], 2): the list's BINPUT is never fetched.
/// let optimized = pickle_core::optimize(b"\x80\x02]q\x00K\x01a.")?;
/// assert_eq!(optimized, b"\x80\x02]K\x01a.");
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn optimize(pickle: &[u8]) -> Result<Vec<u8>> {
    let Plan { header, steps, used, protocol, protocol_at } = scan(pickle)?;
    if protocol > HIGHEST_PROTOCOL {
        return Err(Error::new(ErrorKind::UnsupportedProtocol(protocol))
            .at_offset(protocol_at)
            .at_opcode(Opcode::Proto));
    }
    let mut out = Output::new(None);
    out.bytes(&pickle[header]);
    if protocol >= 4 {
        out.start_framing();
    }
    let mut renumbered: HashMap<String, usize> = HashMap::new();
    for step in steps {
        match step {
            Step::Put(key) if used.contains(&key) => {
                out.object_boundary()?;
                let index = renumbered.len();
                renumbered.insert(key, index);
                write_memo(&mut out, protocol, Memo::Put, index);
            }
            Step::Put(_) => {}
            Step::Get(key, pos) => {
                let index = renumbered.get(&key).copied();
                out.object_boundary()?;
                match index {
                    Some(index) => write_memo(&mut out, protocol, Memo::Get, index),
                    // pickletools writes Python's `GET + repr(None)`; the binary forms fail.
                    None if protocol == 0 => out.op_arg(Opcode::Get, b"None\n"),
                    None => return Err(unstored(&key, pos)),
                }
            }
            Step::Copy(range) if range.len() > FRAME_SIZE_TARGET => out.unframed(&pickle[range])?,
            Step::Copy(range) => {
                out.object_boundary()?;
                out.bytes(&pickle[range]);
            }
        }
    }
    out.finish()
}

/// Reads the pickle through its STOP, as `pickletools.optimize`'s first loop does.
fn scan(pickle: &[u8]) -> Result<Plan> {
    let mut reader: OpReader<_, false> = OpReader::lenient(SliceSource::new(pickle));
    let mut budget = Budget::new(u64::MAX);
    let (mut header, mut steps, mut used, mut stored) = (0..0, Vec::new(), HashSet::new(), HashSet::new());
    let (mut protocol, mut protocol_at) = (0u8, 0);
    loop {
        let (pos, op) = reader.next()?;
        let at = |e: Error| e.at_offset(pos).at_opcode(op);
        let arg = reader.arg(op, &mut budget).map_err(at)?;
        let shown = show_arg(op.info().arg, arg).map_err(at)?;
        let range = pos as usize..reader.offset() as usize;
        let key = shown.as_deref().map(memo_key);
        match op {
            Opcode::Put | Opcode::Binput | Opcode::LongBinput | Opcode::Memoize => {
                let key = key.unwrap_or_else(|| stored.len().to_string());
                stored.insert(key.clone());
                steps.push(Step::Put(key));
            }
            Opcode::Frame => {}
            Opcode::Get | Opcode::Binget | Opcode::LongBinget => {
                protocol = protocol.max(op.proto());
                let key = key.expect("a GET has an argument");
                used.insert(key.clone());
                steps.push(Step::Get(key, pos));
            }
            Opcode::Proto if pos == 0 => header = range,
            _ => steps.push(Step::Copy(range)),
        }
        if op == Opcode::Proto && reader.proto() > protocol {
            (protocol, protocol_at) = (reader.proto(), pos);
        }
        if op == Opcode::Stop {
            return Ok(Plan { header, steps, used, protocol, protocol_at });
        }
    }
}

#[derive(Clone, Copy)]
enum Memo {
    Put,
    Get,
}

/// The memo store or fetch of `index` the Python pickler writes at `protocol` (its `put`
/// and `get`): MEMOIZE from protocol 4, the binary forms from 1, the text forms at 0.
fn write_memo(out: &mut Output<'_>, protocol: u8, memo: Memo, index: usize) {
    let (text, short, long) = match memo {
        Memo::Put if protocol >= 4 => return out.op(Opcode::Memoize),
        Memo::Put => (Opcode::Put, Opcode::Binput, Opcode::LongBinput),
        Memo::Get => (Opcode::Get, Opcode::Binget, Opcode::LongBinget),
    };
    match u8::try_from(index) {
        _ if protocol == 0 => out.op_arg(text, format!("{index}\n").as_bytes()),
        Ok(byte) => out.op_arg(short, &[byte]),
        Err(_) => out.op_arg(long, &(index as u32).to_le_bytes()),
    }
}

/// A fetch of a key no store before it gave a new number.
fn unstored(key: &str, pos: u64) -> Error {
    Error::unpickling(format!("memo key {key} is fetched before it is stored")).at_offset(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unused stores go, used ones are renumbered from 0, and the protocol decides their
    /// form: text at 0 (no PROTO, no binary fetch), MEMOIZE at 4 with a new frame.
    #[test]
    fn drops_and_renumbers() {
        // pickle.dumps([[], []] with the second a GET of the first, 0)-like text pickle.
        let text = b"(lp0\n(lp1\nag1\na.";
        assert_eq!(optimize(text).unwrap(), b"(l(lp0\nag0\na.");
        let framed = b"\x80\x04\x95\x08\x00\x00\x00\x00\x00\x00\x00]\x94]\x94h\x01\x86\x94.";
        assert_eq!(optimize(framed).unwrap(), b"\x80\x04\x95\x07\x00\x00\x00\x00\x00\x00\x00]]\x94h\x00\x86.");
    }

    /// A fetch of a key never stored, and a cut pickle, are errors at their offsets.
    #[test]
    fn errors_name_offsets() {
        assert_eq!(optimize(b"\x80\x02h\x05.").unwrap_err().offset(), Some(2));
        assert_eq!(optimize(b"g5\n.").unwrap(), b"gNone\n.");
        assert_eq!(optimize(b"\x80\x02]q").unwrap_err().offset(), Some(3));
    }
}
