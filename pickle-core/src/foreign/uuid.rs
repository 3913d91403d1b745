//! `uuid::Uuid` as Python's `uuid.UUID` (feature `uuid`): a plain Python class whose
//! `__getstate__` is `{'int': N}` (and `'is_safe'` when known, which a Rust `Uuid` is not),
//! so it pickles as `object.__reduce_ex__` writes an instance: `copyreg._reconstructor`
//! below protocol 2, `copyreg.__newobj__` from 2, then the state.

use ::uuid::Uuid;

use crate::{Arg, Attrs, Call, GlobalName, Node, Reconstruct, Reduce, Reduction, Result};

const MODULE: &str = "uuid";
const NAME: &str = "UUID";

impl Reduce for Uuid {
    fn reduce_ex(&self, protocol: u8) -> Result<Reduction<'_>> {
        let class = GlobalName::new(MODULE, NAME);
        let call = if protocol < 2 {
            let object = GlobalName::static_type("builtins", "object");
            Call::new(GlobalName::new("copyreg", "_reconstructor"), (class, object, None::<i32>))
        } else {
            Call::new(GlobalName::new("copyreg", "__newobj__"), (class,))
        };
        let state = Attrs::new().with("int", Arg::owned(self.as_u128()));
        Ok(call.state(state).into())
    }

    fn python_class(&self) -> Option<GlobalName<'_>> {
        Some(GlobalName::new(MODULE, NAME))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// From an instance of `uuid.UUID` with the state `__getstate__` gives: its `int`, with an
/// `is_safe` that is ignored (a Rust `Uuid` does not know how it was made).
impl Reconstruct for Uuid {
    fn reconstruct(node: Node<'_>) -> Result<Uuid> {
        let instance = node.instance().filter(|i| i.is(MODULE, NAME));
        let instance = instance.ok_or_else(|| node.mismatch("`uuid.UUID`"))?;
        let int = instance.attributes().get("int").ok_or_else(|| node.error("a `uuid.UUID` without its `int`"))?;
        let int: u128 = int.get().map_err(|e| e.in_field("UUID", "int"))?;
        Ok(Uuid::from_u128(int))
    }
}
