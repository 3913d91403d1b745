//! `bytes::Bytes` as Python `bytes` (feature `bytes`): the buffer type of the tokio and
//! hyper world, pickled and loaded without a detour through `Vec<u8>`.

use ::bytes::Bytes;

use crate::reconstruct::Stream;
use crate::reduce::Builtin;
use crate::{Node, Reconstruct, Reduce, Reduction, Result};

/// Exact `bytes`, which CPython writes without a look at its dispatch table: so no `as_any`.
impl Reduce for Bytes {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::Bytes(self)))
    }
}

/// From `bytes`, and from a `bytearray` as [`ByteArray`](crate::ByteArray) also loads it.
impl Reconstruct for Bytes {
    fn reconstruct(node: Node<'_>) -> Result<Bytes> {
        node.as_bytes()
            .or_else(|| node.as_bytearray())
            .map(Bytes::copy_from_slice)
            .ok_or_else(|| node.mismatch("bytes"))
    }

    /// `bytes` (a `bytearray` is the general loader's).
    fn stream<S: Stream>(stream: &mut S) -> Option<Bytes> {
        stream.bytes_with(|payload| Some(Bytes::copy_from_slice(payload)))
    }
}
