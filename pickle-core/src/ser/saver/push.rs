//! The pickler's push path: containers whose items arrive one at a time, as a serde
//! `Serializer` receives them, rather than from a [`Sequence`](crate::Sequence) the pickler
//! iterates. It writes with the same container writers, batching rule ([`Batches`]), memo
//! and depth accounting as the general path, so the bytes are the same by construction.

use super::{check_len, Batch, Batches, Saver, DICT, LIST};
use crate::error::{Error, Result};
use crate::ser::memo::MemoKey;

/// The Python container a push writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    List,
    Dict,
    Tuple,
}

/// A container being written item by item (a dict's key and value are one item).
pub(crate) struct Pushed {
    shape: Shape,
    len: usize,
    /// The batching of its items; `None` when it has none.
    batches: Option<Batches>,
    /// The length of the open run, and how many of its items are still to come.
    run: usize,
    run_left: usize,
}

impl Saver<'_> {
    /// Starts a container of `len` items: what CPython writes before the first.
    pub(crate) fn open(&mut self, shape: Shape, len: usize) -> Result<Pushed> {
        self.within_depth()?;
        self.depth += 1;
        let batch = match shape {
            Shape::Tuple => self.open_tuple(len).then_some(Batch::Each(None)),
            Shape::List => self.open_filled(&LIST, len, MemoKey::default())?,
            Shape::Dict => self.open_filled(&DICT, len, MemoKey::default())?,
        };
        Ok(Pushed { shape, len, batches: batch.map(|b| Batches::new(len, b)), run: 0, run_left: 0 })
    }

    /// Before an item: the MARK of a new batch, if one starts here.
    #[inline]
    pub(crate) fn before_item(&mut self, pushed: &mut Pushed) -> Result<()> {
        if pushed.run_left == 0 {
            let n = pushed.batches.as_mut().map_or(0, |b| b.open_run(&mut self.out));
            if n == 0 {
                return Err(too_many(pushed.len));
            }
            (pushed.run, pushed.run_left) = (n, n);
        }
        Ok(())
    }

    /// After an item: the opcode that closes its batch, if it is the batch's last.
    #[inline]
    pub(crate) fn after_item(&mut self, pushed: &mut Pushed) {
        pushed.run_left -= 1;
        if pushed.run_left == 0 {
            if let Some(batches) = pushed.batches.as_mut() {
                batches.close_run(&mut self.out, pushed.run);
            }
            pushed.run = 0;
        }
    }

    /// Ends the container after its last item, which must be its `len`th.
    pub(crate) fn close(&mut self, pushed: Pushed) -> Result<()> {
        if let Some(batches) = pushed.batches {
            check_len(batches.done + pushed.run - pushed.run_left, pushed.len)?;
            batches.finish(&mut self.out);
            if pushed.shape == Shape::Tuple {
                self.close_tuple(pushed.len, MemoKey::default())?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// The depth of the containers being written.
    #[inline]
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }
}

fn too_many(len: usize) -> Error {
    Error::pickling(format!("container changed size during iteration: expected {len} items, got more"))
}
