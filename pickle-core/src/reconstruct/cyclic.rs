//! A tree whose children point back at their parent, as Rust holds one: the nodes in
//! `Rc<RefCell<T>>`, the back links `Weak<RefCell<T>>`. Python builds such an object first
//! and sets its state after, so a child's state can name the parent being built; here the
//! parent's `Rc` is made first (with `T::default()`), the children's `Weak`s point at it,
//! and its value is put in once built. A strong cycle (an `Rc` inside itself) would leak and
//! stays an error.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::{Node, Reconstruct, Stream};
use crate::error::Result;

impl<T: Reconstruct + Default + 'static> Reconstruct for Rc<RefCell<T>> {
    fn reconstruct(node: Node<'_>) -> Result<Rc<RefCell<T>>> {
        node.shared_cyclic(|node| T::reconstruct(node))
    }

    /// The general loader builds it: the fast path has no object to point back at.
    fn stream<S: Stream>(_: &mut S) -> Option<Rc<RefCell<T>>> {
        None
    }
}

impl<T: Reconstruct + Default + 'static> Reconstruct for Weak<RefCell<T>> {
    fn reconstruct(node: Node<'_>) -> Result<Weak<RefCell<T>>> {
        match node.being_built::<RefCell<T>>() {
            Some(weak) => Ok(weak),
            None => Rc::<RefCell<T>>::reconstruct(node).map(|rc| Rc::downgrade(&rc)),
        }
    }

    fn stream<S: Stream>(_: &mut S) -> Option<Weak<RefCell<T>>> {
        None
    }
}
