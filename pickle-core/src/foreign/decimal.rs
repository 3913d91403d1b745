//! `rust_decimal::Decimal` as Python's `decimal.Decimal` (feature `rust_decimal`). CPython
//! reduces a Decimal to `(Decimal, (str(d),))`, so the work is in the string: `str(d)` is
//! the General Decimal Arithmetic spec's to-scientific-string of the sign, coefficient and
//! exponent, which `Decimal::to_string` is not (`1E-7`, `0E-10`, `-0`), and loading reads
//! that syntax back, refusing what `rust_decimal` cannot hold exactly (NaN, infinities,
//! more than 96 bits of coefficient, more than 28 digits after the point).

use std::borrow::Cow;

use ::rust_decimal::Decimal;

use super::class_args;
use crate::reconstruct::Stream;
use crate::reduce::{Builtin, Fast};
use crate::{Call, GlobalName, Node, Reconstruct, Reduce, Reduction, Result};

impl Reduce for Decimal {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let class = GlobalName::static_type("decimal", "Decimal");
        Ok(Call::new(class, (DecimalStr(python_str(self)),)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `str(d)` as C's `decimal` makes it: a new str object, even of one digit, which CPython
/// would otherwise share (so `[Decimal(0), Decimal(0)]` writes `'0'` twice).
struct DecimalStr(String);

impl Reduce for DecimalStr {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Str(Cow::Borrowed(&self.0))))
    }

    fn fast(&self) -> Fast<'_> {
        Fast::UnsharedStr(&self.0)
    }
}

/// Python's `str(Decimal)`: plain notation unless the exponent is positive (never, here) or
/// the adjusted exponent is below -6 (`_pydecimal.Decimal.__str__`).
fn python_str(d: &Decimal) -> String {
    let digits = d.mantissa().unsigned_abs().to_string();
    let exponent = -i64::from(d.scale());
    let left_digits = exponent + digits.len() as i64;
    // The point goes after `left_digits` digits, or after the first in scientific notation.
    let dot = if left_digits > -6 { left_digits } else { 1 };
    let sign = if d.is_sign_negative() { "-" } else { "" };
    let exponent = if left_digits == dot { String::new() } else { format!("E{:+}", left_digits - dot) };
    format!("{sign}{}{exponent}", with_point(&digits, dot))
}

/// The digits with a point after `dot` of them, or after `0.` and `-dot` zeros.
fn with_point(digits: &str, dot: i64) -> String {
    if dot <= 0 {
        return format!("0.{}{digits}", "0".repeat(dot.unsigned_abs() as usize));
    }
    match digits.split_at((dot as usize).min(digits.len())) {
        (int, "") => int.to_owned(),
        (int, frac) => format!("{int}.{frac}"),
    }
}

/// From `Decimal(s)` with the str `str(d)` gives (or an int, as `Decimal(5)`).
impl Reconstruct for Decimal {
    fn reconstruct(node: Node<'_>) -> Result<Decimal> {
        let mut args = class_args(&node, "decimal", "Decimal")?;
        let (Some(arg), None) = (args.next(), args.next()) else {
            return Err(node.error("expected `decimal.Decimal` of one argument"));
        };
        if let Some(i) = arg.as_i64() {
            return Ok(Decimal::from(i));
        }
        let text = arg.as_str().and_then(|s| s.as_str()).ok_or_else(|| arg.mismatch("str"))?;
        parse(text).ok_or_else(|| node.error(format!("Decimal('{text}') does not fit in a `rust_decimal::Decimal`")))
    }

    /// `Decimal(str)` as CPython writes it; an int argument or a misfit is the general
    /// loader's.
    fn stream<S: Stream>(stream: &mut S) -> Option<Decimal> {
        stream.call(&[("decimal", "Decimal")], |stream, _| stream.tuple(1, |stream| stream.text_with(parse)))
    }
}

/// A decimal string as Python writes it: sign, digits with an optional point, and an
/// optional exponent; `None` for NaN, infinities, bad syntax and what does not fit exactly.
fn parse(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (number, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut d = exact(&digits, exponent.checked_sub(frac.len() as i64)?)?;
    d.set_sign_negative(negative);
    Some(d)
}

/// `digits × 10^exponent` exactly, with trailing zeros given up where the scale would pass
/// `rust_decimal`'s 28 (the value is the same; only Python's precision is lost): a zero
/// always fits.
fn exact(digits: &str, mut exponent: i64) -> Option<Decimal> {
    let mut digits = digits.trim_start_matches('0');
    let max_scale = i64::from(Decimal::MAX_SCALE);
    while exponent < -max_scale && digits.ends_with('0') {
        digits = &digits[..digits.len() - 1];
        exponent += 1;
    }
    if digits.is_empty() {
        // Zero, to any number of places: as many as rust_decimal holds.
        exponent = exponent.max(-max_scale);
    }
    let mut coefficient: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    if exponent > 0 {
        let power = 10i128.checked_pow(u32::try_from(exponent).ok()?);
        coefficient = if coefficient == 0 { 0 } else { coefficient.checked_mul(power?)? };
        exponent = 0;
    }
    Decimal::try_from_i128_with_scale(coefficient, u32::try_from(exponent.unsigned_abs()).ok()?).ok()
}
