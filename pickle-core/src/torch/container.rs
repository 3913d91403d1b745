//! The containers torch writes around the pickle, told apart by their first bytes:
//!
//! - ZIP (`torch.save` since 1.6): records `<folder>/data.pkl`, `<folder>/byteorder`,
//!   `<folder>/data/<key>` under one top-level folder of any name (the file's stem, or
//!   `archive`), stored uncompressed. Read with the `zip` crate, which gives each record's data
//!   offset; the records are never read here, only located.
//! - legacy (`_use_new_zipfile_serialization=False`): pickles one after another, the magic
//!   number, the protocol version, `sys_info`, the object, the sorted storage keys, then per key
//!   an 8-byte little-endian element count and the storage's bytes.
//! - TAR (torch before 0.4): members `pickle`, `storages` and `tensors` (see [`super::tar`]).
//!
//! Both pickles are decoded by [`crate::Unpickler`] with a `persistent_load` hook that checks
//! each storage id; the result is the object tree and where each storage's bytes are.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

use num_bigint::BigInt;

use crate::{Encoding, PersistentLoad, StringErrors, Unpickler, UnpicklerOptions, Value};

use super::dtype::DType;
use super::error::{TorchError, TorchResult};
use super::source::{Source, SourceReader};
use super::storage_id;
use super::tar::TarTensor;
use super::LoadOptions;

/// torch's `MAGIC_NUMBER`, the first pickle of a legacy checkpoint.
const LEGACY_MAGIC: u128 = 0x1950A86A20F9469CFC6C;
/// torch's `PROTOCOL_VERSION`, the second pickle.
const LEGACY_PROTOCOL_VERSION: i64 = 1001;
/// The buffer the ZIP's directory and local headers are read through: a local header with
/// torch's alignment padding fits.
const ZIP_READ_BUFFER: usize = 512;
/// The most bytes of a ZIP's `byteorder` record that are read.
const MAX_SMALL_RECORD: u64 = 64;

/// Which container a checkpoint is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The ZIP container `torch.save` writes by default.
    Zip,
    /// The legacy stacked-pickles container (`_use_new_zipfile_serialization=False`).
    Legacy,
    /// The TAR container of torch before 0.4.
    Tar,
}

impl Format {
    /// `"zip"`, `"legacy"` or `"tar"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Legacy => "legacy",
            Format::Tar => "tar",
        }
    }
}

/// Where a storage's bytes are in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// A container read: the pickle's object and where each storage's bytes are.
pub(crate) struct Opened {
    pub(crate) format: Format,
    pub(crate) root: Value,
    pub(crate) records: HashMap<String, Record>,
    pub(crate) big_endian: bool,
    pub(crate) pickle_start: u64,
    /// The TAR container's tensors, which its pickle names by persistent id.
    pub(crate) tar_tensors: HashMap<String, TarTensor>,
}

/// The container of `source`, by its first bytes.
pub(crate) fn sniff(source: &Source) -> TorchResult<Format> {
    let head = source.read_exact_at(0, source.len().min(512) as usize)?;
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Zip);
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Ok(Format::Tar);
    }
    if head.first() == Some(&0x80) {
        return Ok(Format::Legacy);
    }
    Err(TorchError::UnknownFormat("neither a ZIP, a TAR, nor a pickle".into()))
}

/// Reads the container: the pickle under the options' policy (none: everything inert) and the
/// storages' places.
pub(crate) fn open(source: &Source, options: &LoadOptions) -> TorchResult<Opened> {
    match sniff(source)? {
        Format::Zip => open_zip(source, options),
        Format::Legacy => open_legacy(source, options),
        Format::Tar => super::tar::open_tar(source, options),
    }
}

// ----- the pickle -----

/// The element type of each storage key, as its first persistent id says: what the legacy
/// container needs to find where each storage ends.
type SeenStorages = Rc<RefCell<HashMap<String, DType>>>;

/// An unpickler over `reader` with torch's settings: the policy, `encoding='utf-8'` (as
/// `torch.load` sets it) and the persistent-id hook.
pub(crate) fn unpickler<R: Read>(
    reader: R,
    options: &LoadOptions,
    hook: PersistentLoad,
) -> Unpickler<crate::de::ReadSource<R>> {
    let limits = UnpicklerOptions { class_policy: options.policy().cloned(), ..options.limits_ref().clone() };
    Unpickler::new(reader).with_options(limits).encoding(Encoding::Utf8, StringErrors::Strict).persistent_load(hook)
}

/// The `persistent_load` hook: a storage id is checked, its element type noted, and kept as a
/// [`Value::PersistentId`]. Any other id is refused under a policy (torch: "Only
/// persistent_load of storage is allowed") and kept inert without one.
fn storage_hook(strict: bool, seen: SeenStorages) -> PersistentLoad {
    PersistentLoad::Call(Box::new(move |pid: Value| {
        if !strict && !storage_id::is_storage_id(&pid) {
            return Ok(Value::PersistentId(Box::new(pid)));
        }
        let id = storage_id::parse(&pid).map_err(|why| crate::Error::custom(format!("torch persistent id: {why}")))?;
        seen.borrow_mut().entry(id.key).or_insert(id.kind.element());
        Ok(Value::PersistentId(Box::new(pid)))
    }))
}

/// A decoder error as a [`TorchError`] at the pickle's place in the file.
pub(crate) fn pickle_error(pickle_start: u64) -> impl Fn(crate::Error) -> TorchError {
    move |error| TorchError::Pickle { pickle_start, error }
}

// ----- ZIP -----

/// A ZIP entry located: its name and data range, and whether it is stored uncompressed.
struct Entry {
    name: String,
    record: Record,
    stored: bool,
}

fn open_zip(source: &Source, options: &LoadOptions) -> TorchResult<Opened> {
    let entries = zip_entries(source)?;
    let folder = entries
        .first()
        .and_then(|e| e.name.split_once('/'))
        .map(|(folder, _)| format!("{folder}/"))
        .ok_or_else(|| TorchError::corrupt(0, "a ZIP whose first record is in no folder"))?;
    let find = |name: &str| entries.iter().find(|e| e.name.strip_prefix(&folder) == Some(name));
    let pickle = find("data.pkl").ok_or_else(|| TorchError::corrupt(0, format!("no record {folder}data.pkl")))?;
    let big_endian = match find("byteorder") {
        Some(entry) => byteorder(source, entry)?,
        None => false,
    };
    let mut records = HashMap::new();
    for entry in &entries {
        if let Some(key) = entry.name.strip_prefix(&folder).and_then(|n| n.strip_prefix("data/")) {
            records.insert(key.to_owned(), stored_record(entry)?);
        }
    }
    let pickle_record = stored_record(pickle)?;
    let bytes = source.read_exact_at(pickle_record.offset, len_usize(pickle_record)?)?;
    let seen = SeenStorages::default();
    let hook = storage_hook(options.policy().is_some(), seen);
    let root = unpickler(&bytes[..], options, hook).load::<Value>().map_err(pickle_error(pickle_record.offset))?;
    Ok(Opened {
        format: Format::Zip,
        root,
        records,
        big_endian,
        pickle_start: pickle_record.offset,
        tar_tensors: HashMap::new(),
    })
}

/// Every entry of the ZIP with its data range, checked to lie within the file.
fn zip_entries(source: &Source) -> TorchResult<Vec<Entry>> {
    let zip_error = |e: zip::result::ZipError| TorchError::corrupt(0, format!("ZIP: {e}"));
    // Buffered: the crate reads the directory and each local header in small pieces. Small:
    // every local header is reached by a seek, which empties the buffer.
    let reader = std::io::BufReader::with_capacity(ZIP_READ_BUFFER, SourceReader::new(source, 0));
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_error)?;
    let directory = archive.central_directory_start();
    if central_headers(source, directory)? > archive.len() {
        return Err(TorchError::corrupt(directory, "two ZIP records of one name: which holds the data is ambiguous"));
    }
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(zip_error)?;
        let offset = file.data_start().unwrap_or(file.header_start());
        let len = file.compressed_size();
        if offset.checked_add(len).is_none_or(|end| end > source.len()) {
            return Err(TorchError::corrupt(
                offset,
                format!("record {} of {len} bytes runs past the file", file.name()),
            ));
        }
        let stored = file.compression() == zip::CompressionMethod::Stored && file.size() == len;
        entries.push(Entry { name: file.name().to_owned(), record: Record { offset, len }, stored });
    }
    Ok(entries)
}

/// How many headers the central directory at `start` holds, counted by walking them.
///
/// The `zip` crate keeps one record per name and drops the others without a word; a checkpoint
/// with two `data/0` records would then read whichever it kept. This walk (the fixed 46-byte
/// header and its three lengths, nothing else) is what tells the two apart.
fn central_headers(source: &Source, start: u64) -> TorchResult<usize> {
    let directory = source.read_exact_at(start, source.len().saturating_sub(start) as usize)?;
    let length = |at: usize| usize::from(u16::from_le_bytes([directory[at], directory[at + 1]]));
    let (mut at, mut count) = (0usize, 0usize);
    while directory.len() >= at + 46 && directory[at..].starts_with(b"PK\x01\x02") {
        at += 46 + length(at + 28) + length(at + 30) + length(at + 32);
        count += 1;
    }
    Ok(count)
}

/// The record's range, if it is stored uncompressed (torch writes every record so).
fn stored_record(entry: &Entry) -> TorchResult<Record> {
    if !entry.stored {
        return Err(TorchError::corrupt(entry.record.offset, format!("record {} is compressed", entry.name)));
    }
    Ok(entry.record)
}

/// The `byteorder` record: `little` or `big`.
fn byteorder(source: &Source, entry: &Entry) -> TorchResult<bool> {
    let record = stored_record(entry)?;
    if record.len > MAX_SMALL_RECORD {
        return Err(TorchError::corrupt(record.offset, "a byteorder record that is not `little` or `big`"));
    }
    match &source.read_exact_at(record.offset, record.len as usize)?[..] {
        b"little" => Ok(false),
        b"big" => Ok(true),
        _ => Err(TorchError::corrupt(record.offset, "a byteorder record that is not `little` or `big`")),
    }
}

fn len_usize(record: Record) -> TorchResult<usize> {
    usize::try_from(record.len).map_err(|_| TorchError::corrupt(record.offset, "a record larger than memory"))
}

// ----- legacy -----

fn open_legacy(source: &Source, options: &LoadOptions) -> TorchResult<Opened> {
    let seen = SeenStorages::default();
    let hook = storage_hook(options.policy().is_some(), seen.clone());
    let mut unpickler = unpickler(SourceReader::new(source, 0), options, hook);
    let magic = unpickler.load::<Value>().map_err(pickle_error(0))?;
    if magic.as_bigint() != Some(BigInt::from(LEGACY_MAGIC)) {
        return Err(TorchError::UnknownFormat("a pickle that is not torch's magic number".into()));
    }
    let at = unpickler.position();
    let version = unpickler.load::<Value>().map_err(pickle_error(at))?;
    if version.as_i64() != Some(LEGACY_PROTOCOL_VERSION) {
        return Err(TorchError::corrupt(at, format!("legacy protocol version {version:?}, not 1001")));
    }
    let at = unpickler.position();
    let sys_info = unpickler.load::<Value>().map_err(pickle_error(at))?;
    if sys_info.get("little_endian").and_then(Value::as_bool) == Some(false) {
        return Err(TorchError::Unsupported("a legacy checkpoint written on a big-endian machine".into()));
    }
    let pickle_start = unpickler.position();
    let root = unpickler.load::<Value>().map_err(pickle_error(pickle_start))?;
    let at = unpickler.position();
    let keys = unpickler.load::<Value>().map_err(pickle_error(at))?;
    let data_start = unpickler.position();
    let records = legacy_records(source, &keys, &seen.borrow(), data_start)?;
    Ok(Opened { format: Format::Legacy, root, records, big_endian: false, pickle_start, tar_tensors: HashMap::new() })
}

/// Walks the storages after the key list: for each key, an 8-byte little-endian count of
/// elements (of the key's storage type), then the bytes.
fn legacy_records(
    source: &Source,
    keys: &Value,
    seen: &HashMap<String, DType>,
    mut at: u64,
) -> TorchResult<HashMap<String, Record>> {
    let keys = keys.as_list().ok_or_else(|| TorchError::corrupt(at, "the storage keys are not a list"))?;
    let mut records = HashMap::with_capacity(keys.len());
    for key in keys {
        let key = key.as_str().ok_or_else(|| TorchError::corrupt(at, "a storage key that is not a str"))?;
        let dtype = seen.get(key).ok_or_else(|| TorchError::corrupt(at, format!("storage {key:?} is in no tensor")))?;
        let count = source.read_exact_at(at, 8).map_err(|_| TorchError::corrupt(at, "the file ends in a storage"))?;
        let numel = u64::from_le_bytes(count.try_into().unwrap_or_default());
        let data = at + 8;
        let len = numel.checked_mul(dtype.element_size() as u64);
        let end = len.and_then(|len| data.checked_add(len)).filter(|&end| end <= source.len());
        let (Some(len), Some(end)) = (len, end) else {
            return Err(TorchError::corrupt(at, format!("storage {key:?} of {numel} elements runs past the file")));
        };
        records.insert(key.to_owned(), Record { offset: data, len });
        at = end;
    }
    Ok(records)
}
