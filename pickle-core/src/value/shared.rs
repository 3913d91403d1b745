//! Identity: [`Shared`] nodes and the [`Cycle`] links that close cycles.

use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock, Weak};

use super::Value;

/// A Python object that is reached more than once.
///
/// Cloning a `Shared` gives another reference to the same object: the pickler writes it
/// once and a memo `GET` for every later reference, as CPython does for `a` in `(a, a)`.
/// The node is written once ([`Shared::new`], or [`Shared::empty`] then [`Shared::set`] to
/// build a cycle) and is immutable afterwards, so values stay `Send + Sync`.
#[derive(Clone)]
pub struct Shared(pub(super) Arc<Node>);

/// A weak reference to a [`Shared`] node, used for the edge that closes a cycle.
///
/// A graph whose cycles are closed by `Cycle` links holds no strong reference cycle, so it
/// is freed when its last outside owner drops it. [`Shared::downgrade`] makes one.
#[derive(Clone)]
pub struct Cycle(Weak<Node>);

pub(super) struct Node {
    pub(super) value: OnceLock<Value>,
}

/// Stands in for a node taken out of a `Shared` while a value is dropped.
pub(super) static EMPTY_NODE: LazyLock<Arc<Node>> = LazyLock::new(|| Arc::new(Node { value: OnceLock::new() }));

impl Shared {
    /// A node holding `value`.
    pub fn new(value: Value) -> Shared {
        Shared(Arc::new(Node { value: OnceLock::from(value) }))
    }

    /// A node whose value is set later, for building cycles: make the node, put
    /// [`downgrade`](Shared::downgrade)d links to it inside its value, then [`set`](Shared::set) it.
    pub fn empty() -> Shared {
        Shared(Arc::new(Node { value: OnceLock::new() }))
    }

    /// Sets the value of a node made with [`Shared::empty`]; gives it back if already set.
    pub fn set(&self, value: Value) -> Result<(), Value> {
        self.0.value.set(value)
    }

    /// The value, unless the node is still empty.
    pub fn get(&self) -> Option<&Value> {
        self.0.value.get()
    }

    /// The value, moved out, if this is the node's last reference (`Ok(None)` for an empty
    /// node); the node back otherwise.
    pub(crate) fn into_value(self) -> Result<Option<Value>, Shared> {
        Arc::try_unwrap(self.0).map(|node| node.value.into_inner()).map_err(Shared)
    }

    /// A weak link to this node, for the reference that closes a cycle.
    pub fn downgrade(&self) -> Cycle {
        Cycle(Arc::downgrade(&self.0))
    }

    /// Whether both are the same object.
    pub fn ptr_eq(&self, other: &Shared) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A number that identifies the object while it is alive, as Python's `id()`.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl Cycle {
    /// The node, if something still owns it.
    pub fn upgrade(&self) -> Option<Shared> {
        self.0.upgrade().map(Shared)
    }

    /// The [`Shared::id`] of the node it points to.
    pub fn id(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shared({:#x})", self.id())
    }
}

impl fmt::Debug for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cycle({:#x})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_containing_list_is_freed() {
        let node = Shared::empty();
        node.set(Value::List(vec![Value::Cycle(node.downgrade())])).unwrap();
        let weak = node.downgrade();
        let root = Value::Shared(node);
        assert!(weak.upgrade().is_some());
        drop(root);
        assert!(weak.upgrade().is_none(), "the cycle leaked");
    }

    #[test]
    fn set_twice_is_refused() {
        let node = Shared::new(Value::None);
        assert!(node.set(Value::Bool(true)).is_err());
    }
}
