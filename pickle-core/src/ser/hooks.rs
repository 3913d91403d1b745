//! The pickler's hooks, as CPython's `Pickler` has them: `persistent_id`, a copyreg-style
//! dispatch table, `reducer_override`, and the extension registry.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::reduce::{Reduce, Reduction};
use crate::value::Value;

/// Decides, for every object the pickler is about to save, whether it is written as a
/// reference to something outside the pickle: CPython's `Pickler.persistent_id`.
///
/// It is given the object as `Any` when its type provides [`Reduce::as_any`] (derived types
/// do), and what the object reduces to. Returning `Some(id)` writes `id` with BINPERSID
/// (PERSID with `str(id)` at protocol 0) in place of the object.
pub type PersistentId = Box<dyn FnMut(Option<&dyn Any>, &Reduction<'_>) -> Result<Option<Value>>>;

/// CPython's `Pickler.reducer_override`: asked about every object that is not a builtin,
/// given the object as `Any` (when its type provides [`Reduce::as_any`]) and its own
/// reduction; `Ok(None)` keeps that reduction.
pub trait ReducerOverride {
    /// The reduction to use instead of `own`, if any.
    fn reducer_override<'a>(
        &mut self,
        obj: Option<&'a dyn Any>,
        own: &Reduction<'a>,
        protocol: u8,
    ) -> Result<Option<Reduction<'a>>>;
}

/// A reducer registered for one type in the dispatch table.
trait DispatchReducer {
    fn reduce<'a>(&self, obj: &'a dyn Any, protocol: u8) -> Result<Reduction<'a>>;
}

struct TypedReducer<T: 'static>(for<'a> fn(&'a T, u8) -> Result<Reduction<'a>>);

impl<T: 'static> DispatchReducer for TypedReducer<T> {
    fn reduce<'a>(&self, obj: &'a dyn Any, protocol: u8) -> Result<Reduction<'a>> {
        let obj = obj.downcast_ref::<T>().expect("the dispatch table is keyed by the type's id");
        (self.0)(obj, protocol)
    }
}

/// A value of a type that does not implement [`Reduce`] (a type of another crate),
/// pickled by the reducer registered for its type with [`Pickler::dispatch`](crate::Pickler::dispatch),
/// as `copyreg.pickle` registers reducers in Python.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Registered<T>(pub T);

impl<T: 'static> Reduce for Registered<T> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Err(Error::pickling(format!(
            "no reducer is registered for {} (register one with Pickler::dispatch)",
            std::any::type_name::<T>()
        )))
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(&self.0)
    }
}

/// Whether values of this type pickle as a Python builtin and have their type known to
/// hooks ([`Reduce::as_any`]).
fn is_builtin(id: TypeId) -> bool {
    use crate::value::{PyString, Value};
    [
        TypeId::of::<bool>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<i128>(),
        TypeId::of::<isize>(),
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<u128>(),
        TypeId::of::<usize>(),
        TypeId::of::<num_bigint::BigInt>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<char>(),
        TypeId::of::<String>(),
        TypeId::of::<PyString>(),
        TypeId::of::<Value>(),
    ]
    .contains(&id)
}

/// All the hooks of one pickler.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) persistent_id: Option<PersistentId>,
    pub(crate) reducer_override: Option<Box<dyn ReducerOverride>>,
    dispatch: HashMap<TypeId, Box<dyn DispatchReducer>>,
    /// copyreg's `_extension_registry`: `(module, name)` to its code.
    pub(crate) extensions: HashMap<(String, String), i32>,
}

impl Hooks {
    /// Registers `reducer` for `T`, unless `T` pickles as a Python builtin: CPython's
    /// pickler writes exact builtins (`int`, `str`, ...) before it looks at the dispatch
    /// table, so a reducer registered for one is never used.
    pub(crate) fn register<T: 'static>(&mut self, reducer: for<'a> fn(&'a T, u8) -> Result<Reduction<'a>>) {
        if !is_builtin(TypeId::of::<T>()) {
            self.dispatch.insert(TypeId::of::<T>(), Box::new(TypedReducer(reducer)));
        }
    }

    /// Whether the dispatch table is empty.
    #[inline]
    pub(crate) fn no_dispatch(&self) -> bool {
        self.dispatch.is_empty()
    }

    /// The dispatch table's reduction of `obj`, if its type is registered.
    #[inline]
    pub(crate) fn dispatch<'a, T: Reduce + ?Sized>(&self, obj: &'a T, protocol: u8) -> Option<Result<Reduction<'a>>> {
        if self.dispatch.is_empty() {
            return None;
        }
        let any = obj.as_any()?;
        let reducer = self.dispatch.get(&any.type_id())?;
        Some(reducer.reduce(any, protocol))
    }

    pub(crate) fn extension(&self, module: &str, name: &str) -> Option<i32> {
        if self.extensions.is_empty() {
            return None;
        }
        self.extensions.get(&(module.to_owned(), name.to_owned())).copied()
    }
}
