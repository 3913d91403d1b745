//! Python `str`, lone surrogates included.

use std::fmt;

/// A Python `str`: Unicode code points, where lone surrogates (U+D800..U+DFFF) are allowed.
///
/// CPython pickles a `str` as UTF-8 with the `surrogatepass` error handler, so a string that
/// holds a lone surrogate (from `os.fsdecode`, a broken JSON file, ...) arrives as the
/// three-byte encoding of that surrogate. `PyString` stores exactly those bytes: a string
/// without surrogates is plain UTF-8 and [`as_str`](PyString::as_str) borrows it; one with
/// surrogates is kept losslessly, re-encodes to the same bytes, and refuses a silent
/// conversion to Rust's `str`.
///
/// Strings of up to 21 bytes are stored inline, without an allocation: most strings in a
/// pickle are short (names, keys, words), and each would otherwise cost a `malloc` when it
/// is read and a `free` when it is dropped.
#[derive(Clone)]
pub struct PyString {
    storage: Storage,
}

/// The bytes of a [`PyString`]: UTF-8, except that surrogates are encoded as themselves
/// (`surrogatepass`), and whether they hold a surrogate (whether they are not valid UTF-8).
#[derive(Clone)]
enum Storage {
    Inline { len: u8, surrogates: bool, buf: [u8; PyString::INLINE] },
    Heap { surrogates: bool, bytes: Box<[u8]> },
}

impl PyString {
    /// How many bytes a string stores inline (what fits beside the heap form's pointer).
    pub(crate) const INLINE: usize = 21;

    /// The empty string, as a constant (what `default` gives; the direct path pushes it and
    /// fills it in place).
    pub(crate) const EMPTY: PyString =
        PyString { storage: Storage::Inline { len: 0, surrogates: false, buf: [0; PyString::INLINE] } };

    /// A string of checked bytes, copied.
    #[inline]
    fn from_checked(bytes: &[u8], surrogates: bool) -> PyString {
        if bytes.len() <= PyString::INLINE {
            let mut buf = [0; PyString::INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            return PyString { storage: Storage::Inline { len: bytes.len() as u8, surrogates, buf } };
        }
        PyString { storage: Storage::Heap { surrogates, bytes: bytes.into() } }
    }

    /// A string of checked bytes, taking the buffer when it is not stored inline.
    fn from_checked_vec(bytes: Vec<u8>, surrogates: bool) -> PyString {
        if bytes.len() <= PyString::INLINE {
            return PyString::from_checked(&bytes, surrogates);
        }
        PyString { storage: Storage::Heap { surrogates, bytes: bytes.into_boxed_slice() } }
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Inline { len, buf, .. } => &buf[..*len as usize],
            Storage::Heap { bytes, .. } => bytes,
        }
    }
}

impl Default for PyString {
    fn default() -> PyString {
        PyString::EMPTY
    }
}

impl PartialEq for PyString {
    fn eq(&self, other: &PyString) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for PyString {}

impl std::hash::Hash for PyString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state)
    }
}

impl PartialOrd for PyString {
    fn partial_cmp(&self, other: &PyString) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PyString {
    fn cmp(&self, other: &PyString) -> std::cmp::Ordering {
        self.bytes().cmp(other.bytes())
    }
}

/// Bytes that are not UTF-8, even with `surrogatepass`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8 {
    /// Offset of the first bad byte.
    pub valid_up_to: usize,
}

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid UTF-8 at byte {} of the string", self.valid_up_to)
    }
}

impl std::error::Error for InvalidUtf8 {}

impl PyString {
    /// Decodes UTF-8 with `surrogatepass`, as CPython's unpickler decodes `BINUNICODE`.
    #[inline]
    pub fn from_surrogatepass(bytes: &[u8]) -> Result<PyString, InvalidUtf8> {
        match utf8(bytes) {
            Ok(s) => Ok(PyString::from(s)),
            Err(_) => {
                validate_surrogatepass(bytes)?;
                Ok(PyString::from_checked(bytes, true))
            }
        }
    }

    /// Sets this string to [`from_surrogatepass`](PyString::from_surrogatepass) of the first
    /// `len` bytes of `window`, in place. When the string is stored inline and the window
    /// holds the whole inline buffer's size, that many bytes are copied, a copy of fixed size
    /// rather than a call to `memmove` for `len` (the inline bytes past `len`, never read,
    /// are then the window's). In place, because a string built and returned, then moved
    /// into a `Value` and the `Value` onto a vector, was read back wider than it was written
    /// at each move, a stalled store forward each (most of decoding a list of strs).
    #[inline]
    pub(crate) fn set_surrogatepass_window(&mut self, window: &[u8], len: usize) -> Result<(), InvalidUtf8> {
        let bytes = &window[..len];
        let surrogates = match utf8(bytes) {
            Ok(_) => false,
            Err(_) => {
                validate_surrogatepass(bytes)?;
                true
            }
        };
        match window.first_chunk::<{ PyString::INLINE }>() {
            Some(&buf) if len <= PyString::INLINE => self.storage = Storage::Inline { len: len as u8, surrogates, buf },
            _ => *self = PyString::from_checked(bytes, surrogates),
        }
        Ok(())
    }

    /// [`from_surrogatepass`](PyString::from_surrogatepass) taking the buffer, without a copy.
    pub fn from_surrogatepass_vec(bytes: Vec<u8>) -> Result<PyString, InvalidUtf8> {
        if utf8(&bytes).is_ok() {
            // SAFETY: checked to be UTF-8 just above.
            return Ok(PyString::from(unsafe { String::from_utf8_unchecked(bytes) }));
        }
        validate_surrogatepass(&bytes)?;
        Ok(PyString::from_checked_vec(bytes, true))
    }

    /// Builds a string from code points; surrogates are kept, values above U+10FFFF refused.
    pub fn from_code_points<I: IntoIterator<Item = u32>>(points: I) -> Option<PyString> {
        let mut bytes = Vec::new();
        let mut has_surrogates = false;
        for cp in points {
            match char::from_u32(cp) {
                Some(c) => {
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                None if (0xD800..0xE000).contains(&cp) => {
                    has_surrogates = true;
                    bytes.extend_from_slice(&encode_surrogate(cp));
                }
                None => return None,
            }
        }
        Some(PyString::from_checked_vec(bytes, has_surrogates))
    }

    /// The string as Rust `str`, or `None` when it holds a lone surrogate.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        if self.has_surrogates() {
            None
        } else {
            // SAFETY: without surrogates the bytes are valid UTF-8 (checked on construction).
            Some(unsafe { std::str::from_utf8_unchecked(self.bytes()) })
        }
    }

    /// The bytes CPython writes for this string: UTF-8 with `surrogatepass`.
    #[inline]
    pub fn as_surrogatepass_bytes(&self) -> &[u8] {
        self.bytes()
    }

    /// For a string stored inline, the buffer that starts with its bytes: what the pickler
    /// copies whole, at a fixed size, rather than copying the string's length.
    #[inline]
    pub(crate) fn inline_buffer(&self) -> Option<&[u8; PyString::INLINE]> {
        match &self.storage {
            Storage::Inline { buf, .. } => Some(buf),
            Storage::Heap { .. } => None,
        }
    }

    /// `s.encode('latin1')`: the code points as bytes, if all are below U+0100. How
    /// protocols 0 to 2 write `bytes` (`_codecs.encode(s, 'latin1')`), so a 16 MiB value
    /// goes through here: one pass over the UTF-8, no code point decoded in between.
    pub fn to_latin1(&self) -> Option<Vec<u8>> {
        latin1(self.bytes())
    }

    /// Whether the string holds a lone surrogate (and so is no Rust `str`).
    #[inline]
    pub fn has_surrogates(&self) -> bool {
        match self.storage {
            Storage::Inline { surrogates, .. } | Storage::Heap { surrogates, .. } => surrogates,
        }
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints { bytes: self.bytes() }
    }

    /// The length in code points, as Python's `len` counts.
    pub fn char_len(&self) -> usize {
        // Every code point starts with a byte that is not a continuation byte.
        self.bytes().iter().filter(|b| (**b as i8) >= -0x40).count()
    }

    /// The string with each lone surrogate replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        match self.as_str() {
            Some(s) => s.to_owned(),
            None => self.code_points().map(|cp| char::from_u32(cp).unwrap_or('\u{FFFD}')).collect(),
        }
    }

    /// The Rust `String`, or the string back when it holds a lone surrogate.
    pub fn into_string(self) -> Result<String, PyString> {
        match self.storage {
            Storage::Inline { surrogates: false, len, buf } => {
                // SAFETY: as in `as_str`.
                Ok(unsafe { std::str::from_utf8_unchecked(&buf[..len as usize]) }.to_owned())
            }
            // SAFETY: as in `as_str`.
            Storage::Heap { surrogates: false, bytes } => Ok(unsafe { String::from_utf8_unchecked(bytes.into_vec()) }),
            _ => Err(self),
        }
    }
}

impl From<&str> for PyString {
    fn from(s: &str) -> PyString {
        PyString::from_checked(s.as_bytes(), false)
    }
}

impl From<String> for PyString {
    fn from(s: String) -> PyString {
        PyString::from_checked_vec(s.into_bytes(), false)
    }
}

impl fmt::Debug for PyString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::value::repr::str_repr(self.code_points()))
    }
}

/// `s.encode('latin1')` of UTF-8 text (`surrogatepass` bytes included): the code points as
/// bytes, if all are below U+0100 (see [`PyString::to_latin1`]).
pub(crate) fn latin1(utf8: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(utf8.len());
    let mut i = 0;
    while let Some(&lead) = utf8.get(i) {
        if lead < 0x80 {
            out.push(lead);
            i += 1;
        } else if lead & 0xFE == 0xC2 {
            // U+0080 to U+00FF: 110000xx 10xxxxxx (valid UTF-8, so the second is there).
            out.push((lead & 0x03) << 6 | (utf8.get(i + 1)? & 0x3F));
            i += 2;
        } else {
            return None;
        }
    }
    Some(out)
}

/// Whether `name` is a codec name `_codecs.encode` is given for Latin-1 as CPython's
/// pickler writes it (`'latin1'`), or its other spelling.
pub(crate) fn is_latin1_codec(name: &str) -> bool {
    matches!(name, "latin1" | "latin-1")
}

/// `bytes` as a `str` if it is UTF-8. Long payloads are checked with SIMD (`simdutf8`),
/// many times faster than `std` on text that is not ASCII; short ones, the common case,
/// with `std`, whose ASCII path is as fast there.
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, ()> {
    if is_short_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    if bytes.len() < 64 {
        return std::str::from_utf8(bytes).map_err(drop);
    }
    simdutf8::basic::from_utf8(bytes).map_err(drop)
}

/// Whether `bytes` is ASCII and at most 16 bytes long, tested with two overlapping words
/// rather than a loop: the strs of bulk data are mostly that short, and `std`'s check costs
/// more in its setup than in its work there.
#[inline]
fn is_short_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = bytes.len();
    let word = |at: usize, width: usize| -> u64 {
        let mut buf = [0; 8];
        buf[..width].copy_from_slice(&bytes[at..at + width]);
        u64::from_le_bytes(buf)
    };
    let high = match n {
        8..=16 => word(0, 8) | word(n - 8, 8),
        4..=7 => word(0, 4) | word(n - 4, 4),
        1..=3 => u64::from(bytes[0] | bytes[n / 2] | bytes[n - 1]),
        0 => 0,
        _ => return false,
    };
    high & HIGH == 0
}

/// The three `surrogatepass` bytes of a surrogate code point.
fn encode_surrogate(cp: u32) -> [u8; 3] {
    [0xE0 | (cp >> 12) as u8, 0x80 | ((cp >> 6) & 0x3F) as u8, 0x80 | (cp & 0x3F) as u8]
}

/// Checks UTF-8 where the encoded surrogates `ED A0..BF 80..BF` are allowed.
fn validate_surrogatepass(mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
    let mut consumed = 0;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return Ok(()),
            Err(e) => {
                let at = e.valid_up_to();
                let rest = &bytes[at..];
                let is_surrogate = rest.len() >= 3
                    && rest[0] == 0xED
                    && (0xA0..=0xBF).contains(&rest[1])
                    && (0x80..=0xBF).contains(&rest[2]);
                if !is_surrogate {
                    return Err(InvalidUtf8 { valid_up_to: consumed + at });
                }
                consumed += at + 3;
                bytes = &rest[3..];
            }
        }
    }
}

/// Iterator over the code points of a [`PyString`], surrogates included.
#[derive(Clone)]
pub struct CodePoints<'a> {
    bytes: &'a [u8],
}

impl Iterator for CodePoints<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let (&first, rest) = self.bytes.split_first()?;
        let (len, init) = match first {
            0x00..=0x7F => (1, first as u32),
            0xC0..=0xDF => (2, (first & 0x1F) as u32),
            0xE0..=0xEF => (3, (first & 0x0F) as u32),
            _ => (4, (first & 0x07) as u32),
        };
        let cp = rest[..len - 1].iter().fold(init, |acc, b| (acc << 6) | (b & 0x3F) as u32);
        self.bytes = &rest[len - 1..];
        Some(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filling a string from a window of the input gives what `from_surrogatepass` of the
    /// bytes gives, for every length around the inline size, with and without bytes after
    /// the string in the window, with surrogates, and for bytes that are not UTF-8.
    #[test]
    fn a_string_filled_from_a_window_is_the_string_of_its_bytes() {
        let pieces: [&[u8]; 5] = [b"a", "\u{e9}".as_bytes(), "\u{1F40D}".as_bytes(), b"\xed\xb3\xbf", b"\xff"];
        for piece in pieces {
            for len in 0..=PyString::INLINE + 6 {
                let bytes: Vec<u8> = piece.iter().copied().cycle().take(len).collect();
                for after in [&b""[..], b"\x94.", &[0x94; 40]] {
                    let window = [&bytes[..], after].concat();
                    let mut filled = PyString::from("previous");
                    let result = filled.set_surrogatepass_window(&window, len);
                    match PyString::from_surrogatepass(&bytes) {
                        Ok(expected) => {
                            assert_eq!(result, Ok(()), "{bytes:?}");
                            assert!(filled == expected, "{bytes:?}");
                            assert_eq!(filled.has_surrogates(), expected.has_surrogates(), "{bytes:?}");
                        }
                        Err(error) => assert_eq!(result, Err(error), "{bytes:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn keeps_lone_surrogates_losslessly() {
        let bytes = b"a\xed\xb3\xbfb";
        let s = PyString::from_surrogatepass(bytes).unwrap();
        assert!(s.has_surrogates());
        assert_eq!(s.as_str(), None);
        assert_eq!(s.as_surrogatepass_bytes(), bytes);
        assert_eq!(s.code_points().collect::<Vec<_>>(), vec![0x61, 0xDCFF, 0x62]);
        assert_eq!(s.char_len(), 3);
        assert_eq!(PyString::from_code_points([0x61, 0xDCFF, 0x62]).unwrap(), s);
        assert_eq!(s.to_string_lossy(), "a\u{FFFD}b");
    }

    #[test]
    fn rejects_what_surrogatepass_rejects() {
        assert_eq!(PyString::from_surrogatepass(b"ab\xff").unwrap_err().valid_up_to, 2);
        assert_eq!(PyString::from_surrogatepass(b"\xed\xa0").unwrap_err().valid_up_to, 0);
        assert!(PyString::from_code_points([0x110000]).is_none());
    }

    #[test]
    fn short_strings_are_inline_and_equal_to_long_ones_by_content() {
        assert_eq!(std::mem::size_of::<PyString>(), 24);
        assert_eq!(std::mem::size_of::<crate::Value>(), 32);
        let short = PyString::from("abc");
        let long = PyString::from("abcdefghijklmnopqrstuvwxyz");
        assert!(matches!(short.storage, Storage::Inline { .. }));
        assert!(matches!(long.storage, Storage::Heap { .. }));
        assert_eq!(PyString::from(String::from("abc")), short);
        assert!(short < long);
        assert_eq!(long.clone().into_string().unwrap(), "abcdefghijklmnopqrstuvwxyz");
        let surrogate = PyString::from_surrogatepass(b"\xed\xb3\xbf").unwrap();
        assert!(surrogate.has_surrogates() && surrogate.clone().into_string().is_err());
    }

    #[test]
    fn plain_utf8_borrows() {
        let s = PyString::from("héllo 🐍");
        assert_eq!(s.as_str(), Some("héllo 🐍"));
        assert_eq!(s.char_len(), 7);
    }

    /// The short ASCII test agrees with `std` at every length and every position of a
    /// high byte, valid UTF-8 or not.
    #[test]
    fn utf8_agrees_with_std() {
        for n in 0..=20 {
            let ascii = vec![b'a'; n];
            assert_eq!(utf8(&ascii).ok(), std::str::from_utf8(&ascii).ok());
            for at in 0..n {
                for high in [0x80, 0xC3, 0xFF] {
                    let mut bytes = ascii.clone();
                    bytes[at] = high;
                    assert_eq!(utf8(&bytes).ok(), std::str::from_utf8(&bytes).ok(), "{bytes:x?}");
                    if at + 1 < n {
                        bytes[at + 1] = 0xA9;
                        assert_eq!(utf8(&bytes).ok(), std::str::from_utf8(&bytes).ok(), "{bytes:x?}");
                    }
                }
            }
        }
    }

    #[test]
    fn latin1_is_every_code_point_below_256() {
        let all: String = (0u32..256).map(|c| char::from_u32(c).unwrap()).collect();
        assert_eq!(PyString::from(all.as_str()).to_latin1(), Some((0u8..=255).collect::<Vec<u8>>()));
        assert_eq!(PyString::from("\u{100}").to_latin1(), None);
        assert_eq!(PyString::from("a🐍").to_latin1(), None);
        assert_eq!(PyString::from_surrogatepass(b"\xed\xb3\xbf").unwrap().to_latin1(), None);
    }
}
