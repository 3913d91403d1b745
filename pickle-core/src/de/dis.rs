//! A `pickletools.dis`-style listing: every opcode with its offset, its argument and, as
//! pickletools shows them, MARK nesting and memo indices.

use std::fmt::Write;

use num_bigint::BigInt;

use super::args::{Arg, Budget};
use super::input::SliceSource;
use super::reader::OpReader;
use super::text;
use crate::error::{Error, Result};
use crate::opcode::{ArgKind, Opcode, StackItem};
use crate::value::{bytes_repr, float_repr, str_repr, PyString};

/// `pickletools.dis(pickle)`: one line per opcode, up to STOP, then the highest protocol
/// among the opcodes. The listing matches pickletools' for the pickles CPython writes.
///
/// ```
/// let listing = pickle_core::dis(&pickle_core::dumps(&vec![1, 2], 2)?)?;
/// assert!(listing.contains("APPENDS    (MARK at 5)"));
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn dis(pickle: &[u8]) -> Result<String> {
    let mut reader = OpReader::lenient(SliceSource::new(pickle));
    let mut budget = Budget::new(u64::MAX);
    let mut out = String::new();
    // The stack as pickletools emulates it: `true` for a MARK.
    let mut stack: Vec<bool> = Vec::new();
    let mut marks: Vec<u64> = Vec::new();
    let mut memo_len = 0u64;
    loop {
        let (pos, op) = reader.next()?;
        let info = op.info();
        let arg = reader.arg(op, &mut budget).map_err(|e| e.at_offset(pos).at_opcode(op))?;
        let shown = show_arg(info.arg, arg).map_err(|e| e.at_offset(pos).at_opcode(op))?;

        let indent = "    ".repeat(marks.len());
        let mut line = format!("{:5}: {:<4} {indent}{}", pos, code_repr(op.code()), info.name);
        let pops_mark =
            info.stack_before.contains(&StackItem::Mark) || (op == Opcode::Pop && stack.last() == Some(&true));
        let mut note = None;
        let mut pops = info.stack_before.len();
        if pops_mark {
            note = Some(match marks.pop() {
                Some(at) => format!("(MARK at {at})"),
                None => "no MARK exists on stack".to_owned(),
            });
            while let Some(top) = stack.pop() {
                if top {
                    break;
                }
            }
            pops = info.stack_before.iter().position(|s| *s == StackItem::Mark).unwrap_or(0);
        }
        if op == Opcode::Memoize {
            note = Some(format!("(as {memo_len})"));
        }
        if matches!(op, Opcode::Put | Opcode::Binput | Opcode::LongBinput | Opcode::Memoize) {
            memo_len += 1;
        }
        for _ in 0..pops {
            stack.pop();
        }
        for item in info.stack_after {
            stack.push(*item == StackItem::Mark);
        }
        if op == Opcode::Mark {
            marks.push(pos);
        }
        if shown.is_some() || note.is_some() {
            line.push_str(&" ".repeat(10usize.saturating_sub(info.name.len())));
            if let Some(shown) = shown {
                line.push(' ');
                line.push_str(&shown);
            }
            if let Some(note) = note {
                line.push(' ');
                line.push_str(&note);
            }
        }
        out.push_str(&line);
        out.push('\n');
        if op == Opcode::Stop {
            break;
        }
    }
    let _ = writeln!(out, "highest protocol among opcodes = {}", reader.highest());
    Ok(out)
}

/// The opcode byte as `repr(code)[1:-1]` shows it.
fn code_repr(byte: u8) -> String {
    match byte {
        b'\\' => "\\\\".to_owned(),
        b'\'' => "\\'".to_owned(),
        0x20..=0x7E => (byte as char).to_string(),
        _ => format!("\\x{byte:02x}"),
    }
}

/// The argument as pickletools prints it: `repr` of the Python value it decodes to.
fn show_arg(kind: ArgKind, arg: Arg) -> Result<Option<String>> {
    let text = |bytes: &[u8]| -> String { str_repr(bytes.iter().map(|&b| u32::from(b))) };
    Ok(Some(match (kind, arg) {
        (_, Arg::None) => return Ok(None),
        (_, Arg::Int(i)) => i.to_string(),
        (_, Arg::Float(f)) => float_repr(f),
        (ArgKind::Long1 | ArgKind::Long4, Arg::Data(d)) => {
            if d.is_empty() { BigInt::from(0) } else { BigInt::from_signed_bytes_le(&d) }.to_string()
        }
        (ArgKind::String1 | ArgKind::String4, Arg::Data(d)) => text(&d),
        (ArgKind::Bytearray8, Arg::Data(d)) => format!("bytearray({})", bytes_repr(&d)),
        (ArgKind::Bytes1 | ArgKind::Bytes4 | ArgKind::Bytes8, Arg::Data(d)) => bytes_repr(&d),
        (_, Arg::Text(s)) => str_repr(s.code_points()),
        (_, Arg::Data(d)) => match PyString::from_surrogatepass(&d) {
            Ok(s) => str_repr(s.code_points()),
            Err(e) => return Err(Error::unpickling(format!("'utf-8' codec can't decode the str payload: {e}"))),
        },
        (_, Arg::Pair(module, name)) => {
            let mut joined = module;
            joined.push(b' ');
            joined.extend_from_slice(&name);
            text(&joined)
        }
        (ArgKind::Stringnl, Arg::Line(l)) => text(&text::parse_quoted_string(&l)?),
        (ArgKind::Unicodestringnl, Arg::Line(l)) => str_repr(text::parse_raw_unicode_escape(&l)?.code_points()),
        (ArgKind::DecimalnlShort, Arg::Line(l)) => match l.as_slice() {
            b"00" => "False".to_owned(),
            b"01" => "True".to_owned(),
            _ => show_int(text::parse_int_line(&l, usize::MAX)?),
        },
        (ArgKind::DecimalnlLong, Arg::Line(l)) => show_int(text::parse_long_line(&l, usize::MAX)?),
        (ArgKind::Floatnl, Arg::Line(l)) => float_repr(text::parse_float_line(&l)?),
        (_, Arg::Line(l)) => text(&l),
    }))
}

fn show_int(value: text::Int) -> String {
    match value {
        text::Int::Small(i) => i.to_string(),
        text::Int::Big(b) => b.to_string(),
    }
}
