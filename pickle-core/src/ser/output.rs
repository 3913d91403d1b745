//! The pickler's output buffer, with protocol 4's framing.
//!
//! This follows the C pickler (`_Pickler_Write`, `_Pickler_CommitFrame`,
//! `_Pickler_write_bytes`): once framing is on, the first write after a commit opens a frame
//! by reserving its 9-byte header; a frame is committed when an object's save starts with
//! 64 KiB or more in it, and before any str or bytes payload of 64 KiB or more, which is
//! written outside frames. A committed frame shorter than 4 bytes loses its header. With a
//! writer attached, committed bytes go straight to it, so memory stays near one frame.

use std::io::Write;

use crate::error::Result;
use crate::opcode::Opcode;

/// CPython's `FRAME_SIZE_TARGET`.
pub(crate) const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// CPython's `FRAME_SIZE_MIN`: smaller frames are written without a header.
const FRAME_SIZE_MIN: usize = 4;
/// FRAME opcode plus its 8-byte length.
const FRAME_HEADER_SIZE: usize = 9;

pub(crate) struct Output<'w> {
    buf: Vec<u8>,
    /// Where the open frame's header was reserved, if a frame is open.
    frame_start: Option<usize>,
    framing: bool,
    sink: Option<&'w mut dyn Write>,
    /// Bytes already handed to the sink, for error offsets.
    flushed: u64,
}

impl<'w> Output<'w> {
    pub(crate) fn new(sink: Option<&'w mut dyn Write>) -> Output<'w> {
        Output { buf: Vec::with_capacity(256), frame_start: None, framing: false, sink, flushed: 0 }
    }

    /// Turns framing on (after the PROTO opcode, which stays outside frames).
    pub(crate) fn start_framing(&mut self) {
        self.framing = true;
    }

    /// The number of bytes written so far.
    pub(crate) fn position(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    #[inline]
    fn open_frame_if_needed(&mut self) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.buf.len());
            self.buf.extend_from_slice(&[0xFE; FRAME_HEADER_SIZE]);
        }
    }

    #[inline]
    pub(crate) fn op(&mut self, op: Opcode) {
        self.open_frame_if_needed();
        self.buf.push(op.code());
    }

    #[inline]
    pub(crate) fn op_arg(&mut self, op: Opcode, arg: &[u8]) {
        self.open_frame_if_needed();
        if let Some(bytes) = arg.first_chunk::<8>() {
            if arg.len() == 8 {
                // BINFLOAT and friends: one copy of nine bytes, one capacity check.
                let mut both = [op.code(); 9];
                both[1..].copy_from_slice(bytes);
                self.buf.extend_from_slice(&both);
                return;
            }
        }
        self.buf.push(op.code());
        self.buf.extend_from_slice(arg);
    }

    /// The first `len` bytes of `word`: an opcode and an argument of variable length,
    /// written by one copy of fixed size (and a truncation) rather than a copy of `len`.
    #[inline]
    pub(crate) fn op_word(&mut self, word: &[u8; 10], len: usize) {
        self.open_frame_if_needed();
        let end = self.buf.len() + len;
        self.buf.extend_from_slice(word);
        self.buf.truncate(end);
    }

    /// An opcode with its length argument (`head`), then a payload of `len` bytes that
    /// starts `padded`: written by copying all of `padded` and truncating, a copy of fixed
    /// size. Copying `len` bytes is a call to `memmove`, which was a quarter of the time
    /// spent on a list of short strs.
    #[inline]
    pub(crate) fn op_padded_payload<const H: usize, const N: usize>(
        &mut self,
        head: [u8; H],
        padded: &[u8; N],
        len: usize,
    ) {
        self.open_frame_if_needed();
        let end = self.buf.len() + H + len;
        self.buf.extend_from_slice(&head);
        self.buf.extend_from_slice(padded);
        self.buf.truncate(end);
    }

    #[inline]
    pub(crate) fn bytes(&mut self, data: &[u8]) {
        self.open_frame_if_needed();
        self.buf.extend_from_slice(data);
    }

    /// An opcode with a length-prefixed payload. Payloads of 64 KiB or more end the open
    /// frame and are written unframed, straight to the writer when there is one.
    pub(crate) fn op_payload(&mut self, op: Opcode, len_prefix: &[u8], payload: &[u8]) -> Result<()> {
        if payload.len() < FRAME_SIZE_TARGET {
            self.op_arg(op, len_prefix);
            self.bytes(payload);
            return Ok(());
        }
        self.commit_frame()?;
        self.buf.push(op.code());
        self.buf.extend_from_slice(len_prefix);
        match self.sink.as_deref_mut() {
            Some(sink) => {
                sink.write_all(&self.buf)?;
                sink.write_all(payload)?;
                self.flushed += (self.buf.len() + payload.len()) as u64;
                self.buf.clear();
            }
            None => {
                // Room for what follows too (MEMOIZE, STOP, a frame header): a buffer that
                // fits the payload exactly would be reallocated, and the payload copied
                // again, by the next byte.
                self.buf.reserve(payload.len() + 64);
                self.buf.extend_from_slice(payload);
            }
        }
        Ok(())
    }

    /// Bytes written outside any frame: the open frame is committed first, as the Python
    /// framer does for an opcode `pickletools.optimize` copies whole and finds too large.
    pub(crate) fn unframed(&mut self, data: &[u8]) -> Result<()> {
        self.commit_frame()?;
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Called as each object's save starts: commits the open frame once it is large enough,
    /// and without framing hands a large buffer to the writer.
    #[inline]
    pub(crate) fn object_boundary(&mut self) -> Result<()> {
        match self.frame_start {
            Some(start) if self.buf.len() - start - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET => self.commit_frame(),
            None if !self.framing && self.buf.len() >= FRAME_SIZE_TARGET && self.sink.is_some() => self.flush(),
            _ => Ok(()),
        }
    }

    /// Closes the open frame: writes its header, or drops the header of a tiny frame.
    pub(crate) fn commit_frame(&mut self) -> Result<()> {
        let Some(start) = self.frame_start.take() else {
            return Ok(());
        };
        let len = self.buf.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.buf[start] = Opcode::Frame.code();
            self.buf[start + 1..start + FRAME_HEADER_SIZE].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.buf.drain(start..start + FRAME_HEADER_SIZE);
        }
        if self.sink.is_some() {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(sink) = self.sink.as_deref_mut() {
            sink.write_all(&self.buf)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Commits the last frame, flushes, and returns what was not handed to a writer.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
        self.commit_frame()?;
        self.flush()?;
        Ok(self.buf)
    }
}
