//! [`Registry`]: Python class names mapped to Rust constructors, for dynamic loading.

use std::any::Any;
use std::collections::HashMap;

use super::{Node, Reconstruct};
use crate::error::Result;
use crate::value::Value;

/// A constructor: the object's node in, a boxed Rust value out.
type Constructor = Box<dyn Fn(Node<'_>) -> Result<Box<dyn Any>>>;

/// Python classes (and reconstructor functions) mapped to Rust constructors: for programs
/// that learn from the pickle what they are loading, as CPython's `find_class` does.
///
/// A constructor receives the object as a [`Value`] ([`Registry::function`]) or builds a
/// [`Reconstruct`] type ([`Registry::class`]); either way the answer is a `Box<dyn Any>`
/// to downcast. [`Registry::loads`] reads with the registry as its class policy, so
/// nothing but the registered names may appear.
///
/// ```
/// use pickle_core::{Reconstruct, Registry, Value};
///
/// #[derive(Reconstruct, Debug, PartialEq)]
/// #[pickle(module = "shapes")]
/// struct Point { x: i64, y: i64 }
///
/// let mut registry = Registry::new();
/// registry.class::<Point>("shapes", "Point");
/// registry.function("shapes", "Circle", |circle: Value| Ok(circle));
///
/// // CPython 3.11: `pickle.dumps(shapes.Point(1, 2), 2)` of a plain class.
/// let bytes = b"\x80\x02cshapes\nPoint\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04K\x02ub.";
/// let object = registry.loads(bytes)?;
/// assert_eq!(object.downcast_ref::<Point>(), Some(&Point { x: 1, y: 2 }));
/// # Ok::<(), pickle_core::Error>(())
/// ```
#[derive(Default)]
pub struct Registry {
    /// Constructors by module, then qualname: looked up by `&str`.
    constructors: HashMap<String, HashMap<String, Constructor>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Instances of `module.qualname` load as `T`.
    pub fn class<T: Reconstruct + 'static>(&mut self, module: &str, qualname: &str) -> &mut Registry {
        self.insert(module, qualname, Box::new(|node| Ok(Box::new(node.get::<T>()?))))
    }

    /// Instances of `module.qualname` (or objects built by that function) are given to
    /// `constructor` as a [`Value`]; what it returns is the loaded object.
    pub fn function<T: Any>(
        &mut self,
        module: &str,
        qualname: &str,
        constructor: impl Fn(Value) -> Result<T> + 'static,
    ) -> &mut Registry {
        self.insert(module, qualname, Box::new(move |node| Ok(Box::new(constructor(node.to_value()?)?))))
    }

    fn insert(&mut self, module: &str, qualname: &str, constructor: Constructor) -> &mut Registry {
        self.constructors.entry(module.to_owned()).or_default().insert(qualname.to_owned(), constructor);
        self
    }

    /// The registered names, as (module, qualname).
    pub(crate) fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.constructors.iter().flat_map(|(m, names)| names.keys().map(move |n| (m.as_str(), n.as_str())))
    }

    /// The object `node` is, built by the constructor registered for its class; an object
    /// of no registered class is an error naming it.
    pub fn reconstruct(&self, node: Node<'_>) -> Result<Box<dyn Any>> {
        let class = node.instance().and_then(|i| i.class()).or_else(|| node.global());
        let constructor = class.and_then(|g| self.constructors.get(&g.module)?.get(&g.name));
        match constructor {
            Some(constructor) => constructor(node),
            None => Err(node.mismatch("an instance of a registered class")),
        }
    }
}
