//! The pickler's own path for [`Value`]s, taken when no hook can have a say.
//!
//! The general path asks every object for a [`Reduction`](crate::Reduction) and returns it
//! through memory, checks the hooks and dispatches on the reduction; for a `Value` of plain
//! data that is most of the time spent per object (`perf annotate` puts stalls on the moves
//! of the reduction). A `Value` already says what it is, so here its str, list, dict and
//! tuple variants, shared or not, are written by matching on it, with the same container
//! writers, memo and depth accounting as the general path: the bytes and the errors are the
//! same by construction. Every other variant (objects, globals, sets, bytes, big ints,
//! persistent ids, cycles) goes back to the general path.

use super::{Batch, Saver, DICT, LIST};
use crate::error::Result;
use crate::opcode::Opcode;
use crate::ser::memo::{Content, MemoKey};
use crate::value::{PyString, Value};

impl Saver<'_> {
    /// [`Saver::save`] of a `Value`: atoms and unshared strs on the spot, the rest by
    /// [`Saver::save_value_object`].
    #[inline(always)]
    fn save_value(&mut self, value: &Value) -> Result<()> {
        self.out.object_boundary()?;
        match value {
            Value::None => self.out.op(Opcode::None),
            Value::Bool(v) => self.save_bool(*v),
            Value::Int(v) => self.save_int(*v),
            Value::Float(v) => self.save_float(*v),
            Value::Str(s) => return self.save_value_str(s, None),
            // A shared object written before, which data that shares objects mostly holds
            // (a dict's keys), without the call.
            Value::Shared(node) => match self.memo.get_identity(node.id()) {
                Some(index) => return self.write_get(index),
                None => return self.save_value_object(value),
            },
            _ => return self.save_value_object(value),
        }
        Ok(())
    }

    /// [`Saver::save_object`] of a `Value`: a shared node from the memo, or its first
    /// occurrence written with its identity.
    pub(super) fn save_value_object(&mut self, value: &Value) -> Result<()> {
        self.saving_pid = false;
        let (identity, inner) = match value {
            Value::Shared(node) => {
                let id = node.id();
                if let Some(index) = self.memo.get_identity(id) {
                    return self.write_get(index);
                }
                match node.get() {
                    Some(inner) => (Some(id), inner),
                    None => return self.save_object_by_reduction(value),
                }
            }
            _ => (None, value),
        };
        match inner {
            // As the general path: a shared atom is written as it is, and not memoized.
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) => self.save_value(inner),
            Value::Str(_) | Value::List(_) | Value::Dict(_) | Value::Tuple(_) => {
                self.save_value_nested(inner, identity)
            }
            _ => self.save_object_by_reduction(value),
        }
    }

    /// A str, list, dict or tuple that counts against the depth limit, as every object the
    /// general path reduces does.
    fn save_value_nested(&mut self, value: &Value, identity: Option<usize>) -> Result<()> {
        self.within_depth()?;
        self.depth += 1;
        let key = MemoKey { identity, content: None };
        crate::stack::grow_every_few(self.depth, || match value {
            Value::Str(s) => self.save_value_str(s, identity),
            Value::List(items) => self.filled(&LIST, items.len(), key, |s, batch, len| s.save_slice(items, batch, len)),
            Value::Tuple(items) => {
                self.tuple_of(items.len(), key, |s, len| s.save_slice(items, Batch::Each(None), len))
            }
            Value::Dict(pairs) => self.filled(&DICT, pairs.len(), key, |s, batch, len| s.save_slice(pairs, batch, len)),
            _ => unreachable!("save_value_object sends only these"),
        })?;
        self.depth -= 1;
        Ok(())
    }

    /// Writes the `len` elements of `items` (all of them) by `batch`'s rule, each run of
    /// them in one loop with [`Element::save`] inlined into it.
    fn save_slice<T: Element>(&mut self, items: &[T], batch: Batch, len: usize) -> Result<()> {
        let mut rest = items;
        self.save_batches(len, batch, |s, n| {
            let (run, after) = rest.split_at(n);
            for item in run {
                item.save(s)?;
            }
            rest = after;
            Ok(n)
        })
        .map(drop)
    }

    fn save_value_str(&mut self, s: &PyString, identity: Option<usize>) -> Result<()> {
        let utf8 = s.as_surrogatepass_bytes();
        self.save_str(utf8, s.inline_buffer(), MemoKey { identity, content: Content::str_singleton(utf8) })
    }
}

/// An element of a `Value` container: an item, or a dict's pair. A trait rather than a
/// closure, so that writing one is inlined into the loop over a run of them: passed as a
/// closure, it was called per item (a quarter of the time spent on a list of ints).
trait Element {
    fn save(&self, saver: &mut Saver<'_>) -> Result<()>;
}

impl Element for Value {
    #[inline(always)]
    fn save(&self, saver: &mut Saver<'_>) -> Result<()> {
        saver.save_value(self)
    }
}

impl Element for (Value, Value) {
    #[inline(always)]
    fn save(&self, saver: &mut Saver<'_>) -> Result<()> {
        saver.save_value(&self.0)?;
        saver.save_value(&self.1)
    }
}
