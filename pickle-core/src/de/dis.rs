//! A `pickletools.dis`-style listing: every opcode with its offset, its argument and, as
//! pickletools shows them, MARK nesting and memo indices.

use std::collections::HashSet;
use std::fmt::Write;

use num_bigint::BigInt;

use super::args::{Arg, Budget};
use super::input::SliceSource;
use super::reader::OpReader;
use super::text;
use crate::error::{Error, Result};
use crate::opcode::{ArgKind, Opcode, StackItem};
use crate::value::{bytes_repr, float_repr, str_repr, PyString};

/// `pickletools.dis`'s options: the indent of a MARK level, the annotation column, and the
/// memo, which persists across calls as pickletools' `memo` argument does (for pickles
/// written by one pickler with one memo).
#[derive(Clone, Debug)]
pub struct DisOptions {
    /// Blanks per MARK level (`indentlevel`, 4 by default).
    pub indent: usize,
    /// The column hint for each opcode's one-line description; 0, the default, for none.
    pub annotate: usize,
    /// The memo keys stored so far, as the decimal of their int (`False` and `True`, which
    /// PUT's "00" and "01" read as, are 0 and 1, as Python's dict keys).
    memo: HashSet<String>,
}

impl DisOptions {
    /// Options with an empty memo: `indent` blanks per MARK level, annotations from column
    /// `annotate` (0 for none).
    pub fn new(indent: usize, annotate: usize) -> Self {
        DisOptions { indent, annotate, memo: HashSet::new() }
    }
}

impl Default for DisOptions {
    fn default() -> Self {
        DisOptions::new(4, 0)
    }
}

/// `pickletools.dis(pickle)`: one line per opcode, up to STOP, then the highest protocol
/// among the opcodes. The listing matches pickletools' for the pickles CPython writes.
///
/// ```
/// let listing = pickle_core::dis(&pickle_core::dumps(&vec![1, 2], 2)?)?;
/// assert!(listing.contains("APPENDS    (MARK at 5)"));
/// # Ok::<(), pickle_core::Error>(())
/// ```
pub fn dis(pickle: &[u8]) -> Result<String> {
    let mut out = String::new();
    dis_with(pickle, &mut DisOptions::default(), &mut out)?;
    Ok(out)
}

/// `pickletools.dis(pickle, out, memo, indentlevel, annotate)`: appends the listing to
/// `out` as it goes, so that on an error `out` holds what pickletools prints before it
/// raises. The checks are pickletools': a MARK for every opcode that needs one, enough items
/// to pop, no memo key stored twice or fetched before it is stored, an empty stack after
/// STOP. An opcode that cannot be read is not listed; one that fails a check is, and the
/// error names its offset.
pub fn dis_with(pickle: &[u8], options: &mut DisOptions, out: &mut String) -> Result<()> {
    let mut reader = OpReader::lenient(SliceSource::new(pickle));
    let mut budget = Budget::new(u64::MAX);
    let mut listing =
        Listing { stack: Vec::new(), marks_on_stack: 0, marks: Vec::new(), annocol: options.annotate, options };
    loop {
        let (pos, op) = reader.next()?;
        let at = |e: Error| e.at_offset(pos).at_opcode(op);
        let arg = reader.arg(op, &mut budget).map_err(at)?;
        let shown = show_arg(op.info().arg, arg).map_err(at)?;
        listing.step(pos, op, shown, out).map_err(at)?;
        if op == Opcode::Stop {
            let _ = writeln!(out, "highest protocol among opcodes = {}", reader.highest());
            return match listing.stack.len() {
                0 => Ok(()),
                n => Err(at(Error::unpickling(format!("stack not empty after STOP: {n} items left")))),
            };
        }
    }
}

/// The state of one listing: the stack as pickletools emulates it (`true` for a MARK), how
/// many MARKs are on it, the offsets of the open MARKs, and the annotation column.
struct Listing<'o> {
    stack: Vec<bool>,
    marks_on_stack: usize,
    marks: Vec<u64>,
    annocol: usize,
    options: &'o mut DisOptions,
}

impl Listing<'_> {
    /// Lists one opcode and emulates its effect; the error of a failed check comes after its
    /// line, as pickletools prints the line before it raises.
    fn step(&mut self, pos: u64, op: Opcode, shown: Option<String>, out: &mut String) -> Result<()> {
        let info = op.info();
        if self.takes_mark(op) && !self.marks.is_empty() && self.marks_on_stack == 0 {
            // An opcode that pops a fixed count took the MARK; pickletools then fails
            // looking for it (an IndexError) after printing the offset alone.
            let _ = write!(out, "{pos:5}: ");
            return Err(Error::unpickling("a MARK was popped as an item, and is not on the stack"));
        }
        let indent = " ".repeat(self.options.indent.saturating_mul(self.marks.len()));
        let mut line = format!("{:<4} {indent}{}", code_repr(op.code()), info.name);
        let mut checked = Ok(());
        let (note, pops) = self.pop_mark(op, &mut checked);
        let note = self.memoize(op, shown.as_deref(), &mut checked).or(note);
        if shown.is_some() || note.is_some() {
            line.push_str(&" ".repeat(10usize.saturating_sub(info.name.len())));
            for part in [shown, note].into_iter().flatten() {
                line.push(' ');
                line.push_str(&part);
            }
        }
        self.annotate(&mut line, info.doc);
        let _ = writeln!(out, "{pos:5}: {line}");
        checked?;
        self.pop(pops)?;
        self.stack.extend(info.stack_after.iter().map(|item| *item == StackItem::Mark));
        self.marks_on_stack += usize::from(op == Opcode::Mark);
        if op == Opcode::Mark {
            self.marks.push(pos);
        }
        Ok(())
    }

    /// Takes the topmost MARK and what is above it off the stack where `op` consumes one (or
    /// is a POP of a MARK): its note, and how many items `op` pops besides.
    fn pop_mark(&mut self, op: Opcode, checked: &mut Result<()>) -> (Option<String>, usize) {
        let before = op.info().stack_before;
        if !self.takes_mark(op) {
            return (None, before.len());
        }
        let Some(at) = self.marks.pop() else {
            *checked = Err(Error::unpickling("no MARK exists on stack"));
            return (Some("no MARK exists on stack".to_owned()), before.len());
        };
        let below = self.stack.iter().rposition(|&mark| mark).unwrap_or(0);
        self.stack.truncate(below);
        self.marks_on_stack = self.marks_on_stack.saturating_sub(1);
        (Some(format!("(MARK at {at})")), before.iter().position(|s| *s == StackItem::Mark).unwrap_or(0))
    }

    /// Whether `op` consumes the topmost MARK: it needs one, or it is a POP of one.
    fn takes_mark(&self, op: Opcode) -> bool {
        op.info().stack_before.contains(&StackItem::Mark) || (op == Opcode::Pop && self.stack.last() == Some(&true))
    }

    /// pickletools' memo checks for a PUT or a GET (`shown` is its argument); MEMOIZE's
    /// note, the index it stores at.
    fn memoize(&mut self, op: Opcode, shown: Option<&str>, checked: &mut Result<()>) -> Option<String> {
        let key = shown.map_or_else(|| self.options.memo.len().to_string(), memo_key);
        let memo = &mut self.options.memo;
        let fail = |message: String| Err(Error::unpickling(message));
        match op {
            Opcode::Put | Opcode::Binput | Opcode::LongBinput | Opcode::Memoize => {
                let problem = match self.stack.last() {
                    _ if memo.contains(&key) => Some(format!("memo key {} already defined", shown.unwrap_or("None"))),
                    None => Some("stack is empty -- can't store into memo".to_owned()),
                    Some(true) => Some("can't store markobject in the memo".to_owned()),
                    Some(false) => None,
                };
                match problem {
                    Some(message) => *checked = fail(message),
                    None => drop(memo.insert(key.clone())),
                }
                (op == Opcode::Memoize).then(|| format!("(as {key})"))
            }
            Opcode::Get | Opcode::Binget | Opcode::LongBinget if !memo.contains(&key) => {
                *checked = fail(format!("memo key {} has never been stored into", shown.unwrap_or("None")));
                None
            }
            _ => None,
        }
    }

    /// Appends the opcode's description at the annotation column, which follows the lines
    /// as pickletools' does (a mild effort to align, back to the hint past column 50).
    fn annotate(&mut self, line: &mut String, doc: &str) {
        if self.options.annotate == 0 {
            return;
        }
        let width = line.chars().count();
        line.push_str(&" ".repeat(self.annocol.saturating_sub(width)));
        self.annocol = width.max(self.annocol);
        if self.annocol > 50 {
            self.annocol = self.options.annotate;
        }
        line.push(' ');
        line.push_str(doc);
    }

    /// Pops `count` items (MARKs among them too, as pickletools does), or fails as
    /// pickletools does where there are fewer.
    fn pop(&mut self, count: usize) -> Result<()> {
        let have = self.stack.len();
        if have < count {
            return Err(Error::unpickling(format!("tries to pop {count} items from stack with only {have} items")));
        }
        self.marks_on_stack -= self.stack[have - count..].iter().filter(|&&mark| mark).count();
        self.stack.truncate(have - count);
        Ok(())
    }
}

/// The memo key of a PUT or GET whose argument shows as `shown`: the decimal of the int,
/// with `False` and `True` (what PUT's "00" and "01" read as) being 0 and 1, as they are as
/// Python's dict keys.
pub(super) fn memo_key(shown: &str) -> String {
    match shown {
        "False" => "0".to_owned(),
        "True" => "1".to_owned(),
        other => other.to_owned(),
    }
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
pub(super) fn show_arg(kind: ArgKind, arg: Arg) -> Result<Option<String>> {
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
            let mut joined = unescaped_ascii(&module, true)?;
            joined.push(b' ');
            joined.extend_from_slice(&unescaped_ascii(&name, true)?);
            text(&joined)
        }
        (ArgKind::Stringnl, Arg::Line(l)) => text(&unescaped_ascii(&l, false)?),
        (ArgKind::StringnlNoescape, Arg::Line(l)) => text(&unescaped_ascii(&l, true)?),
        (ArgKind::Unicodestringnl, Arg::Line(l)) => str_repr(text::parse_raw_unicode_escape(&l)?.code_points()),
        (ArgKind::DecimalnlShort, Arg::Line(l)) => match l.as_slice() {
            b"00" => "False".to_owned(),
            b"01" => "True".to_owned(),
            _ => show_int(text::parse_int_line(&l, usize::MAX)?),
        },
        (ArgKind::DecimalnlLong, Arg::Line(l)) => show_int(text::parse_long_line(&l, usize::MAX)?),
        (ArgKind::Floatnl, Arg::Line(l)) => float_repr(text::parse_float_line(&l).or_else(|e| overflowed(&l, e))?),
        (_, Arg::Line(l)) => text(&l),
    }))
}

/// A text line as pickletools reads STRING's, GLOBAL's and PERSID's (`read_stringnl`): its
/// escapes undone (`codecs.escape_decode`, STRING's quotes taken off first, the others have
/// none), and only ASCII after that.
fn unescaped_ascii(line: &[u8], bare: bool) -> Result<Vec<u8>> {
    let bytes = match bare {
        true => text::parse_quoted_string(&[b"'", line, b"'"].concat())?,
        false => text::parse_quoted_string(line)?,
    };
    match bytes.iter().position(|b| !b.is_ascii()) {
        Some(at) => {
            Err(Error::unpickling(format!("'ascii' codec can't decode byte {:#04x} in position {at}", bytes[at])))
        }
        None => Ok(bytes),
    }
}

/// A FLOAT line too large for a finite float: the unpickler refuses it, pickletools'
/// `float(line)` reads it as an infinity. Any other error stands.
fn overflowed(line: &[u8], error: Error) -> Result<f64> {
    let parsed = std::str::from_utf8(line).ok().and_then(|t| t.trim().parse::<f64>().ok());
    parsed.filter(|f| f.is_infinite()).ok_or(error)
}

fn show_int(value: text::Int) -> String {
    match value {
        text::Int::Small(i) => i.to_string(),
        text::Int::Big(b) => b.to_string(),
    }
}
