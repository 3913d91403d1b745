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

/// A few memo indices by a key of two words, each the latest noted in its slot: a table in
/// front of a map, answering the keys that come again and again with a load and a compare
/// where the map hashes and probes. Empty until the first key is noted.
struct Recent<const N: usize>(Vec<((usize, usize), u64)>);

impl<const N: usize> Recent<N> {
    /// The slot of a key: bits of its first word, an address (aligned or not).
    #[inline]
    fn slot((address, _): (usize, usize)) -> usize {
        (address ^ address >> 6) % N
    }

    #[inline]
    fn get(&self, key: (usize, usize)) -> Option<u64> {
        match self.0.get(Self::slot(key)) {
            Some(&(noted, index)) if noted == key => Some(index),
            _ => None,
        }
    }

    fn note(&mut self, key: (usize, usize), index: u64) {
        if self.0.is_empty() {
            // No key is (0, 0): addresses of live objects and of strs are not null.
            self.0 = vec![((0, 0), 0); N];
        }
        self.0[Self::slot(key)] = (key, index);
    }
}

pub(crate) struct Memo {
    len: u64,
    /// By address: Fx hashing, as addresses are no attacker's choice and SipHash's cost
    /// per lookup is what a value with many shared objects (records' keys) pays most.
    by_identity: FxHashMap<usize, u64>,
    /// The latest entries of `by_identity` (data that shares objects mostly fetches a few of
    /// them over and over, a dict's keys); an entry stays true, as the map's entries are
    /// never removed.
    recent: Recent<256>,
    /// `'static` names by address and length, each with the memo index of its text: a
    /// `'static` str is never freed or changed, so its address says its text. A name whose
    /// slot is taken goes by its text.
    static_names: Recent<64>,
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
            recent: Recent(Vec::new()),
            static_names: Recent(Vec::new()),
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
        match self.recent.get((id, 0)) {
            Some(index) => Some(index),
            None if self.by_identity.is_empty() => None,
            None => self.by_identity.get(&id).copied(),
        }
    }

    /// The memo index of a `'static` name noted with [`Memo::note_static_name`].
    #[inline]
    pub(crate) fn get_static_name(&self, name: &'static str) -> Option<u64> {
        self.static_names.get((name.as_ptr() as usize, name.len()))
    }

    /// Notes the memo index of a `'static` name's text, for [`Memo::get_static_name`].
    pub(crate) fn note_static_name(&mut self, name: &'static str, index: u64) {
        self.static_names.note((name.as_ptr() as usize, name.len()), index);
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
            self.recent.note((id, 0), index);
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
    use super::{Memo, MemoKey};

    const RECENT: usize = 256;

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
