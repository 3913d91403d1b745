//! The text arguments of protocol 0, parsed as CPython's C unpickler parses them.

use num_bigint::BigInt;
use num_traits::{Num, ToPrimitive, Zero};

use crate::error::{Error, ErrorKind, Result};
use crate::value::PyString;

/// An int from INT, LONG or a decimal GET/PUT argument.
pub(crate) enum Int {
    Small(i64),
    Big(BigInt),
}

impl Int {
    /// The int of LONG1's or LONG4's payload: little-endian two's complement, empty for 0.
    pub(crate) fn from_signed_le(bytes: &[u8]) -> Int {
        let value = BigInt::from_signed_bytes_le(bytes);
        match value.to_i64() {
            Some(small) => Int::Small(small),
            None => Int::Big(value),
        }
    }
}

/// INT's argument: C's `strtol(s, &end, 0)` over the whole line, falling back to Python's
/// `int(s, 0)` when it does not fit or does not parse. `I00`/`I01` are the booleans, which
/// the caller checks first.
pub(crate) fn parse_int_line(line: &[u8], max_digits: usize) -> Result<Int> {
    if let Some(v) = strtol(line) {
        return Ok(Int::Small(v));
    }
    python_int(line, max_digits).ok_or_else(|| Error::unpickling("could not convert string to int")).and_then(|r| r)
}

/// LONG's argument: Python's `int(s, 0)`, an optional trailing `L` removed.
pub(crate) fn parse_long_line(line: &[u8], max_digits: usize) -> Result<Int> {
    let line = line.strip_suffix(b"L").unwrap_or(line);
    python_int(line, max_digits).ok_or_else(|| Error::unpickling("invalid literal for int() with base 0"))?
}

/// C's `strtol` with base 0 in the C locale, required to consume the whole line.
fn strtol(line: &[u8]) -> Option<i64> {
    let s = line.iter().position(|b| !b" \t\n\x0b\x0c\r".contains(b)).map_or(&line[line.len()..], |i| &line[i..]);
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match s {
        [b'0', b'x' | b'X', rest @ ..] if rest.first().is_some_and(u8::is_ascii_hexdigit) => (16, rest),
        [b'0', rest @ ..] if !rest.is_empty() => (8, rest),
        _ => (10, s),
    };
    if digits.is_empty() || !digits.iter().all(|&b| (b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(std::str::from_utf8(digits).ok()?, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Python's `int(text, 0)`: surrounding whitespace, a sign, a `0x`/`0o`/`0b` prefix,
/// underscores between digits, no leading zeros in decimal. `None` when it does not parse;
/// `Some(Err)` past the digit limit (CPython 3.11's `int_max_str_digits`).
fn python_int(text: &[u8], max_digits: usize) -> Option<Result<Int>> {
    let text = std::str::from_utf8(text).ok()?.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ => (10, body),
    };
    let digits = digits.strip_prefix('_').filter(|_| radix != 10).unwrap_or(digits);
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 && clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
        return None;
    }
    if radix == 10 && clean.len() > max_digits {
        // CPython 3.11 raises ValueError here (`sys.get_int_max_str_digits()`); as every
        // limit of the unpickler, it is LimitExceeded.
        return Some(Err(Error::new(ErrorKind::LimitExceeded {
            what: "decimal digits of a text integer",
            limit: max_digits as u64,
        })));
    }
    let magnitude = BigInt::from_str_radix(&clean, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    Some(Ok(match value.to_i64() {
        Some(small) => Int::Small(small),
        None => Int::Big(value),
    }))
}

/// FLOAT's argument: `PyOS_string_to_double` over the whole line.
pub(crate) fn parse_float_line(line: &[u8]) -> Result<f64> {
    let bad = || Error::unpickling("could not convert string to float");
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let value: f64 = text.parse().map_err(|_| bad())?;
    if value.is_infinite() && !text.to_ascii_lowercase().contains("inf") {
        return Err(Error::unpickling(format!("cannot convert float {text} to a finite value: out of range")));
    }
    Ok(value)
}

/// STRING's argument: a quoted Python 2 string literal, unescaped as
/// `PyBytes_DecodeEscape` does.
pub(crate) fn parse_quoted_string(line: &[u8]) -> Result<Vec<u8>> {
    let quoted = line.len() >= 2 && line[0] == line[line.len() - 1] && (line[0] == b'\'' || line[0] == b'"');
    if !quoted {
        return Err(Error::unpickling("the STRING opcode argument must be quoted"));
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(&c) = body.get(i) else {
            return Err(Error::unpickling("Trailing \\ in string"));
        };
        i += 1;
        match c {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(c),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0C),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0B),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let hex = body.get(i..i + 2).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let Some(hex) = hex else {
                    return Err(Error::unpickling(format!("invalid \\x escape at position {}", i - 2)));
                };
                out.push(
                    u8::from_str_radix(std::str::from_utf8(hex).expect("hex digits are ASCII"), 16)
                        .expect("two hex digits"),
                );
                i += 2;
            }
            _ => {
                out.push(b'\\');
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// UNICODE's argument: raw-unicode-escape, as `PyUnicode_DecodeRawUnicodeEscape`.
pub(crate) fn parse_raw_unicode_escape(line: &[u8]) -> Result<PyString> {
    let mut points = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        i += 1;
        if b != b'\\' || i == line.len() {
            points.push(u32::from(b));
            continue;
        }
        let count = match line[i] {
            b'u' => 4,
            b'U' => 8,
            other => {
                points.push(u32::from(b'\\'));
                points.push(u32::from(other));
                i += 1;
                continue;
            }
        };
        let start = i - 1;
        i += 1;
        let hex = line.get(i..i + count).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        let Some(hex) = hex else {
            let what = if count == 4 { "truncated \\uXXXX escape" } else { "truncated \\UXXXXXXXX escape" };
            return Err(Error::unpickling(format!(
                "'rawunicodeescape' codec can't decode bytes in position {start}: {what}"
            )));
        };
        let cp = u32::from_str_radix(std::str::from_utf8(hex).expect("hex digits are ASCII"), 16).expect("hex");
        if cp > 0x10FFFF {
            return Err(Error::unpickling(format!(
                "'rawunicodeescape' codec can't decode bytes in position {start}: \\Uxxxxxxxx out of range"
            )));
        }
        points.push(cp);
        i += count;
    }
    Ok(PyString::from_code_points(points).expect("code points are at most U+10FFFF"))
}

/// A decimal memo index (GET, PUT): `int(line)` as CPython reads it.
pub(crate) fn parse_index_line(line: &[u8], what: &str) -> Result<i64> {
    match python_int(line, 4300) {
        Some(Ok(Int::Small(v))) => Ok(v),
        Some(Ok(Int::Big(v))) if v.is_zero() => Ok(0),
        Some(Ok(Int::Big(_))) => Err(Error::unpickling(format!("{what} argument is too large"))),
        _ => Err(Error::unpickling(format!("invalid literal for int() with base 10 in {what}"))),
    }
}

#[cfg(test)]
mod tests {
    /// LONG4 may carry no bytes at all: zero, as in CPython's `decode_long`.
    #[test]
    fn an_empty_long_payload_is_zero() {
        assert!(matches!(Int::from_signed_le(&[]), Int::Small(0)));
        assert!(matches!(Int::from_signed_le(&[0xff]), Int::Small(-1)));
        assert!(matches!(Int::from_signed_le(&[0, 0, 0, 0, 0, 0, 0, 0, 1]), Int::Big(_)));
    }

    use super::*;

    fn small(r: Result<Int>) -> Option<i64> {
        match r {
            Ok(Int::Small(v)) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn int_lines_parse_as_c_and_python_do() {
        assert_eq!(small(parse_int_line(b"42", 4300)), Some(42));
        assert_eq!(small(parse_int_line(b"-7", 4300)), Some(-7));
        assert_eq!(small(parse_int_line(b"010", 4300)), Some(8), "strtol base 0 reads octal");
        assert_eq!(small(parse_int_line(b"0x1f", 4300)), Some(31));
        assert!(matches!(parse_int_line(b"99999999999999999999", 4300), Ok(Int::Big(_))));
        assert!(parse_int_line(b"12a", 4300).is_err());
        assert_eq!(small(parse_long_line(b"123L", 4300)), Some(123));
        assert_eq!(small(parse_long_line(b"1_000", 4300)), Some(1000));
        assert!(parse_long_line(b"0123L", 4300).is_err());
        assert!(parse_long_line(&[b'1'; 4301], 4300).is_err());
    }

    #[test]
    fn quoted_strings_unescape_as_python_2() {
        assert_eq!(parse_quoted_string(br"'a\nb\x41\101\\\''").unwrap(), b"a\nbAA\\'");
        assert_eq!(parse_quoted_string(br#""it's""#).unwrap(), b"it's");
        assert!(parse_quoted_string(b"abc").is_err());
        assert!(parse_quoted_string(br"'\x4'").is_err());
    }

    #[test]
    fn raw_unicode_escape_decodes() {
        let s = parse_raw_unicode_escape(b"a\\u00e9\\U0001f40d\\\\u0041\xe9").unwrap();
        assert_eq!(s.as_str(), Some("aé🐍\\\\u0041é"));
        assert!(parse_raw_unicode_escape(b"\\u12").is_err());
        assert!(parse_raw_unicode_escape(b"\\U00110000").is_err());
    }
}
