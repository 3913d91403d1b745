//! The class policy: which globals a pickle may name at all.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, ErrorKind, Result};
use crate::reconstruct::Registry;
use crate::value::Global;

/// Globals every policy allows: the machinery CPython's own pickles of plain data and plain
/// classes use (`object.__reduce_ex__`, bytes below protocol 3, sets below 4, keyword
/// arguments below 4), which the unpickler reads as data without calling anything.
pub const ALWAYS_ALLOWED: &[(&str, &str)] = &[
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("builtins", "object"),
    ("builtins", "object.__new__"),
    ("builtins", "tuple"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("_codecs", "encode"),
    ("functools", "partial"),
    ("builtins", "getattr"),
];

/// An allowlist of globals, the safe way to read untrusted pickles (CPython's advice of a
/// restricting `find_class`). With a policy set on the [`Unpickler`](crate::Unpickler), a
/// GLOBAL, STACK_GLOBAL, INST or EXT naming anything not on the list fails at once with
/// [`ErrorKind::Forbidden`] and the offset of that opcode, before anything after it is read.
///
/// Names are whole `(module, qualname)` pairs, compared exactly: allowing `("os", "path")`
/// allows no `os.path.join`, and a `getattr(allowed, "name")` that CPython writes for a
/// nested class is checked as the composed `module.qualname.name`.
///
/// ```
/// use pickle_core::{ClassPolicy, ErrorKind, Unpickler, Value};
///
/// // What CPython writes for `pickle.dumps(os.system, 2)` on Linux.
/// let evil = b"\x80\x02cposix\nsystem\nq\x00.";
/// let policy = ClassPolicy::new().allow("shapes", "Point");
/// let e = Unpickler::from_slice(evil).class_policy(policy).load::<Value>().unwrap_err();
/// assert!(matches!(e.kind(), ErrorKind::Forbidden(name) if name == "posix.system"));
/// assert_eq!(e.offset(), Some(2));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClassPolicy {
    /// Qualnames allowed, by module: looked up by `&str`, without building a key per global.
    allowed: HashMap<String, HashSet<String>>,
}

impl ClassPolicy {
    /// A policy that allows only [`ALWAYS_ALLOWED`]: plain data loads, classes do not.
    pub fn new() -> ClassPolicy {
        ClassPolicy::default()
    }

    /// Allows the global `module.qualname`.
    pub fn allow(mut self, module: impl Into<String>, qualname: impl Into<String>) -> ClassPolicy {
        self.allowed.entry(module.into()).or_default().insert(qualname.into());
        self
    }

    /// Allows a global written as one dotted name, split at its last dot: `"shapes.Point"`.
    /// A nested class (`Outer.Inner`) needs [`allow`](ClassPolicy::allow) with its module.
    pub fn allow_name(self, dotted: &str) -> ClassPolicy {
        match dotted.rsplit_once('.') {
            Some((module, name)) => self.allow(module, name),
            None => self.allow("builtins", dotted),
        }
    }

    /// Whether the policy allows `module.qualname`.
    pub fn allows(&self, module: &str, qualname: &str) -> bool {
        ALWAYS_ALLOWED.contains(&(module, qualname))
            || self.allowed.get(module).is_some_and(|names| names.contains(qualname))
    }

    /// `Ok` for an allowed global, the [`ErrorKind::Forbidden`] error otherwise.
    pub(crate) fn admit(&self, global: &Global) -> Result<()> {
        if self.allows(&global.module, &global.name) {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Forbidden(format!("{}.{}", global.module, global.name))))
    }
}

/// A [`Registry`] read with as the class policy: the unpickler's side of it, here so that
/// the registry (with `Reconstruct`) sits below the unpickler.
impl Registry {
    /// A class policy allowing exactly the registered names.
    pub fn policy(&self) -> ClassPolicy {
        self.names().fold(ClassPolicy::new(), |policy, (module, name)| policy.allow(module, name))
    }

    /// Loads a pickle whose root is an instance of a registered class, with the registry
    /// as the class policy.
    pub fn loads(&self, bytes: &[u8]) -> Result<Box<dyn std::any::Any>> {
        let tree = super::Unpickler::from_slice(bytes).class_policy(self.policy()).load_tree()?;
        self.reconstruct(tree.root())
    }
}
