//! Pickling a tree whose children point back at their parent, as Rust holds one: nodes in
//! `Rc<RefCell<T>>`, back links `Weak<RefCell<T>>`. A `Weak` is the object its `Rc` is (the
//! same identity), so the parent, memoized when it was made and before its state, is a memo
//! GET in its child's state, as CPython writes it.

use std::cell::{Ref, RefCell};
use std::rc::Weak;

use super::{Builtin, GlobalName, Reduce, Reduction};
use crate::error::{Error, Result};

/// A borrowed `RefCell`'s value, kept borrowed while it is written.
struct Borrowed<'a, T>(Ref<'a, T>);

impl<T: Reduce> Reduce for Borrowed<'_, T> {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        self.0.reduce_ex(protocol)
    }
}

/// The value inside, borrowed while it is written; a value borrowed mutably meanwhile is an
/// error, not a panic.
impl<T: Reduce> Reduce for RefCell<T> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let value =
            self.try_borrow().map_err(|_| Error::pickling("a RefCell is borrowed mutably while it is pickled"))?;
        Ok(Reduction::As(Box::new(Borrowed(value))))
    }

    fn python_class(&self) -> Option<GlobalName<'_>> {
        let value = self.try_borrow().ok()?;
        let class = value.python_class()?;
        Some(GlobalName { module: class.module.into_owned().into(), name: class.name.into_owned().into(), ..class })
    }
}

/// The object its `Rc` is: the same identity, so a back link is a memo GET of the parent.
/// A `Weak` whose object is gone pickles as `None`.
impl<T: Reduce> Reduce for Weak<T> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        match self.upgrade() {
            Some(rc) => Ok(Reduction::As(Box::new(rc))),
            None => Ok(Reduction::Builtin(Builtin::None)),
        }
    }

    fn identity(&self) -> Option<usize> {
        (self.strong_count() > 0).then_some(Weak::as_ptr(self) as *const () as usize)
    }
}

/// `Rc::as_ptr` and `Weak::as_ptr` agree: the identity of the one object.
#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn a_weak_is_the_object_its_rc_is() {
        let rc = Rc::new(RefCell::new(5i64));
        assert_eq!(Rc::downgrade(&rc).identity(), rc.identity());
    }
}
