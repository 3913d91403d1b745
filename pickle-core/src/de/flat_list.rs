//! The fast path of `loads` into a `Vec` of numbers or strs: the items of a pickled list
//! read straight into the `Vec`, with no object graph or [`Value`](crate::Value) on the way.
//!
//! What `pickle.dumps([...], protocol)` writes for a list of ints, floats, bools, `None`
//! or strs at protocols 1 to 5 is EMPTY_LIST, then batches of MARK, items, APPENDS (a
//! batch of one is the item and APPEND), every str and the list itself memoized. Each item
//! becomes a `T` as it is read, by [`Reconstruct::from_atom`] or [`Reconstruct::from_text`],
//! which agree with `T::reconstruct` by contract.
//!
//! Like the direct path to a `Value` (`direct`), this gives up on anything else and the
//! general loader, which decides every case, reads the pickle from its start: another
//! opcode or shape, a GET (the list would hold an object twice, or itself), a str that is
//! not UTF-8, an item `T` does not take or takes with an error, a limit reached. So both
//! give one answer, and an error keeps the offset the general loader gives it.

use super::args::{self, Budget};
use super::load::{OBJECT_CHARGE, SLOT_CHARGE};
use super::UnpicklerOptions;
use crate::opcode::Opcode;
use crate::reconstruct::Reconstruct;
use crate::reduce::Atom;

/// Decodes the pickle at the start of `data` as a list of `T`: the items and the length
/// of the pickle, or `None` where the general loader must decide.
pub(crate) fn load<T: Reconstruct>(data: &[u8], options: &UnpicklerOptions) -> Option<(Vec<T>, usize)> {
    let mut list = FlatList {
        data,
        pos: 0,
        budget: Budget::new(options.max_alloc),
        items: Vec::new(),
        made: false,
        mark: None,
        loose: 0,
        memo_len: 0,
    };
    list.run(options)?;
    Some((list.items, list.pos))
}

/// Where the pickle is: the list made or not, and the items above it on the stack.
struct FlatList<'a, T> {
    data: &'a [u8],
    pos: usize,
    budget: Budget,
    /// The list's items so far, including those of the open batch.
    items: Vec<T>,
    /// Whether EMPTY_LIST came.
    made: bool,
    /// Where the open batch (after a MARK) starts in `items`.
    mark: Option<usize>,
    /// Items outside a batch, which APPEND takes: 0 or 1.
    loose: usize,
    /// Entries put in the memo, as CPython's `memo_len`.
    memo_len: usize,
}

impl<T: Reconstruct> FlatList<'_, T> {
    fn run(&mut self, options: &UnpicklerOptions) -> Option<()> {
        loop {
            let code = *self.data.get(self.pos)?;
            self.pos += 1;
            if let Some((int, length)) = self.small_int(code) {
                self.pos += length;
                self.atom(Atom::Int(int))?;
                continue;
            }
            match Opcode::from_byte(code)? {
                Opcode::Binfloat => {
                    let float = f64::from_be_bytes(*self.take(8)?.first_chunk()?);
                    self.atom(Atom::Float(float))?;
                }
                Opcode::None => self.atom(Atom::None)?,
                Opcode::Newtrue => self.atom(Atom::Bool(true))?,
                Opcode::Newfalse => self.atom(Atom::Bool(false))?,
                Opcode::ShortBinunicode => self.text(1)?,
                Opcode::Binunicode => self.text(4)?,
                Opcode::Binunicode8 => self.text(8)?,
                Opcode::Memoize => self.put(options, 0)?,
                Opcode::Binput => self.put(options, 1)?,
                Opcode::LongBinput => self.put(options, 4)?,
                Opcode::EmptyList if !self.made => {
                    self.made = true;
                    self.charge(OBJECT_CHARGE)?;
                }
                Opcode::Mark if self.made && self.mark.is_none() && self.loose == 0 => {
                    self.mark = Some(self.items.len());
                }
                Opcode::Appends => {
                    let start = self.mark.take()?;
                    self.charge(SLOT_CHARGE * (self.items.len() - start) as u64)?;
                }
                Opcode::Append if self.loose == 1 => {
                    self.loose = 0;
                    self.charge(SLOT_CHARGE)?;
                }
                Opcode::Proto => {
                    if *self.take(1)?.first()? > crate::HIGHEST_PROTOCOL {
                        return None;
                    }
                }
                Opcode::Frame => {
                    let length = self.length(8)?;
                    if length > self.data.len() - self.pos {
                        return None;
                    }
                }
                Opcode::Stop => {
                    let nested = !self.items.is_empty();
                    let done = self.made && self.mark.is_none() && self.loose == 0;
                    return (done && (!nested || options.max_depth >= 1)).then_some(());
                }
                _ => return None,
            }
        }
    }

    /// [`args::small_int`], also in the last bytes of the data, where its window is short.
    #[inline(always)]
    fn small_int(&self, code: u8) -> Option<(i64, usize)> {
        let rest = &self.data[self.pos..];
        if rest.len() >= 9 {
            return args::small_int(code, rest);
        }
        let mut padded = [0; 9];
        padded[..rest.len()].copy_from_slice(rest);
        args::small_int(code, &padded).filter(|&(_, length)| length <= rest.len())
    }

    /// The next `n` bytes.
    #[inline(always)]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let bytes = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    /// A little-endian length of `width` bytes.
    #[inline(always)]
    fn length(&mut self, width: usize) -> Option<usize> {
        let bytes = self.take(width)?;
        let length = bytes.iter().rev().fold(0u64, |n, &b| n << 8 | u64::from(b));
        usize::try_from(length).ok()
    }

    fn charge(&mut self, bytes: u64) -> Option<()> {
        self.budget.charge(bytes).ok()
    }

    /// An item is pushed: in the open batch, or as the one APPEND takes.
    #[inline(always)]
    fn push(&mut self, item: T) -> Option<()> {
        if !self.made || (self.mark.is_none() && self.loose == 1) {
            return None;
        }
        self.loose += usize::from(self.mark.is_none());
        self.items.push(item);
        Some(())
    }

    #[inline(always)]
    fn atom(&mut self, atom: Atom) -> Option<()> {
        let item = T::from_atom(atom)?.ok()?;
        self.push(item)
    }

    /// SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, whose length has `width` bytes.
    #[inline(always)]
    fn text(&mut self, width: usize) -> Option<()> {
        let length = self.length(width)?;
        self.charge(OBJECT_CHARGE.saturating_add(length as u64))?;
        let text = crate::value::utf8(self.take(length)?).ok()?;
        let item = T::from_text(text)?.ok()?;
        self.push(item)
    }

    /// MEMOIZE, BINPUT, LONG_BINPUT, whose index has `width` bytes: the memo is never read
    /// here (a GET gives up), so only its size counts.
    #[inline(always)]
    fn put(&mut self, options: &UnpicklerOptions, width: usize) -> Option<()> {
        self.take(width)?;
        self.memo_len += 1;
        let has_top = match self.mark {
            Some(start) => self.items.len() > start,
            None => self.made,
        };
        (has_top && self.memo_len <= options.max_memo).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::load;
    use crate::{dumps, UnpicklerOptions, Value};

    fn floats(bytes: &[u8]) -> Option<Vec<f64>> {
        load::<f64>(bytes, &UnpicklerOptions::default()).map(|(items, _)| items)
    }

    /// What CPython 3.11 writes for lists of atoms and strs, which this path decodes.
    #[test]
    fn takes_cpython_lists() {
        // pickle.dumps([1.5, 2], 2): a batch of two.
        assert_eq!(floats(b"\x80\x02]q\x00(G?\xf8\x00\x00\x00\x00\x00\x00K\x02e."), Some(vec![1.5, 2.0]));
        // pickle.dumps([1.5], 4): a batch of one is the item and APPEND.
        let one = b"\x80\x04\x95\r\x00\x00\x00\x00\x00\x00\x00]\x94G?\xf8\x00\x00\x00\x00\x00\x00a.";
        assert_eq!(floats(one), Some(vec![1.5]));
        // pickle.dumps(['a', 'é'], 4)
        let strs = b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94\x8c\x02\xc3\xa9\x94e.";
        let (items, length) = load::<String>(strs, &UnpicklerOptions::default()).unwrap();
        assert_eq!((items, length), (vec!["a".to_owned(), "é".to_owned()], strs.len()));
        assert_eq!(floats(b"\x80\x02]q\x00."), Some(vec![]));
    }

    #[test]
    fn gives_up_where_the_general_loader_decides() {
        // pickle.dumps([s, s], 2) with s = 'ab': a GET.
        assert!(
            load::<String>(b"\x80\x02]q\x00(X\x02\x00\x00\x00abq\x01h\x01e.", &UnpicklerOptions::default()).is_none()
        );
        // A tuple, a nested list, an item T does not take, an int out of range, two loose
        // items, a memo put with nothing above the MARK, a lone surrogate, a truncated pickle.
        assert!(floats(b"\x80\x02G?\xf8\x00\x00\x00\x00\x00\x00\x85.").is_none());
        assert!(floats(b"\x80\x02](]e.").is_none());
        assert!(floats(b"\x80\x02](X\x01\x00\x00\x00ae.").is_none());
        assert!(load::<u8>(b"\x80\x02](M\x00\x01e.", &UnpicklerOptions::default()).is_none());
        assert!(floats(b"\x80\x02]K\x01K\x02a.").is_none());
        assert!(floats(b"\x80\x02](q\x00e.").is_none());
        assert!(load::<String>(b"\x80\x02](X\x03\x00\x00\x00\xed\xa0\x80e.", &UnpicklerOptions::default()).is_none());
        assert!(floats(b"\x80\x02](K\x01e").is_none());
        let many = dumps(&Value::List((0..100).map(Value::Int).collect()), 4).unwrap();
        assert_eq!(floats(&many).map(|f| f.len()), Some(100));
        let options = UnpicklerOptions { max_alloc: 1000, ..UnpicklerOptions::default() };
        assert!(load::<f64>(&many, &options).is_none());
    }
}
