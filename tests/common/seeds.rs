//! The Python mirrors of the seed examples (classes in `tests/python/seeds.py`), one table
//! for the hand-written (`reduce_seeds.rs`) and the derived (`derive_seeds.rs`) versions.

/// Each seed's name and the Python expression of the mirrored object.
pub const SEED_MIRRORS: &[(&str, &str)] = &[
    ("SimpleObject", "seeds.SimpleObject(42)"),
    ("CustomObject", "seeds.CustomObject('widget', [1, 2, 3])"),
    ("OptimizedObject", "seeds.OptimizedObject(range(2500))"),
    ("DatabaseConnection", "seeds.DatabaseConnection('postgres://localhost/app')"),
    ("ComplexObject", "seeds.ComplexObject(3, 4)"),
    // `__reduce__` returning "SPAM" says the object *is* the global seeds.SPAM: CPython
    // refuses any other Wrapper ("it's not the same object as seeds.SPAM").
    ("Wrapper", "[seeds.SPAM, seeds.SPAM]"),
    ("Point", "[seeds.Point(1, 2), seeds.Point(-3, 400)]"),
    ("FrozenPoint", "seeds.FrozenPoint(7, 8)"),
    ("Node", "seeds.Node('root', [seeds.Node('leaf1', []), seeds.Node('leaf2', [])])"),
    ("Slotted", "seeds.Slotted(5, 'why')"),
    ("Scaled", "(seeds.Scaled(10, scale=3), seeds.Scaled(20))"),
    ("Placed", "seeds.Placed((3, 4))"),
    ("SelfRef", "seeds.SelfRef('myself')"),
];

/// The Python code binding `value` to the mirror of the seed `name`.
pub fn seed_python(name: &str) -> String {
    let (_, expr) = SEED_MIRRORS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no seed named {name}"));
    format!("import seeds\nvalue = {expr}")
}
