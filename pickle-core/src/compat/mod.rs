//! Python 2 ↔ Python 3 name mapping (`fix_imports`), from CPython's `_compat_pickle`.

mod table;

/// A global's `(module, qualname)`.
pub(crate) type QualName = (&'static str, &'static str);
/// One row of a name mapping: from, to.
pub(crate) type NameRow = (QualName, QualName);

use table::{BUILTIN_TYPES, IMPORT_MAPPING, NAME_MAPPING, REVERSE_IMPORT_MAPPING, REVERSE_NAME_MAPPING};

/// The Python 2 name of a Python 3 global, as `fix_imports` writes it below protocol 3.
/// Returns the input unchanged when no mapping applies.
pub(crate) fn to_python2<'a>(module: &'a str, name: &'a str) -> (&'a str, &'a str) {
    map_name(&REVERSE_NAME_MAPPING, &REVERSE_IMPORT_MAPPING, module, name)
}

/// The Python 3 name of a Python 2 global, as `fix_imports` reads it below protocol 3.
pub(crate) fn to_python3<'a>(module: &'a str, name: &'a str) -> (&'a str, &'a str) {
    map_name(&NAME_MAPPING, &IMPORT_MAPPING, module, name)
}

/// CPython's `fix_imports`: the whole `(module, name)` pair first, then the module alone.
fn map_name<'a>(
    names: &[NameRow],
    modules: &[(&'static str, &'static str)],
    module: &'a str,
    name: &'a str,
) -> (&'a str, &'a str) {
    if let Ok(i) = names.binary_search_by(|(key, _)| (key.0, key.1).cmp(&(module, name))) {
        return names[i].1;
    }
    match modules.binary_search_by(|(key, _)| (*key).cmp(module)) {
        Ok(i) => (modules[i].1, name),
        Err(_) => (module, name),
    }
}

/// Whether the global `module.name` is known to be no class: a name in `builtins` that is
/// none of CPython 3.11's builtin types. NEWOBJ refuses such a class argument; the pickler,
/// the general loader and the direct path all ask this.
pub(crate) fn is_no_class(module: &str, name: &str) -> bool {
    module == "builtins" && BUILTIN_TYPES.binary_search(&name).is_err()
}

/// The tables themselves, for the test that compares them with the running python3.
#[doc(hidden)]
pub fn tables() -> CompatTables {
    CompatTables {
        reverse_name: &REVERSE_NAME_MAPPING,
        name: &NAME_MAPPING,
        reverse_import: &REVERSE_IMPORT_MAPPING,
        import: &IMPORT_MAPPING,
        builtin_types: &BUILTIN_TYPES,
    }
}

/// See [`tables`].
#[doc(hidden)]
#[allow(missing_docs, private_interfaces)]
pub struct CompatTables {
    pub reverse_name: &'static [NameRow],
    pub name: &'static [NameRow],
    pub reverse_import: &'static [(&'static str, &'static str)],
    pub import: &'static [(&'static str, &'static str)],
    pub builtin_types: &'static [&'static str],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_names_then_modules() {
        assert_eq!(to_python2("builtins", "set"), ("__builtin__", "set"));
        assert_eq!(to_python2("builtins", "range"), ("__builtin__", "xrange"));
        assert_eq!(to_python2("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"));
        assert_eq!(to_python2("mypkg", "Thing"), ("mypkg", "Thing"));
        assert_eq!(to_python3("__builtin__", "xrange"), ("builtins", "range"));
    }
}
