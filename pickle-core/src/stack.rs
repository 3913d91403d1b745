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
