//! The pickler's memo: which objects were written, and at which memo index.
//!
//! CPython memoizes by object identity. Rust values have identity only where they are
//! shared (`Rc`, `Arc`, [`Shared`](crate::Shared)), so the memo keeps those by address, and
//! reproduces CPython's other sharing by content: the strings and bytes CPython keeps as
//! singletons (empty, and one character below U+0100 or one byte), interned names (modules,
//! qualnames, attribute names) and globals.

use rustc_hash::FxHashMap;

/// Marks an unused slot of the singleton tables.
const NONE: u32 = u32::MAX;

/// How an object is known to the memo; an object may be known both ways.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MemoKey<'a> {
    /// The address of a shared object (`Rc`, `Arc`, `Shared`).
    pub(crate) identity: Option<usize>,
    /// What a CPython singleton or interned object is known by.
    pub(crate) content: Option<Content<'a>>,
}

/// Objects CPython shares by value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Content<'a> {
    /// A str of one character below U+0100 (its code), or the empty str (256).
    StrSingleton(u16),
    /// A bytes of one byte (its value), or the empty bytes (256).
    BytesSingleton(u16),
    /// An interned str longer than a singleton.
    Name(&'a str),
    /// A global, by module and qualname.
    Global(&'a str, &'a str),
}

impl<'a> Content<'a> {
    /// The singleton key of a str given by its UTF-8 bytes, if CPython shares it.
    pub(crate) fn str_singleton(utf8: &[u8]) -> Option<Content<'a>> {
        match *utf8 {
            [] => Some(Content::StrSingleton(256)),
            [b] if b < 0x80 => Some(Content::StrSingleton(b as u16)),
            [b0 @ (0xC2 | 0xC3), b1] => Some(Content::StrSingleton((((b0 & 0x1F) as u16) << 6) | (b1 & 0x3F) as u16)),
            _ => None,
        }
    }

    /// The key of an interned name: its singleton key when it is one.
    pub(crate) fn name(name: &'a str) -> Content<'a> {
        Content::str_singleton(name.as_bytes()).unwrap_or(Content::Name(name))
    }

    /// The singleton key of bytes, if CPython shares them.
    pub(crate) fn bytes_singleton(bytes: &[u8]) -> Option<Content<'a>> {
        match *bytes {
            [] => Some(Content::BytesSingleton(256)),
            [b] => Some(Content::BytesSingleton(b as u16)),
            _ => None,
        }
    }
}

/// The entries of [`Memo::recent`].
const RECENT: usize = 256;

/// The slot of an address in [`Memo::recent`]: bits above the alignment of an allocation.
#[inline]
fn recent_slot(id: usize) -> usize {
    (id >> 4) % RECENT
}

/// The slots of [`Memo::static_names`].
const STATIC_NAMES: usize = 64;

/// The slot of a `'static` name's address (string literals are not aligned).
#[inline]
fn static_name_slot(address: usize) -> usize {
    (address ^ address >> 6) % STATIC_NAMES
}

pub(crate) struct Memo {
    len: u64,
    /// By address: Fx hashing, as addresses are no attacker's choice and SipHash's cost
    /// per lookup is what a value with many shared objects (records' keys) pays most.
    by_identity: FxHashMap<usize, u64>,
    /// The latest entry of `by_identity` for each few bits of an address: data that shares
    /// objects mostly fetches a few of them over and over (a dict's keys), and finding one
    /// here is a load and a compare where the map hashes and probes. An entry stays true,
    /// as the map's entries are never removed. Empty until the first object with identity.
    recent: Vec<(usize, u64)>,
    /// `'static` names by address and length, each with the memo index of its text: a
    /// `'static` str is never freed or changed, so its address says its text. A few slots,
    /// filled on first use; a name whose slot is taken goes by its text.
    static_names: Vec<(usize, usize, u64)>,
    str_singletons: Box<[u32; 257]>,
    bytes_singletons: Box<[u32; 257]>,
    names: FxHashMap<Box<str>, u64>,
    globals: FxHashMap<Box<str>, FxHashMap<Box<str>, u64>>,
}

impl Memo {
    pub(crate) fn new() -> Memo {
        Memo {
            len: 0,
            by_identity: FxHashMap::default(),
            recent: Vec::new(),
            static_names: Vec::new(),
            str_singletons: Box::new([NONE; 257]),
            bytes_singletons: Box::new([NONE; 257]),
            names: FxHashMap::default(),
            globals: FxHashMap::default(),
        }
    }

    /// The memo index of an object, if it was written.
    #[inline]
    pub(crate) fn get(&self, key: &MemoKey<'_>) -> Option<u64> {
        if let Some(index) = key.identity.and_then(|id| self.get_identity(id)) {
            return Some(index);
        }
        match key.content? {
            Content::StrSingleton(i) => Some(self.str_singletons[i as usize]).filter(|i| *i != NONE).map(u64::from),
            Content::BytesSingleton(i) => Some(self.bytes_singletons[i as usize]).filter(|i| *i != NONE).map(u64::from),
            Content::Name(name) => self.names.get(name).copied(),
            Content::Global(module, name) => self.globals.get(module)?.get(name).copied(),
        }
    }

    /// The memo index of an object with identity only.
    #[inline]
    pub(crate) fn get_identity(&self, id: usize) -> Option<u64> {
        match self.recent.get(recent_slot(id)) {
            Some(&(recent, index)) if recent == id => Some(index),
            _ if self.by_identity.is_empty() => None,
            _ => self.by_identity.get(&id).copied(),
        }
    }

    /// The memo index of a `'static` name noted with [`Memo::note_static_name`].
    #[inline]
    pub(crate) fn get_static_name(&self, name: &'static str) -> Option<u64> {
        let (address, len) = (name.as_ptr() as usize, name.len());
        match self.static_names.get(static_name_slot(address)) {
            Some(&(a, l, index)) if a == address && l == len => Some(index),
            _ => None,
        }
    }

    /// Notes the memo index of a `'static` name's text, for [`Memo::get_static_name`].
    pub(crate) fn note_static_name(&mut self, name: &'static str, index: u64) {
        if self.static_names.is_empty() {
            self.static_names = vec![(0, 0, 0); STATIC_NAMES];
        }
        let address = name.as_ptr() as usize;
        self.static_names[static_name_slot(address)] = (address, name.len(), index);
    }

    /// Records the next memo index for the object and returns it. Most objects are known
    /// neither way (an unshared str, list or dict): then that is only a count, inlined.
    #[inline]
    pub(crate) fn put(&mut self, key: &MemoKey<'_>) -> u64 {
        let index = self.len;
        self.len += 1;
        if key.identity.is_some() || key.content.is_some() {
            self.record(key, index);
        }
        index
    }

    /// Records an object known by identity or content at `index`.
    fn record(&mut self, key: &MemoKey<'_>, index: u64) {
        if let Some(id) = key.identity {
            self.by_identity.insert(id, index);
            if self.recent.is_empty() {
                self.recent = vec![(0, 0); RECENT];
            }
            self.recent[recent_slot(id)] = (id, index);
        }
        let small = u32::try_from(index).unwrap_or(NONE);
        match key.content {
            None => {}
            Some(Content::StrSingleton(i)) => self.str_singletons[i as usize] = small,
            Some(Content::BytesSingleton(i)) => self.bytes_singletons[i as usize] = small,
            Some(Content::Name(name)) => {
                self.names.insert(name.into(), index);
            }
            Some(Content::Global(module, name)) => {
                self.globals.entry(module.into()).or_default().insert(name.into(), index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Memo, MemoKey, RECENT};

    /// Identities that share slots of the recent entries, put and then fetched in several
    /// orders, are found at their own indices; others are not found.
    #[test]
    fn identities_that_share_recent_slots_keep_their_indices() {
        let mut memo = Memo::new();
        let ids: Vec<usize> = (1..=4 * RECENT).map(|i| i * 16).collect();
        for (index, &id) in ids.iter().enumerate() {
            assert_eq!(memo.get_identity(id), None);
            assert_eq!(memo.put(&MemoKey { identity: Some(id), content: None }), index as u64);
        }
        for (index, &id) in ids.iter().enumerate().rev().chain(ids.iter().enumerate()) {
            assert_eq!(memo.get_identity(id), Some(index as u64));
        }
        assert_eq!(memo.get_identity(8), None);
        assert_eq!(memo.get_identity(16 * (4 * RECENT + 1)), None);
    }
}
