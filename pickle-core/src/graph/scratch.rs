//! Buffers kept between loads on one thread: the arena, the offsets, the memo and the stack
//! of a finished load are emptied and handed to the next one, so that decoding many
//! pickles does not ask the operating system for fresh pages (and fault them in) each time.
//! Buffers larger than [`KEEP_BYTES`] are freed as usual.

use std::cell::RefCell;

use super::{Item, Obj};

/// The largest buffer kept for the next load.
const KEEP_BYTES: usize = 32 << 20;

/// One kind of buffer the pool keeps.
pub(crate) trait Pooled: Sized + 'static {
    fn slot(pool: &mut Pool) -> &mut Vec<Self>;
}

#[derive(Default)]
pub(crate) struct Pool {
    objs: Vec<Obj>,
    offsets: Vec<u64>,
    items: Vec<Item>,
    memo: Vec<Option<Item>>,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::default();
}

impl Pooled for Obj {
    fn slot(pool: &mut Pool) -> &mut Vec<Obj> {
        &mut pool.objs
    }
}

impl Pooled for u64 {
    fn slot(pool: &mut Pool) -> &mut Vec<u64> {
        &mut pool.offsets
    }
}

impl Pooled for Item {
    fn slot(pool: &mut Pool) -> &mut Vec<Item> {
        &mut pool.items
    }
}

impl Pooled for Option<Item> {
    fn slot(pool: &mut Pool) -> &mut Vec<Option<Item>> {
        &mut pool.memo
    }
}

/// An empty buffer, with the capacity a previous load left.
pub(crate) fn take<T: Pooled>() -> Vec<T> {
    POOL.try_with(|pool| std::mem::take(T::slot(&mut pool.borrow_mut()))).unwrap_or_default()
}

/// Empties `buffer` and keeps it for the next load, unless it is too large or the pool
/// already holds a larger one.
pub(crate) fn give<T: Pooled>(mut buffer: Vec<T>) {
    if buffer.capacity() == 0 || buffer.capacity() * std::mem::size_of::<T>() > KEEP_BYTES {
        return;
    }
    buffer.clear();
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let slot = T::slot(&mut pool);
        if slot.capacity() < buffer.capacity() {
            *slot = buffer;
        }
    });
}
