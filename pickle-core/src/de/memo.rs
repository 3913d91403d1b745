//! The memo: CPython's dict from memo index to object, one type for every decoding path.
//!
//! The general loader keeps every entry put (an arena item). A path that knows which
//! indices a later GET fetches (from the prescan) keeps only those, each at its place
//! among them: most entries CPython puts are never fetched. Either way the memo counts
//! every entry put, as CPython's `memo_len`, which MEMOIZE puts at and `max_memo` limits.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};

/// The bits of a prescan's slot that number its place among the fetched indices (plus one);
/// the prescan marks the others.
pub(crate) const PLACE: u32 = (1 << 30) - 1;

/// Memo indices up to this far past the end extend the dense table; others go to a map,
/// so a `LONG_BINPUT 4000000000` does not allocate a huge table.
const DENSE_SLACK: u64 = 1024;

pub(crate) struct Memo<T> {
    /// Entries by index, or by place among the fetched indices.
    dense: Vec<Option<T>>,
    /// Indices far past the end of `dense` (keeping every entry).
    sparse: HashMap<u64, T>,
    /// Entries put, kept or not: CPython's `memo_len`.
    len: u64,
    /// Keeping only fetched entries: each index's slot from the prescan ([`PLACE`] bits:
    /// its place plus one, 0 for an index nobody fetches).
    places: Option<Vec<u32>>,
}

impl<T> Memo<T> {
    /// A memo that keeps every entry.
    pub(crate) fn new() -> Memo<T> {
        Memo { dense: Vec::new(), sparse: HashMap::new(), len: 0, places: None }
    }

    /// A memo that keeps only the entries of the `fetched` indices `slots` give places to
    /// (none, for no slots).
    pub(crate) fn fetched_only(slots: Vec<u32>, fetched: usize) -> Memo<T> {
        let mut dense = Vec::with_capacity(fetched);
        dense.resize_with(fetched, || None);
        Memo { dense, sparse: HashMap::new(), len: 0, places: Some(slots) }
    }

    /// From now on, keeps only the entries of the indices `slots` give places to; the
    /// entries put so far were not fetched by any of them.
    pub(crate) fn learn(&mut self, slots: Vec<u32>, fetched: usize) {
        *self = Memo { len: self.len, ..Memo::fetched_only(slots, fetched) };
    }

    /// Entries put so far, kept or not.
    #[inline]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Counts a put at `index` (as CPython's dict counts: an index put again is not a new
    /// entry) and gives the key its entry goes at, if this memo keeps it ([`Memo::fill`]).
    /// Fails past `max` entries.
    #[inline(always)]
    pub(crate) fn put_at(&mut self, index: u64, max: usize) -> Result<Option<u64>> {
        let key = match &self.places {
            None => {
                if self.get(index).is_some() {
                    return Ok(Some(index));
                }
                Some(index)
            }
            // The prescan refuses an index put twice.
            Some(slots) => place(slots, index).map(|place| place as u64),
        };
        self.count(max)?;
        Ok(key)
    }

    fn count(&mut self, max: usize) -> Result<()> {
        self.len += 1;
        if self.len > max as u64 {
            return Err(Error::new(ErrorKind::LimitExceeded { what: "memo entries", limit: max as u64 }));
        }
        Ok(())
    }

    /// Keeps `value` at the key [`Memo::put_at`] gave.
    #[inline]
    pub(crate) fn fill(&mut self, key: u64, value: T) {
        match self.places {
            None => {
                self.insert(key, value);
            }
            Some(_) => self.dense[key as usize] = Some(value),
        }
    }

    /// Puts `value` at `index` in a memo that keeps every entry, replacing any entry there
    /// (which is not counted again).
    #[inline]
    pub(crate) fn put(&mut self, index: u64, value: T, max: usize) -> Result<()> {
        debug_assert!(self.places.is_none(), "a memo of fetched entries is filled by place");
        if self.insert(index, value) {
            self.count(max)?;
        }
        Ok(())
    }

    /// Inserts by index (every entry kept): whether the index is new.
    #[inline]
    fn insert(&mut self, index: u64, value: T) -> bool {
        // Pickles put index after index.
        if index == self.dense.len() as u64 && self.sparse.is_empty() {
            self.dense.push(Some(value));
            return true;
        }
        if index < self.dense.len() as u64 {
            self.dense[index as usize].replace(value).is_none()
        } else if index < self.dense.len() as u64 + DENSE_SLACK && self.sparse.is_empty() {
            self.dense.resize_with(index as usize, || None);
            self.dense.push(Some(value));
            true
        } else {
            self.sparse.insert(index, value).is_none()
        }
    }

    /// The entry of `index`.
    #[inline(always)]
    pub(crate) fn get(&self, index: u64) -> Option<&T> {
        match &self.places {
            None => match self.dense.get(index as usize) {
                Some(slot) => slot.as_ref(),
                None if self.sparse.is_empty() => None,
                None => self.sparse.get(&index),
            },
            Some(slots) => self.dense.get(place(slots, index)?)?.as_ref(),
        }
    }

    /// The kept entries, by memo index, taken out.
    pub(crate) fn take_entries(&mut self) -> Vec<(u64, T)> {
        let mut entries = Vec::new();
        match &self.places {
            None => {
                let dense = self.dense.iter_mut().enumerate();
                entries.extend(dense.filter_map(|(index, slot)| Some((index as u64, slot.take()?))));
                entries.extend(self.sparse.drain());
            }
            Some(slots) => {
                for index in 0..slots.len() as u64 {
                    if let Some(value) = place(slots, index).and_then(|place| self.dense[place].take()) {
                        entries.push((index, value));
                    }
                }
            }
        }
        entries
    }

    /// A memo keeping every entry in `table` (emptied: one an earlier load left, reused).
    pub(crate) fn with_table(mut table: Vec<Option<T>>) -> Memo<T> {
        table.clear();
        Memo { dense: table, ..Memo::new() }
    }

    /// A memo keeping every entry in `table`, holding `entries` of the `len` put so far.
    pub(crate) fn resumed(table: Vec<Option<T>>, entries: Vec<(u64, T)>, len: u64) -> Memo<T> {
        let mut memo = Memo::with_table(table);
        for (index, value) in entries {
            memo.put(index, value, usize::MAX).expect("no limit");
        }
        memo.len = len;
        memo
    }

    /// The table, for a later load to reuse.
    pub(crate) fn take_table(&mut self) -> Vec<Option<T>> {
        std::mem::take(&mut self.dense)
    }
}

/// Where the entry of `index` is kept among the fetched ones, by the prescan's `slots`.
#[inline(always)]
fn place(slots: &[u32], index: u64) -> Option<usize> {
    let slot = *slots.get(usize::try_from(index).ok()?)? & PLACE;
    (slot as usize).checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_of_fetched_entries_keeps_them_at_their_places() {
        // Indices 0 and 2 fetched (places 1 and 0), 1 not.
        let mut memo = Memo::fetched_only(vec![2, 0, 1], 2);
        assert_eq!(memo.put_at(0, 10).unwrap(), Some(1));
        memo.fill(1, "zero");
        assert_eq!(memo.put_at(1, 10).unwrap(), None);
        assert_eq!(memo.put_at(2, 10).unwrap(), Some(0));
        memo.fill(0, "two");
        assert_eq!((memo.get(0), memo.get(1), memo.get(2), memo.len()), (Some(&"zero"), None, Some(&"two"), 3));
        assert_eq!(memo.take_entries(), vec![(0, "zero"), (2, "two")]);
        assert!(memo.put_at(7, 3).is_err(), "a fourth entry past a limit of 3");
    }

    #[test]
    fn a_memo_of_every_entry_goes_sparse_far_out() {
        let mut memo = Memo::new();
        memo.put(3, 'a', 10).unwrap();
        memo.put(4_000_000_000, 'b', 10).unwrap();
        memo.put(3, 'c', 10).unwrap();
        assert_eq!((memo.get(3), memo.get(4_000_000_000), memo.len()), (Some(&'c'), Some(&'b'), 2));
        let mut entries = memo.take_entries();
        entries.sort();
        assert_eq!(entries, vec![(3, 'c'), (4_000_000_000, 'b')]);
    }
}
