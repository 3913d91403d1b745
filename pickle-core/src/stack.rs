//! Recursion over input nested as deeply as the limits allow (10,000 levels by default),
//! in the pickler, the typed loaders and `deepcopy`: each level that may nest further runs
//! through [`grow`], which continues on a new stack segment when the native stack runs low.

/// When less native stack than this is left, the recursion continues on a new segment.
const RED_ZONE: usize = 128 * 1024;
/// The size of each stack segment `stacker` adds.
const SEGMENT: usize = 4 * 1024 * 1024;

/// Runs `f`, on a new stack segment if little native stack is left.
#[inline]
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// How many levels of a recursion with small frames may run between two checks.
const STRIDE: usize = 8;

/// [`grow`] at every [`STRIDE`]th `depth` only, for a recursion whose levels take little
/// stack: the pickler's own path for `Value`s takes 660 bytes a level in a release build
/// and 3 KB in a debug one (measured with `stacker::remaining_stack` on 100,000 nested
/// lists), at most 24 KB a stride, a fifth of the red zone. A check reads a thread-local,
/// 2.5% of writing small dicts.
#[inline]
pub(crate) fn grow_every_few<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    if depth % STRIDE == 0 {
        grow(f)
    } else {
        f()
    }
}
