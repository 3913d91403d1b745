//! The persistent id torch writes for a storage, `('storage', storage_type, key, location,
//! numel)` (the legacy format adds a sixth item, `view_metadata`), read and checked.
//!
//! The unpickler's `persistent_load` hook parses every id as it is read, so a malformed one is
//! an error at its BINPERSID; the id itself stays in the [`Value`] tree as a
//! [`Value::PersistentId`], and the tensor rebuild parses it again (it is small) to find the
//! storage.

use crate::Value;

use super::dtype::StorageKind;

/// A storage persistent id, parsed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StorageId {
    /// The storage class, which gives the element `numel` counts.
    pub(crate) kind: StorageKind,
    /// The record key: `data/<key>` in a ZIP, an entry of the legacy key list.
    pub(crate) key: String,
    /// The device it was saved from.
    pub(crate) location: String,
    /// Its length in elements of `kind`.
    pub(crate) numel: u64,
}

impl StorageId {
    /// Its length in bytes, `None` when that overflows.
    pub(crate) fn nbytes(&self) -> Option<u64> {
        self.numel.checked_mul(self.kind.element().element_size() as u64)
    }
}

/// Whether `pid` is tagged as a storage (`'storage'` or `b'storage'` first): the only
/// persistent id the weights-only policy loads.
pub(crate) fn is_storage_id(pid: &Value) -> bool {
    pid.as_tuple().and_then(|items| items.first()).is_some_and(|tag| ascii(tag).as_deref() == Some("storage"))
}

/// Parses a storage persistent id; the message says what is wrong with it.
pub(crate) fn parse(pid: &Value) -> Result<StorageId, String> {
    let items = pid.as_tuple().ok_or_else(|| format!("a persistent id that is a {}, not a tuple", pid.type_name()))?;
    if !is_storage_id(pid) {
        return Err("a persistent id that is not a storage".into());
    }
    let (storage_type, key, location, numel) = match items {
        [_, t, k, l, n] => (t, k, l, n),
        [_, t, k, l, n, view] if view.is_none() => (t, k, l, n),
        [_, _, _, _, _, _] => return Err("a legacy storage view (view_metadata), which is not read yet".into()),
        _ => return Err(format!("a storage persistent id of {} items, not 5", items.len())),
    };
    let class = storage_type.as_global().ok_or("a storage type that is not a global")?;
    let kind = StorageKind::from_global(&class.module, &class.name).map_err(|e| e.to_string())?;
    let key = ascii(key).ok_or("a storage key that is not a str")?;
    let location = ascii(location).ok_or("a storage location that is not a str")?;
    let numel = numel.as_i64().and_then(|n| u64::try_from(n).ok()).ok_or("a storage numel that is not an int >= 0")?;
    let id = StorageId { kind, key, location, numel };
    id.nbytes().ok_or("a storage size that overflows")?;
    Ok(id)
}

/// A str, or bytes decoded as ASCII (torch's `_maybe_decode_ascii`); an int key (legacy
/// files written by Python 2) as its digits.
pub(crate) fn ascii(value: &Value) -> Option<String> {
    if let Some(s) = value.as_str() {
        return Some(s.to_owned());
    }
    if let Some(b) = value.as_bytes() {
        return b.is_ascii().then(|| String::from_utf8_lossy(b).into_owned());
    }
    value.as_i64().map(|n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torch::DType;

    fn id(items: Vec<Value>) -> Value {
        Value::Tuple(items)
    }

    #[test]
    fn parses_what_torch_writes() {
        let pid =
            id(vec!["storage".into(), Value::global("torch", "FloatStorage"), "0".into(), "cpu".into(), 6.into()]);
        let parsed = parse(&pid).unwrap();
        assert_eq!(parsed.kind, StorageKind::Typed(DType::Float32));
        assert_eq!((parsed.key.as_str(), parsed.numel, parsed.nbytes()), ("0", 6, Some(24)));
    }

    #[test]
    fn refuses_malformed_ids() {
        let float = || Value::global("torch", "FloatStorage");
        assert!(parse(&Value::from("storage")).is_err());
        assert!(parse(&id(vec!["module".into(), float(), "0".into(), "cpu".into(), 1.into()])).is_err());
        assert!(parse(&id(vec!["storage".into(), float(), "0".into(), "cpu".into(), (-1).into()])).is_err());
        assert!(parse(&id(vec!["storage".into(), float(), "0".into(), "cpu".into(), i64::MAX.into()])).is_err());
        assert!(parse(&id(vec!["storage".into(), Value::global("os", "system"), "0".into(), "cpu".into(), 1.into()]))
            .is_err());
    }
}
