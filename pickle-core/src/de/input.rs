//! Where the unpickler reads from: a byte slice, or any `io::Read` behind a buffer.
//!
//! Both trust a declared length only as far as the bytes that are really there: reading a
//! payload grows its buffer as data arrives, so a 1 TiB BINBYTES8 header in a 20-byte
//! input allocates nothing large before failing as truncated.

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};

/// Read at most this much more of a payload at a time from an `io::Read`.
const READ_CHUNK: usize = 1 << 20;

/// A source of pickle bytes. Sealed: [`SliceSource`] and [`ReadSource`] are the two.
pub trait Source: sealed::Input {}

pub(crate) use sealed::Input;

mod sealed {
    use crate::error::Result;

    /// What the loader needs from a source.
    pub trait Input {
        /// Bytes consumed so far.
        fn offset(&self) -> u64;
        /// The next byte, or `None` at the end of the input.
        fn next_byte(&mut self) -> Result<Option<u8>>;
        /// Exactly `n` bytes (small, fixed-size arguments).
        fn read(&mut self, n: usize) -> Result<&[u8]>;
        /// A line without its `\n`; at most `max` bytes long.
        fn read_line(&mut self, max: usize) -> Result<&[u8]>;
        /// Exactly `n` bytes, owned: the payload of a str, bytes or long.
        fn read_vec(&mut self, n: u64) -> Result<Vec<u8>>;
        /// Checks that `n` more bytes are there without consuming them (FRAME).
        fn ensure(&mut self, n: u64) -> Result<()>;
        /// All the bytes not read yet, where the source holds them all (a slice).
        fn unread(&self) -> Option<&[u8]> {
            None
        }
        /// The bytes at hand, not read yet: all of a slice, a reader's buffer.
        fn window(&self) -> &[u8];
        /// Consumes `n` bytes of [`Input::window`].
        fn skip(&mut self, n: usize);
        /// Goes back to offset `to`, if the source still holds the bytes from there (a
        /// slice does); whether it did.
        fn rewind(&mut self, to: u64) -> bool {
            let _ = to;
            false
        }
    }
}

/// A source borrowed for one pickle: the unpickler keeps its source between pickles.
impl<I: Input + ?Sized> Input for &mut I {
    #[inline]
    fn offset(&self) -> u64 {
        (**self).offset()
    }
    #[inline(always)]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        (**self).next_byte()
    }
    #[inline(always)]
    fn read(&mut self, n: usize) -> Result<&[u8]> {
        (**self).read(n)
    }
    fn read_line(&mut self, max: usize) -> Result<&[u8]> {
        (**self).read_line(max)
    }
    fn read_vec(&mut self, n: u64) -> Result<Vec<u8>> {
        (**self).read_vec(n)
    }
    fn ensure(&mut self, n: u64) -> Result<()> {
        (**self).ensure(n)
    }
    fn unread(&self) -> Option<&[u8]> {
        (**self).unread()
    }
    #[inline(always)]
    fn window(&self) -> &[u8] {
        (**self).window()
    }
    #[inline(always)]
    fn skip(&mut self, n: usize) {
        (**self).skip(n)
    }
}

fn truncated() -> Error {
    Error::new(ErrorKind::Truncated(false))
}

/// A pickle in memory.
#[derive(Clone)]
pub struct SliceSource<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    pub(crate) fn new(data: &'a [u8]) -> SliceSource<'a> {
        SliceSource { data, pos: 0 }
    }

    /// The bytes not read yet.
    #[inline(always)]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

impl Source for SliceSource<'_> {}

impl Input for SliceSource<'_> {
    #[inline]
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.data.get(self.pos).copied();
        self.pos += b.is_some() as usize;
        Ok(b)
    }

    #[inline]
    fn read(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(truncated)?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn read_line(&mut self, max: usize) -> Result<&[u8]> {
        let rest = &self.data[self.pos..];
        let window = &rest[..rest.len().min(max.saturating_add(1))];
        match window.iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                Ok(&rest[..n])
            }
            None if window.len() > max => Err(line_too_long(max)),
            None => Err(truncated()),
        }
    }

    fn read_vec(&mut self, n: u64) -> Result<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| truncated())?;
        self.read(n).map(<[u8]>::to_vec)
    }

    fn unread(&self) -> Option<&[u8]> {
        Some(self.rest())
    }

    #[inline]
    fn window(&self) -> &[u8] {
        self.rest()
    }

    #[inline]
    fn skip(&mut self, n: usize) {
        self.pos += n;
    }

    fn rewind(&mut self, to: u64) -> bool {
        match usize::try_from(to) {
            Ok(to) if to <= self.pos => {
                self.pos = to;
                true
            }
            _ => false,
        }
    }

    fn ensure(&mut self, n: u64) -> Result<()> {
        if n <= (self.data.len() - self.pos) as u64 {
            Ok(())
        } else {
            Err(truncated())
        }
    }
}

fn line_too_long(max: usize) -> Error {
    Error::new(ErrorKind::LimitExceeded { what: "text line length", limit: max as u64 })
}

/// A pickle read from an `io::Read`, through a buffer that the unpickler keeps between
/// pickles, so several pickles in one stream load one after another.
pub struct ReadSource<R> {
    reader: R,
    /// Storage: `buf[pos..end]` is read and not consumed yet; the rest is spare room, zeroed
    /// once when the buffer grows, so short reads cost what they read.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Bytes consumed before `buf[0]`, or read past the buffer straight into payloads.
    base: u64,
}

/// The buffer's first size.
const INITIAL_BUFFER: usize = 8 << 10;

impl<R: Read> ReadSource<R> {
    pub(crate) fn new(reader: R) -> ReadSource<R> {
        ReadSource { reader, buf: Vec::new(), pos: 0, end: 0, base: 0 }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.reader
    }

    pub(crate) fn into_parts(self) -> (R, Vec<u8>) {
        let rest = self.buf[self.pos..self.end].to_vec();
        (self.reader, rest)
    }

    /// Makes at least `n` unread bytes available, or fails as truncated.
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.end - self.pos >= n {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() < n {
            let grown = n.max(2 * self.buf.len()).max(INITIAL_BUFFER);
            self.buf.resize(grown, 0);
        }
        while self.end < n {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => return Err(truncated()),
                Ok(got) => self.end += got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

impl<R: Read> Source for ReadSource<R> {}

impl<R: Read> Input for ReadSource<R> {
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline]
    fn next_byte(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end {
            match self.fill(1) {
                Ok(()) => {}
                Err(e) if matches!(e.kind(), ErrorKind::Truncated(_)) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(Some(b))
    }

    fn read(&mut self, n: usize) -> Result<&[u8]> {
        self.fill(n)?;
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn read_line(&mut self, max: usize) -> Result<&[u8]> {
        let mut searched = 0;
        loop {
            let unread = &self.buf[self.pos..self.end];
            if let Some(n) = unread[searched..].iter().position(|&b| b == b'\n') {
                let len = searched + n;
                if len > max {
                    return Err(line_too_long(max));
                }
                let start = self.pos;
                self.pos += len + 1;
                return Ok(&self.buf[start..start + len]);
            }
            searched = unread.len();
            if searched > max {
                return Err(line_too_long(max));
            }
            self.fill(searched + 1)?;
        }
    }

    fn read_vec(&mut self, n: u64) -> Result<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| truncated())?;
        let buffered = (self.end - self.pos).min(n);
        let mut out = Vec::with_capacity(buffered.max(n.min(READ_CHUNK)));
        out.extend_from_slice(&self.buf[self.pos..self.pos + buffered]);
        self.pos += buffered;
        // The rest straight from the reader into `out`, which grows (and is zeroed) a chunk
        // at a time as data arrives: a lying length costs nothing, short reads stay linear.
        let mut valid = out.len();
        while valid < n {
            if out.len() == valid {
                let grow = (n - valid).min(READ_CHUNK.max(valid));
                out.resize(valid + grow, 0);
            }
            match self.reader.read(&mut out[valid..]) {
                Ok(0) => return Err(truncated()),
                Ok(got) => {
                    valid += got;
                    self.base += got as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        out.truncate(valid);
        Ok(out)
    }

    #[inline]
    fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    #[inline]
    fn skip(&mut self, n: usize) {
        self.pos += n;
    }

    fn ensure(&mut self, n: u64) -> Result<()> {
        // CPython reads a whole frame at once; here a frame's length is only checked as far
        // as one chunk, and its bytes as they are consumed, so a huge declared frame costs
        // nothing until its bytes arrive.
        let n = usize::try_from(n).map_err(|_| truncated())?;
        self.fill(n.min(READ_CHUNK))
    }
}
