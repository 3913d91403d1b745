//! [`Source`]: the checkpoint's bytes, in memory or read from the file on demand.
//!
//! Opening a checkpoint reads the container's directory and the pickle; storages stay byte
//! ranges of the source until a tensor's data is asked for, so opening a file of gigabytes
//! costs what its pickle costs. [`SourceReader`] gives the `Read + Seek` view the `zip` crate
//! and the legacy container's unpickler read through.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

/// Where a checkpoint's bytes are.
pub(crate) enum Source {
    /// The whole file, in memory.
    Memory(Arc<[u8]>),
    /// An open file, read at an offset when asked (one reader at a time).
    File { file: Mutex<File>, len: u64 },
}

impl Source {
    /// The source over a file, whose length is taken once, at opening.
    pub(crate) fn file(file: File) -> io::Result<Source> {
        let len = file.metadata()?.len();
        Ok(Source::File { file: Mutex::new(file), len })
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::File { len, .. } => *len,
        }
    }

    /// Up to `buf.len()` bytes at `offset`; 0 at or past the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
                let n = buf.len().min(bytes.len() - start);
                buf[..n].copy_from_slice(&bytes[start..start + n]);
                Ok(n)
            }
            Source::File { file, .. } => {
                let mut file = file.lock().map_err(|_| io::Error::other("the checkpoint's file lock is poisoned"))?;
                read_file_at(&mut file, offset, buf)
            }
        }
    }

    /// Exactly `len` bytes at `offset`, which the caller has checked are within the source.
    pub(crate) fn read_exact_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let end = offset.checked_add(len as u64).filter(|&end| end <= self.len());
        if end.is_none() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a read past the end of the checkpoint"));
        }
        let mut out = vec![0; len];
        let mut done = 0;
        while done < len {
            match self.read_at(offset + done as u64, &mut out[done..])? {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the checkpoint file got shorter")),
                n => done += n,
            }
        }
        Ok(out)
    }
}

/// One positioned read: `pread` where there is one (one system call, no seek).
#[cfg(unix)]
fn read_file_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// One positioned read: a seek, then a read.
#[cfg(not(unix))]
fn read_file_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    file.read(buf)
}

/// A `Read + Seek` cursor over a [`Source`].
pub(crate) struct SourceReader<'a> {
    source: &'a Source,
    position: u64,
}

impl<'a> SourceReader<'a> {
    /// A cursor at `position`.
    pub(crate) fn new(source: &'a Source, position: u64) -> SourceReader<'a> {
        SourceReader { source, position }
    }
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(self.position, buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SourceReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.source.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a seek before byte 0"))?;
        Ok(self.position)
    }
}
