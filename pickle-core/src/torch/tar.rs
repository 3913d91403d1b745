//! The TAR container of torch before 0.4, as torch's `_legacy_load` still reads it.
//!
//! Its members, located with the `tar` crate and never read whole:
//!
//! - `storages`: a pickled count, then per storage the pickle `(key, location, storage
//!   class)`, an 8-byte little-endian element count and the bytes; then a pickled list of
//!   views `(key, root key, offset, numel)`, each a slice of a storage;
//! - `tensors`: a pickled count, then per tensor the pickle `(key, storage key, tensor class)`,
//!   `ndim` as a little-endian int32 and 4 unused bytes, then `ndim` sizes, `ndim` strides and
//!   the storage offset as little-endian int64;
//! - `pickle`: the object, in which each tensor is the persistent id of its key.
//!
//! torch refuses this container under `weights_only=True`; here the same policy as for the
//! other containers applies to all of its pickles, and nothing is executed either way.

use std::collections::HashMap;
use std::io::Read;

use crate::{PersistentLoad, Value};

use super::container::{pickle_error, unpickler, Format, Opened, Record};
use super::dtype::{DType, StorageKind};
use super::error::{TorchError, TorchResult};
use super::source::{Source, SourceReader};
use super::storage_id::ascii;
use super::LoadOptions;

/// The most dimensions a TAR tensor record may declare (torch's limit is 64 too).
const MAX_DIMS: u64 = 64;

/// A tensor of the `tensors` member: a view of a storage of the `storages` member.
#[derive(Clone, Debug)]
pub(crate) struct TarTensor {
    pub(crate) storage: String,
    pub(crate) location: String,
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) stride: Vec<usize>,
    pub(crate) offset: usize,
}

/// A storage of the `storages` member: its bytes, element type and device.
struct TarStorage {
    record: Record,
    dtype: DType,
    location: String,
}

/// Reads the TAR container: its members' places, storages, tensors and the object.
pub(crate) fn open_tar(source: &Source, options: &LoadOptions) -> TorchResult<Opened> {
    let members = members(source)?;
    let member = |name: &str| {
        members.get(name).copied().ok_or_else(|| TorchError::corrupt(0, format!("a TAR without a `{name}` member")))
    };
    let storages = read_storages(source, member("storages")?, options)?;
    let tar_tensors = read_tensors(source, member("tensors")?, options, &storages)?;
    let pickle = member("pickle")?;
    let reader = SourceReader::new(source, pickle.offset).take(pickle.len);
    let root = unpickler(reader, options, tensor_hook(options.policy().is_some())).load::<Value>();
    let records = storages.into_iter().map(|(key, storage)| (key, storage.record)).collect();
    Ok(Opened {
        format: Format::Tar,
        root: root.map_err(pickle_error(pickle.offset))?,
        records,
        big_endian: false,
        pickle_start: pickle.offset,
        tar_tensors,
    })
}

/// The members of the TAR by name, each checked to lie within the file.
fn members(source: &Source) -> TorchResult<HashMap<String, Record>> {
    let tar_error = |e: std::io::Error| TorchError::corrupt(0, format!("TAR: {e}"));
    let mut archive = tar::Archive::new(SourceReader::new(source, 0));
    let mut members = HashMap::new();
    for entry in archive.entries_with_seek().map_err(tar_error)? {
        let entry = entry.map_err(tar_error)?;
        let (offset, len) = (entry.raw_file_position(), entry.size());
        if offset.checked_add(len).is_none_or(|end| end > source.len()) {
            return Err(TorchError::corrupt(offset, format!("a TAR member of {len} bytes runs past the file")));
        }
        let name = entry.path().map_err(tar_error)?.to_string_lossy().into_owned();
        members.insert(name, Record { offset, len });
    }
    Ok(members)
}

/// The `pickle` member's hook: a tensor or storage key is kept as a persistent id (its
/// tensor is looked up when asked for); a `('module', class, file, source)` id, which torch
/// answers with the class, is refused under a policy and kept inert without one.
fn tensor_hook(strict: bool) -> PersistentLoad {
    PersistentLoad::Call(Box::new(move |pid: Value| {
        if strict && pid.as_tuple().is_some() {
            return Err(crate::Error::custom("torch persistent id: a TAR module id, refused under a policy"));
        }
        Ok(Value::PersistentId(Box::new(pid)))
    }))
}

/// A cursor over one member, from which pickles and raw fields are read in turn.
struct Member<'a> {
    source: &'a Source,
    options: &'a LoadOptions,
    at: u64,
    end: u64,
}

impl<'a> Member<'a> {
    fn new(source: &'a Source, record: Record, options: &'a LoadOptions) -> Member<'a> {
        Member { source, options, at: record.offset, end: record.offset + record.len }
    }

    /// The next pickle (with no persistent ids).
    fn pickle(&mut self) -> TorchResult<Value> {
        let reader = SourceReader::new(self.source, self.at).take(self.end - self.at);
        let mut unpickler = unpickler(reader, self.options, PersistentLoad::Refuse);
        let value = unpickler.load::<Value>().map_err(pickle_error(self.at))?;
        self.at += unpickler.position();
        Ok(value)
    }

    /// The next `n` raw bytes.
    fn bytes(&mut self, n: u64) -> TorchResult<Vec<u8>> {
        if n > self.end - self.at {
            return Err(TorchError::corrupt(self.at, format!("{n} bytes past the end of the TAR member")));
        }
        let bytes = self.source.read_exact_at(self.at, n as usize)?;
        self.at += n;
        Ok(bytes)
    }

    /// The next little-endian int64.
    fn i64(&mut self) -> TorchResult<i64> {
        let bytes = self.bytes(8)?;
        Ok(i64::from_le_bytes(bytes.try_into().unwrap_or_default()))
    }

    /// The next int64 that is a count or an index (>= 0).
    fn count(&mut self) -> TorchResult<u64> {
        let at = self.at;
        u64::try_from(self.i64()?).map_err(|_| TorchError::corrupt(at, "a negative size"))
    }

    /// The next int64 that is a size, a stride or an offset, as a `usize`.
    fn index(&mut self) -> TorchResult<usize> {
        let at = self.at;
        usize::try_from(self.count()?).map_err(|_| TorchError::corrupt(at, "a size larger than memory"))
    }

    /// The next pickle, an int >= 0.
    fn pickled_count(&mut self) -> TorchResult<u64> {
        let at = self.at;
        let count = self.pickle()?.as_i64().and_then(|n| u64::try_from(n).ok());
        count.ok_or_else(|| TorchError::corrupt(at, "a count that is not an int >= 0"))
    }

    /// The next pickle, a tuple of `n` items.
    fn tuple(&mut self, n: usize) -> TorchResult<Vec<Value>> {
        let at = self.at;
        let value = self.pickle()?;
        match value.into_items() {
            Some(items) if items.len() == n => Ok(items),
            _ => Err(TorchError::corrupt(at, format!("a record that is not a tuple of {n}"))),
        }
    }
}

/// The `storages` member: each storage's bytes, then the views of them.
fn read_storages(source: &Source, record: Record, options: &LoadOptions) -> TorchResult<HashMap<String, TarStorage>> {
    let mut member = Member::new(source, record, options);
    let mut storages = HashMap::new();
    for _ in 0..member.pickled_count()? {
        let at = member.at;
        let [key, location, class] = <[Value; 3]>::try_from(member.tuple(3)?).unwrap_or_default();
        let (key, location) = (ascii(&key), ascii(&location));
        let (Some(key), Some(location)) = (key, location) else {
            return Err(TorchError::corrupt(at, "a storage record whose key or location is not a str"));
        };
        let dtype = storage_dtype(&class).map_err(|e| TorchError::corrupt(at, e))?;
        let numel = member.count()?;
        let len = numel.saturating_mul(dtype.element_size() as u64);
        let offset = member.at;
        let available = member.end - offset;
        if len > available {
            return Err(TorchError::StorageTooSmall { key, needed: len, available, offset });
        }
        member.at += len;
        storages.insert(key, TarStorage { record: Record { offset, len }, dtype, location });
    }
    let at = member.at;
    let views = member.pickle()?;
    let views = views.as_list().ok_or_else(|| TorchError::corrupt(at, "storage views that are not a list"))?;
    for view in views {
        add_view(&mut storages, view).map_err(|e| TorchError::corrupt(at, e))?;
    }
    Ok(storages)
}

/// A view `(key, root key, offset, numel)`: a slice of a storage, in its elements.
fn add_view(storages: &mut HashMap<String, TarStorage>, view: &Value) -> Result<(), String> {
    let [key, root, offset, numel] = view.as_tuple().ok_or("a storage view that is not a tuple")? else {
        return Err("a storage view that is not a tuple of 4".into());
    };
    let (key, root) = (ascii(key).ok_or("a view key")?, ascii(root).ok_or("a view's root key")?);
    let root = storages.get(&root).ok_or_else(|| format!("a view of storage {root:?}, which is not there"))?;
    let size = root.dtype.element_size() as u64;
    let number = |v: &Value| v.as_i64().and_then(|n| u64::try_from(n).ok()).and_then(|n| n.checked_mul(size));
    let (Some(start), Some(len)) = (number(offset), number(numel)) else {
        return Err("a view whose offset or numel is not an int >= 0".into());
    };
    if start.checked_add(len).is_none_or(|end| end > root.record.len) {
        return Err(format!("a view of storage {key:?} past the end of its root"));
    }
    let record = Record { offset: root.record.offset + start, len };
    let view = TarStorage { record, dtype: root.dtype, location: root.location.clone() };
    storages.insert(key, view);
    Ok(())
}

/// The element type of a storage class global.
fn storage_dtype(class: &Value) -> Result<DType, String> {
    let global = class.as_global().ok_or("a storage class that is not a global")?;
    StorageKind::from_global(&global.module, &global.name).map(StorageKind::element).map_err(|e| e.to_string())
}

/// The `tensors` member: each tensor's storage, shape, strides and offset.
fn read_tensors(
    source: &Source,
    record: Record,
    options: &LoadOptions,
    storages: &HashMap<String, TarStorage>,
) -> TorchResult<HashMap<String, TarTensor>> {
    let mut member = Member::new(source, record, options);
    let mut tensors = HashMap::new();
    for _ in 0..member.pickled_count()? {
        let at = member.at;
        let [key, storage, _class] = <[Value; 3]>::try_from(member.tuple(3)?).unwrap_or_default();
        let (Some(key), Some(storage)) = (ascii(&key), ascii(&storage)) else {
            return Err(TorchError::corrupt(at, "a tensor record whose keys are not ints or strs"));
        };
        let Some(stored) = storages.get(&storage) else {
            return Err(TorchError::MissingStorage { key: storage });
        };
        let ndim = u64::from(u32::from_le_bytes(member.bytes(8)?[..4].try_into().unwrap_or_default()));
        if ndim > MAX_DIMS {
            return Err(TorchError::corrupt(at, format!("a tensor of {ndim} dimensions")));
        }
        let dims = |member: &mut Member<'_>| -> TorchResult<Vec<usize>> { (0..ndim).map(|_| member.index()).collect() };
        let (shape, stride) = (dims(&mut member)?, dims(&mut member)?);
        let offset = member.index()?;
        let (dtype, location) = (stored.dtype, stored.location.clone());
        tensors.insert(key, TarTensor { storage, location, dtype, shape, stride, offset });
    }
    Ok(tensors)
}
