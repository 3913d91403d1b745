//! How a global is named: Python 2 names mapped to Python 3's, and whether STACK_GLOBAL's
//! names were made afresh. Every decoding path names globals here, so they agree.

use std::collections::HashMap;

use crate::compat;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Global;

/// The names of the globals read so far, each with the identity of its str (the first
/// one), to tell whether a STACK_GLOBAL's names were made afresh, as a C-implemented
/// global's are (`Global::fresh_names`). CPython shares a Python-defined global's interned
/// names, so the evidence is a new string object equal to an interned one: the other name
/// of the same global, or a name of an earlier global that was itself interned. The strings
/// of a fresh global are no evidence about the next one, as they are new objects anyway.
#[derive(Default)]
pub(crate) struct GlobalNames(HashMap<Box<str>, usize>);

impl GlobalNames {
    /// Whether the global of these names (each with its str's identity) has fresh names;
    /// if not, its names are noted.
    pub(crate) fn fresh(&mut self, (module, m): (&str, usize), (name, n): (&str, usize)) -> bool {
        let differs = |text: &str, id: usize| self.0.get(text).is_some_and(|&i| i != id);
        let fresh = (module == name && m != n) || differs(module, m) || differs(name, n);
        if !fresh {
            self.0.entry(module.into()).or_insert(m);
            self.0.entry(name.into()).or_insert(n);
        }
        fresh
    }

    /// Gives each noted str the identity `new` maps its old one to; one `new` does not know
    /// is of a str no longer alive, which no name read later can be.
    pub(crate) fn reidentify(&mut self, new: impl Fn(usize) -> Option<usize>) {
        for id in self.0.values_mut() {
            *id = new(*id).unwrap_or(usize::MAX);
        }
    }
}

/// A global as `find_class` names it in a pickle of protocol `proto`: Python 2 names mapped
/// below protocol 3 when `fix_imports` is on. An empty module or name (which CPython 3.11
/// refuses on a GLOBAL or INST line, and fails to import from STACK_GLOBAL, and 3.12 refuses
/// everywhere) is an error.
pub(crate) fn global(proto: u8, fix_imports: bool, module: String, name: String) -> Result<Global> {
    if module.is_empty() || name.is_empty() {
        let part = if module.is_empty() { "module" } else { "name" };
        return Err(Error::new(ErrorKind::EmptyGlobalName(part)));
    }
    if proto < 3 && fix_imports {
        let (m, n) = compat::to_python3(&module, &name);
        if (m, n) != (module.as_str(), name.as_str()) {
            return Ok(Global::new(m, n));
        }
    }
    Ok(Global::new(module, name))
}
