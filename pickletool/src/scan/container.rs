//! Finds the pickles in a file, whatever carries them, sniffed by content and never by the
//! file's name: a plain pickle or several in one stream, ZIP archives (torch checkpoints with
//! any top-level folder, `.npz`, others), legacy torch files, TAR, gzip, zlib, bz2, lzma and
//! xz (joblib's compressed files), numpy `.npy` with object arrays. (joblib's arrays written inline in a
//! pickle are the recorder's: `pickle_core::scan`.)
//!
//! It exists because model files are containers, and a scanner that trusts an extension or
//! a ZIP's flag bits reads less than the loader does: members are read raw (no password
//! check, no CRC check, as torch's reader ignores both), and a ZIP whose central directory
//! does not read is walked by its local headers. A torch checkpoint's tensors are never read:
//! only its `.pkl` members.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::Path;

use pickle_core::scan::{record, Record, ScanOptions};

/// The most bytes read from one member or one decompressed stream.
const MAX_MEMBER: u64 = 4 << 30;
/// How deep containers in containers are opened.
const MAX_DEPTH: usize = 4;
/// The pickles a legacy torch file has before its raw storage bytes.
const TORCH_LEGACY_PICKLES: [&str; 5] = ["magic number", "protocol version", "sys info", "data", "storage keys"];
/// `torch.serialization.MAGIC_NUMBER`, the first pickle of a legacy file (at any protocol).
const TORCH_MAGIC: &str = "119547037146038801333356";

/// One pickle found, with what recording it gave, or why it could not be read.
pub struct Unit {
    /// The member's path inside the container(s), `!` between nested containers.
    pub member: Option<String>,
    pub container: &'static str,
    pub record: Option<Record>,
    /// Why the member or the file could not be read (the pickle's own error is in `record`).
    pub error: Option<String>,
    /// Whether the data started with a PROTO opcode, as a pickle of protocol 2+ does.
    proto_prefix: bool,
}

impl Unit {
    fn failed(member: Option<String>, container: &'static str, error: String) -> Unit {
        Unit { member, container, record: None, error: Some(error), proto_prefix: false }
    }

    /// Whether this is a file's whole content, read as a pickle that failed before doing
    /// anything without even a PROTO opcode: data that is no pickle.
    pub fn is_not_a_pickle(&self) -> bool {
        let nothing = |r: &Record| r.found.is_empty() && r.error.is_some();
        self.container == "pickle" && !self.proto_prefix && self.record.as_ref().is_some_and(nothing)
    }
}

/// What kind of data starts with `prefix`.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Zip,
    Tar,
    Gzip,
    Zlib,
    Bzip2,
    Lzma,
    Xz,
    Npy,
    TorchLegacy,
    Pickle,
}

fn sniff(prefix: &[u8]) -> Kind {
    if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if prefix.starts_with(b"\x93NUMPY") {
        Kind::Npy
    } else if prefix.starts_with(b"\x1f\x8b") {
        Kind::Gzip
    } else if is_zlib(prefix) {
        Kind::Zlib
    } else if prefix.len() >= 10 && prefix.starts_with(b"BZh") && &prefix[4..10] == b"1AY&SY" {
        Kind::Bzip2
    } else if prefix.starts_with(b"\xfd7zXZ\x00") {
        Kind::Xz
    } else if prefix.starts_with(b"\x5d\x00\x00") {
        // LZMA "alone", as joblib writes it: `]` then a NUL, which no pickle has.
        Kind::Lzma
    } else if is_torch_legacy(prefix) {
        Kind::TorchLegacy
    } else if prefix.len() >= 262 && &prefix[257..262] == b"ustar" {
        Kind::Tar
    } else {
        Kind::Pickle
    }
}

/// Whether `prefix` starts with a zlib header of a 32 KiB window (`x`, then a valid check),
/// as joblib's default compression writes: no pickle starts so, `x` being no opcode (other
/// windows start with bytes a protocol 0 pickle may start with: `(S` is a valid header).
fn is_zlib(prefix: &[u8]) -> bool {
    matches!(prefix, [0x78, flg, ..] if (0x7800 | u16::from(*flg)) % 31 == 0)
}

/// Whether the first pickle in `prefix` is torch's magic number: a pickle of a few bytes,
/// so only the first 64 are read (a plain pickle is not decoded twice).
fn is_torch_legacy(prefix: &[u8]) -> bool {
    let prefix = &prefix[..prefix.len().min(64)];
    let first = pickle_core::Unpickler::from_slice(prefix).load::<pickle_core::Value>();
    first.is_ok_and(|v| matches!(v, pickle_core::Value::BigInt(_)) && v.to_string() == TORCH_MAGIC)
}

/// Whether `data` starts as a pickle of protocol 2 or higher does: how a member of a ZIP or
/// TAR that is not named `.pkl` is taken for a pickle.
fn looks_like_pickle(data: &[u8]) -> bool {
    matches!(data, [0x80, proto, ..] if *proto <= 5)
}

/// The pickles in the file at `path`. A ZIP or TAR file is read through, never whole.
pub fn scan_file(path: &Path, options: &ScanOptions) -> io::Result<Vec<Unit>> {
    let mut file = File::open(path)?;
    let mut prefix = Vec::with_capacity(512);
    file.by_ref().take(512).read_to_end(&mut prefix)?;
    file.rewind()?;
    Ok(match sniff(&prefix) {
        Kind::Zip => scan_zip(BufReader::new(file), None, options, 0),
        Kind::Tar => scan_tar(BufReader::new(file), None, options, 0),
        Kind::TorchLegacy => scan_torch_legacy(file, options)?,
        _ => {
            let mut data = Vec::new();
            file.read_to_end(&mut data)?;
            scan_bytes(&data, None, options, 0)
        }
    })
}

/// A legacy torch file, read only as far as its five pickles go: its storages' raw bytes,
/// most of the file, are never read. The prefix read grows fourfold while a pickle is cut
/// short by its end.
fn scan_torch_legacy(mut file: File, options: &ScanOptions) -> io::Result<Vec<Unit>> {
    let size = file.metadata()?.len();
    let mut want: u64 = 1 << 20;
    loop {
        let mut data = Vec::new();
        file.rewind()?;
        file.by_ref().take(want).read_to_end(&mut data)?;
        let units = scan_stream(&data, None, "torch-legacy", options, Some(&TORCH_LEGACY_PICKLES));
        let cut = units.iter().any(|u| {
            let error = u.record.as_ref().and_then(|r| r.error.as_ref());
            error.is_some_and(|e| matches!(e.kind(), pickle_core::ErrorKind::Truncated(_)))
        });
        if !cut || want >= size {
            return Ok(units);
        }
        want = want.saturating_mul(4);
    }
}

/// The pickles in `data`, a file or a member, by what it starts with.
fn scan_bytes(data: &[u8], member: Option<String>, options: &ScanOptions, depth: usize) -> Vec<Unit> {
    let kind = sniff(data);
    if depth >= MAX_DEPTH && kind != Kind::Pickle {
        return vec![Unit::failed(member, "nested", format!("containers nested deeper than {MAX_DEPTH}"))];
    }
    match kind {
        Kind::Zip => scan_zip(Cursor::new(data), member, options, depth),
        Kind::Tar => scan_tar(data, member, options, depth),
        Kind::Gzip | Kind::Zlib | Kind::Bzip2 | Kind::Lzma | Kind::Xz => decompress(data, kind, member, options, depth),
        Kind::Npy => scan_npy(data, member, options),
        Kind::TorchLegacy => scan_stream(data, member, "torch-legacy", options, Some(&TORCH_LEGACY_PICKLES)),
        Kind::Pickle => scan_stream(data, member, "pickle", options, None),
    }
}

/// The pickles one after another in `data`, as repeated `pickle.load` calls read them. After
/// the first, reading stops at data that is no pickle (nothing recorded before it fails), as
/// the raw bytes after a legacy torch file's pickles are. `names` names the pickles expected
/// and bounds their number.
fn scan_stream(
    data: &[u8],
    member: Option<String>,
    container: &'static str,
    options: &ScanOptions,
    names: Option<&[&str]>,
) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut at = 0usize;
    loop {
        let mut rec = record(&data[at..], options);
        rec.shift(at as u64);
        let first = units.is_empty();
        if !first && rec.error.is_some() && rec.found.is_empty() {
            break;
        }
        let stop = rec.error.is_some() || rec.end as usize >= data.len();
        let end = rec.end as usize;
        let proto_prefix = looks_like_pickle(&data[at..]);
        units.push(Unit { member: None, container, record: Some(rec), error: None, proto_prefix });
        if stop || names.is_some_and(|n| units.len() >= n.len()) || end <= at {
            break;
        }
        at = end;
    }
    name_pickles(&mut units, member, container, names);
    units
}

/// Names the pickles of one stream: the member itself when there is one pickle, otherwise
/// `#N` (or the legacy torch name) after it.
fn name_pickles(units: &mut [Unit], member: Option<String>, container: &'static str, names: Option<&[&str]>) {
    let several = units.len() > 1 || names.is_some();
    for (i, unit) in units.iter_mut().enumerate() {
        let label = names.and_then(|n| n.get(i)).map_or_else(|| format!("#{}", i + 1), |n| (*n).to_owned());
        unit.member = match (&member, several) {
            (m, false) => m.clone(),
            (Some(m), true) => Some(format!("{m}#{label}")),
            (None, true) => Some(label),
        };
        unit.container = if several && container == "pickle" { "pickle-stream" } else { container };
    }
}

/// A numpy `.npy`: object arrays are a pickle after the header; other arrays have none.
fn scan_npy(data: &[u8], member: Option<String>, options: &ScanOptions) -> Vec<Unit> {
    let Some((header, start)) = npy_header(data) else {
        return vec![Unit::failed(member, "npy", "a .npy header that does not read".into())];
    };
    if !is_object_header(&header) {
        return vec![Unit { member, container: "npy", record: None, error: None, proto_prefix: false }];
    }
    let mut units = scan_stream(&data[start..], member, "npy", options, None);
    for unit in &mut units {
        if let Some(rec) = unit.record.as_mut() {
            rec.shift(start as u64);
        }
    }
    units.truncate(1);
    units
}

/// Whether a `.npy` header's dtype holds Python objects (alone or in a structured dtype).
fn is_object_header(header: &str) -> bool {
    header.contains("'|O'") || header.contains("\"|O\"")
}

/// The header dict's text and where the array data starts: versions 1 (u16 length) and 2, 3
/// (u32 length).
fn npy_header(data: &[u8]) -> Option<(String, usize)> {
    let major = *data.get(6)?;
    let (length, start) = match major {
        1 => (u16::from_le_bytes(data.get(8..10)?.try_into().ok()?) as usize, 10usize),
        _ => (u32::from_le_bytes(data.get(8..12)?.try_into().ok()?) as usize, 12),
    };
    let header = data.get(start..start.checked_add(length)?)?;
    Some((String::from_utf8_lossy(header).into_owned(), start + length))
}

/// A compressed stream (joblib's compressed files, `.tar.gz`), decompressed and sniffed.
fn decompress(data: &[u8], kind: Kind, member: Option<String>, options: &ScanOptions, depth: usize) -> Vec<Unit> {
    let (read, name, container) = inflate_stream(data, kind);
    let inner = Some(join(&member, name));
    match read {
        Ok(out) => {
            let mut units = scan_bytes(&out, inner, options, depth + 1);
            for unit in &mut units {
                if matches!(unit.container, "pickle" | "pickle-stream") {
                    unit.container = container;
                }
            }
            units
        }
        Err(e) => vec![Unit::failed(member, container, format!("{container} data that does not decompress: {e}"))],
    }
}

/// The decompressed bytes (at most `MAX_MEMBER`), with the member name and container they get.
fn inflate_stream(data: &[u8], kind: Kind) -> (Result<Vec<u8>, String>, &'static str, &'static str) {
    let mut out = Vec::new();
    let capped = |reader: &mut dyn Read, out: &mut Vec<u8>| reader.take(MAX_MEMBER).read_to_end(out).map(drop);
    let read = match kind {
        Kind::Gzip => capped(&mut flate2::read::MultiGzDecoder::new(data), &mut out),
        Kind::Zlib => capped(&mut flate2::read::ZlibDecoder::new(data), &mut out),
        Kind::Bzip2 => capped(&mut bzip2::read::MultiBzDecoder::new(data), &mut out),
        Kind::Lzma => {
            lzma_rs::lzma_decompress(&mut io::BufReader::new(data), &mut Capped(&mut out)).map_err(io::Error::other)
        }
        _ => lzma_rs::xz_decompress(&mut io::BufReader::new(data), &mut Capped(&mut out)).map_err(io::Error::other),
    };
    let (name, container) = match kind {
        Kind::Gzip => ("gunzip", "gzip"),
        Kind::Zlib => ("unzlib", "zlib"),
        Kind::Bzip2 => ("bunzip2", "bzip2"),
        Kind::Lzma => ("unlzma", "lzma"),
        _ => ("unxz", "xz"),
    };
    (read.map(|()| out).map_err(|e| e.to_string()), name, container)
}

/// A sink that refuses to grow past `MAX_MEMBER` bytes: lzma-rs writes all it decompresses.
struct Capped<'a>(&'a mut Vec<u8>);

impl io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len() as u64 + buf.len() as u64 > MAX_MEMBER {
            return Err(io::Error::other(format!("decompresses to more than {MAX_MEMBER} bytes")));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn join(outer: &Option<String>, inner: &str) -> String {
    match outer {
        Some(outer) => format!("{outer}!{inner}"),
        None => inner.to_owned(),
    }
}

/// A TAR archive: every file in it is sniffed.
fn scan_tar<R: Read>(reader: R, member: Option<String>, options: &ScanOptions, depth: usize) -> Vec<Unit> {
    let mut archive = tar::Archive::new(reader);
    let mut units = Vec::new();
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => return vec![Unit::failed(member, "tar", format!("a TAR archive that does not read: {e}"))],
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                units.push(Unit::failed(member.clone(), "tar", format!("a TAR entry that does not read: {e}")));
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = join(&member, &entry.path().map(|p| p.display().to_string()).unwrap_or_else(|_| "?".into()));
        let mut data = Vec::new();
        if let Err(e) = entry.by_ref().take(MAX_MEMBER).read_to_end(&mut data) {
            units.push(Unit::failed(Some(name), "tar", format!("a TAR member that does not read: {e}")));
            break;
        }
        units.extend(contained(&data, name, "tar", options, depth, false));
    }
    or_empty(units, member, "tar")
}

/// A container with no pickle in it is reported once, safe, so every file is accounted for.
fn or_empty(mut units: Vec<Unit>, member: Option<String>, container: &'static str) -> Vec<Unit> {
    if units.is_empty() {
        units.push(Unit { member, container, record: None, error: None, proto_prefix: false });
    }
    units
}

/// A member of a ZIP or TAR: scanned as a pickle when `named_pickle` (a `.pkl`) or when its
/// content is a pickle or a container; other members are no pickles.
fn contained(
    data: &[u8],
    name: String,
    container: &'static str,
    options: &ScanOptions,
    depth: usize,
    named_pickle: bool,
) -> Vec<Unit> {
    let kind = sniff(data);
    let mut units = match (named_pickle, kind) {
        (true, Kind::Pickle) => scan_stream(data, Some(name), "pickle", options, None),
        (false, Kind::Pickle) if looks_like_pickle(data) => scan_stream(data, Some(name), "pickle", options, None),
        // Without a PROTO, a member is a pickle if it reads as one: to its STOP, or far
        // enough to import or call something.
        (false, Kind::Pickle) => {
            let units = scan_stream(data, Some(name), "pickle", options, None);
            let reads = |u: &Unit| u.record.as_ref().is_some_and(|r| r.error.is_none() || !r.found.is_empty());
            if units.first().is_some_and(reads) {
                units
            } else {
                Vec::new()
            }
        }
        _ => scan_bytes(data, Some(name), options, depth + 1),
    };
    for unit in &mut units {
        unit.container = match (container, unit.container) {
            (_, "pickle" | "pickle-stream") => container,
            ("zip", "npy") => "npz",
            (_, own) => own,
        };
    }
    units
}

/// A ZIP archive, by its central directory, as torch and numpy read it; by its local headers
/// when the directory does not read.
fn scan_zip<R: Read + Seek>(mut reader: R, member: Option<String>, options: &ScanOptions, depth: usize) -> Vec<Unit> {
    if let Some(units) = scan_zip_directory(&mut reader, &member, options, depth) {
        return units;
    }
    let mut data = Vec::new();
    if let Err(e) = reader.rewind().and_then(|()| reader.take(MAX_MEMBER).read_to_end(&mut data)) {
        return vec![Unit::failed(member, "zip", format!("a ZIP archive that does not read: {e}"))];
    }
    scan_zip_local(&data, member, options, depth)
}

/// The members the central directory lists; `None` when it does not read. In a torch
/// checkpoint (a `data.pkl` in any folder) only the `.pkl` members: the others are tensors,
/// which torch never unpickles.
fn scan_zip_directory<R: Read + Seek>(
    reader: &mut R,
    member: &Option<String>,
    options: &ScanOptions,
    depth: usize,
) -> Option<Vec<Unit>> {
    let mut archive = zip::ZipArchive::new(reader).ok()?;
    let torch = archive.file_names().any(|n| n == "data.pkl" || n.ends_with("/data.pkl"));
    let mut units = Vec::new();
    for index in 0..archive.len() {
        let mut file = match archive.by_index_raw(index) {
            Ok(file) => file,
            Err(e) => {
                units.push(Unit::failed(member.clone(), "zip", format!("ZIP member {index} does not read: {e}")));
                continue;
            }
        };
        let name = file.name().to_owned();
        let named_pickle = name.ends_with(".pkl");
        if file.is_dir() || (torch && !named_pickle) {
            continue;
        }
        let method = match file.compression() {
            zip::CompressionMethod::Stored => 0,
            m if m == zip::CompressionMethod::DEFLATE => 8,
            _ => u16::MAX,
        };
        let full = join(member, &name);
        match inflate(&mut file, method) {
            Ok(data) => units.extend(contained(&data, full, "zip", options, depth, named_pickle)),
            Err(e) => units.push(Unit::failed(Some(full), "zip", e)),
        }
    }
    Some(or_empty(units, member.clone(), "zip"))
}

/// A member's bytes from its raw data (compressed, and read whatever its flags say: torch
/// checks neither the encryption bit nor the CRC): stored (0) or deflated (8).
fn inflate<R: Read>(raw: R, method: u16) -> Result<Vec<u8>, String> {
    let mut reader: Box<dyn Read> = match method {
        0 => Box::new(raw.take(MAX_MEMBER)),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw).take(MAX_MEMBER)),
        _ => return Err("a ZIP member compressed with a method other than stored or deflated, not read".into()),
    };
    let failed = |e: io::Error| format!("a ZIP member that does not read: {e}");
    // A .npy of numbers holds no pickle: its header is enough, the array is never read.
    let mut data = Vec::new();
    reader.by_ref().take(4096).read_to_end(&mut data).map_err(failed)?;
    if sniff(&data) == Kind::Npy && npy_header(&data).is_some_and(|(header, _)| !is_object_header(&header)) {
        return Ok(data);
    }
    reader.read_to_end(&mut data).map_err(failed)?;
    Ok(data)
}

/// A ZIP whose central directory does not read, walked by its local file headers (in a
/// torch checkpoint, only the `.pkl` members, as through the directory).
fn scan_zip_local(data: &[u8], member: Option<String>, options: &ScanOptions, depth: usize) -> Vec<Unit> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    while let Some(found) = find(&data[at..], b"PK\x03\x04") {
        let start = at + found;
        let Some(entry) = local_entry(data, start) else { break };
        at = entry.data.end.max(start + 4);
        entries.push(entry);
    }
    let torch = entries.iter().any(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"));
    let mut units = Vec::new();
    for entry in entries {
        let named_pickle = entry.name.ends_with(".pkl");
        if entry.name.ends_with('/') || (torch && !named_pickle) {
            continue;
        }
        let full = join(&member, &entry.name);
        match inflate(&data[entry.data.clone()], entry.method) {
            Ok(bytes) => units.extend(contained(&bytes, full, "zip-local-headers", options, depth, named_pickle)),
            Err(e) => units.push(Unit::failed(Some(full), "zip-local-headers", e)),
        }
    }
    if units.is_empty() {
        units.push(Unit::failed(member, "zip", "a ZIP archive with neither a central directory nor entries".into()));
    }
    units
}

struct LocalEntry {
    name: String,
    method: u16,
    data: std::ops::Range<usize>,
}

/// The local header at `start`: its name, method and data. Sizes in a data descriptor (flag
/// bit 3) are found by the next signature.
fn local_entry(data: &[u8], start: usize) -> Option<LocalEntry> {
    let header = data.get(start..start + 30)?;
    let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]);
    let flags = u16_at(6);
    let method = u16_at(8);
    let size = u32::from_le_bytes(header[18..22].try_into().ok()?) as usize;
    let (name_len, extra_len) = (u16_at(26) as usize, u16_at(28) as usize);
    let name = String::from_utf8_lossy(data.get(start + 30..start + 30 + name_len)?).into_owned();
    let begin = start + 30 + name_len + extra_len;
    let end = match flags & 8 != 0 && size == 0 {
        true => begin + next_signature(data.get(begin..)?),
        false => begin.checked_add(size)?.min(data.len()),
    };
    Some(LocalEntry { name, method, data: begin.min(end)..end })
}

fn next_signature(data: &[u8]) -> usize {
    [&b"PK\x07\x08"[..], b"PK\x03\x04", b"PK\x01\x02"].iter().filter_map(|s| find(data, s)).min().unwrap_or(data.len())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
