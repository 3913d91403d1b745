//! `copy.deepcopy` for Rust values: through `reduce_ex` and [`Reconstruct`].

use super::Reconstruct;
use crate::error::Result;
use crate::reduce::Reduce;

/// A deep copy made the way Python's `copy.deepcopy` makes one: by the value's reduction at
/// protocol 4, rebuilt by [`Reconstruct`]. Sharing survives: two `Rc`s of one value in `x`
/// are two `Rc`s of one (new) value in the copy.
pub fn deepcopy<T: Reduce + Reconstruct>(x: &T) -> Result<T> {
    let bytes = crate::dumps(x, 4)?;
    crate::loads(&bytes)
}
