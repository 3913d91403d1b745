//! Python's `repr` for the atoms: floats, strings and bytes.
//!
//! `float_repr` is also what protocol 0 writes after `F`, so it follows CPython's
//! `PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0)` exactly: the shortest digits that
//! round-trip, in positional form when the decimal point falls within 16 digits, in
//! exponent form otherwise.

use super::printable::NOT_PRINTABLE;
use std::fmt::Write;

/// `repr(x)` for a Python float.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sci = shortest_scientific(x);
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Position of the decimal point relative to the first digit, as dtoa's `decpt`.
    let decpt = exponent + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    out.push_str(sign);
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-decpt) as usize));
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', decpt - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
    out
}

/// The shortest digits that round-trip, in `{:e}` form, with CPython's choice among equals.
///
/// Rust's `{:e}` finds the shortest digit count, but when two strings of that length both
/// round-trip and `x` lies exactly between them, it may pick the upper one; CPython's dtoa
/// rounds such ties to even (`-1149636667324797.25` is `...797.2` in Python). Rounding `x`
/// to that many digits with Rust's exact, half-to-even formatting gives CPython's choice
/// whenever it round-trips.
fn shortest_scientific(x: f64) -> String {
    let shortest = format!("{x:e}");
    let digits = shortest.split('e').next().unwrap_or("").bytes().filter(u8::is_ascii_digit).count();
    let rounded = format!("{:.*e}", digits.saturating_sub(1), x);
    if rounded != shortest && rounded.parse::<f64>() == Ok(x) {
        rounded
    } else {
        shortest
    }
}

/// `repr(s)` for a Python str given by its code points.
///
/// The quote and the escapes are CPython's, and so is which non-ASCII characters count as
/// printable (`tools/gen_printable.py` generates them from CPython 3.11's Unicode 14 data).
pub fn str_repr(points: impl Iterator<Item = u32> + Clone) -> String {
    let quote = choose_quote(points.clone());
    let mut out = String::new();
    out.push(quote as char);
    for cp in points {
        match cp {
            0x5C => out.push_str("\\\\"),
            0x09 => out.push_str("\\t"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            _ if cp == u32::from(quote) => {
                out.push('\\');
                out.push(quote as char);
            }
            0x20..=0x7E => out.push(cp as u8 as char),
            _ if cp < 0x80 || !is_printable(cp) => {
                let _ = match cp {
                    0..=0xFF => write!(out, "\\x{cp:02x}"),
                    0x100..=0xFFFF => write!(out, "\\u{cp:04x}"),
                    _ => write!(out, "\\U{cp:08x}"),
                };
            }
            _ => out.push(char::from_u32(cp).expect("printable code points are chars")),
        }
    }
    out.push(quote as char);
    out
}

/// `repr(b)` for Python bytes, without the `b` prefix's caller context.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let quote = choose_quote(bytes.iter().map(|b| *b as u32));
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(quote as char);
            }
            0x20..=0x7E => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(quote as char);
    out
}

/// CPython's rule: single quotes, unless the text has a `'` and no `"`.
fn choose_quote(points: impl Iterator<Item = u32>) -> u8 {
    let (mut single, mut double) = (false, false);
    for cp in points {
        single |= cp == u32::from(b'\'');
        double |= cp == u32::from(b'"');
    }
    if single && !double {
        b'"'
    } else {
        b'\''
    }
}

/// Whether `repr(str)` keeps the code point `cp` (at or above U+0080) as it is: CPython's
/// `str.isprintable`, from the generated table.
fn is_printable(cp: u32) -> bool {
    let after = NOT_PRINTABLE.partition_point(|&(start, _)| start <= cp);
    after == 0 || NOT_PRINTABLE[after - 1].1 < cp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-300, "1.5e-300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            // -1149636667324797.25: two shortest reprs, CPython takes the even one.
            (f64::from_bits(0xC310_565A_94B4_E5F5), "-1149636667324797.2"),
            (0.3, "0.3"),
            (-f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn strings_and_bytes_quote_as_python() {
        let s = |t: &str| str_repr(t.chars().map(|c| c as u32));
        assert_eq!(s("it's"), "\"it's\"");
        assert_eq!(s("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(s("tab\there\n\\ \x00\x7f é 🐍"), "'tab\\there\\n\\\\ \\x00\\x7f é 🐍'");
        assert_eq!(str_repr([0xD800u32].into_iter()), "'\\ud800'");
        assert_eq!(bytes_repr(b"a'\x00\xff"), "b\"a'\\x00\\xff\"");
    }
}
