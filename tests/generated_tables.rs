//! The generated tables (`tools/gen_opcodes.py`, `tools/gen_compat.py`) still say what the
//! running CPython says: a hand edit, or a Python whose pickletools changed, fails here.

mod common;

use std::process::Command;

use pickle_core::opcode::OPCODES;
use serde_json::Value as Json;

fn python_json(code: &str) -> Json {
    let out = Command::new("python3").args(["-c", code]).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn camel(name: &str) -> String {
    name.split('_').map(|p| p[..1].to_uppercase() + &p[1..]).collect()
}

#[test]
fn opcode_table_matches_pickletools() {
    if !common::python_available("opcode_table_matches_pickletools") {
        return;
    }
    let theirs = python_json(
        "import json, pickletools\n\
         print(json.dumps([[o.name, ord(o.code.encode('latin-1')), o.proto, o.arg.name if o.arg else None,\n\
           [s.name for s in o.stack_before], [s.name for s in o.stack_after],\n\
           bool(o.arg) and o.arg.n == pickletools.UP_TO_NEWLINE, o.doc.split('\\n', 1)[0]]\n\
           for o in pickletools.opcodes]))",
    );
    let theirs = theirs.as_array().unwrap();
    assert_eq!(theirs.len(), OPCODES.len());
    for (row, info) in theirs.iter().zip(OPCODES.iter()) {
        let row = row.as_array().unwrap();
        assert_eq!(row[0], info.name);
        assert_eq!(row[1], info.code as u64, "{}", info.name);
        assert_eq!(row[2], info.proto as u64, "{}", info.name);
        let arg = row[3].as_str().map_or("None".to_owned(), camel);
        assert_eq!(arg, format!("{:?}", info.arg), "{}", info.name);
        let stack = |items: &Json| -> Vec<String> {
            items.as_array().unwrap().iter().map(|s| s.as_str().unwrap().replace("_or_", "Or").to_lowercase()).collect()
        };
        let ours = |items: &[pickle_core::opcode::StackItem]| -> Vec<String> {
            items.iter().map(|s| format!("{s:?}").to_lowercase()).collect()
        };
        assert_eq!(stack(&row[4]), ours(info.stack_before), "{} stack before", info.name);
        assert_eq!(stack(&row[5]), ours(info.stack_after), "{} stack after", info.name);
        assert_eq!(row[6], info.arg.is_line(), "{} reads a line", info.name);
        assert_eq!(row[7], info.doc, "{}: the line pickletools annotates with", info.name);
    }
}

#[test]
fn fix_imports_tables_match_compat_pickle() {
    if !common::python_available("fix_imports_tables_match_compat_pickle") {
        return;
    }
    let theirs = python_json(
        "import json, _compat_pickle as c\n\
         pairs = lambda t: sorted([list(k) + list(v) for k, v in t.items()])\n\
         print(json.dumps({'reverse_name': pairs(c.REVERSE_NAME_MAPPING), 'name': pairs(c.NAME_MAPPING),\n\
           'reverse_import': sorted(map(list, c.REVERSE_IMPORT_MAPPING.items())),\n\
           'import': sorted(map(list, c.IMPORT_MAPPING.items())),\n\
           'types': sorted(n for n, v in vars(__import__('builtins')).items() if isinstance(v, type))}))",
    );
    let tables = pickle_core::__private::compat_tables();
    type Row = ((&'static str, &'static str), (&'static str, &'static str));
    let names = |t: &[Row]| -> Json {
        let mut v: Vec<Vec<&str>> = t.iter().map(|((a, b), (c, d))| vec![*a, *b, *c, *d]).collect();
        v.sort();
        serde_json::to_value(v).unwrap()
    };
    let modules = |t: &[(&str, &str)]| -> Json {
        let mut v: Vec<Vec<&str>> = t.iter().map(|(a, b)| vec![*a, *b]).collect();
        v.sort();
        serde_json::to_value(v).unwrap()
    };
    assert_eq!(theirs["reverse_name"], names(tables.reverse_name));
    assert_eq!(theirs["name"], names(tables.name));
    assert_eq!(theirs["reverse_import"], modules(tables.reverse_import));
    assert_eq!(theirs["import"], modules(tables.import));
    assert_eq!(theirs["types"], serde_json::to_value(tables.builtin_types).unwrap());
}

/// `str_repr` escapes exactly the code points the running CPython's `repr` escapes
/// (`tools/gen_printable.py`'s table), every one of them from U+0080 up.
#[test]
fn printable_table_matches_isprintable() {
    if !common::python_available("printable_table_matches_isprintable") {
        return;
    }
    let theirs = python_json(
        "import json, sys\n\
         print(json.dumps([c for c in range(0x80, sys.maxunicode + 1)\n\
           if chr(c).isprintable() != chr(c - 1).isprintable() or c == 0x80]))",
    );
    // The code points where printability changes, starting at U+0080 (not printable).
    let changes: Vec<u32> = theirs.as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u32).collect();
    let mut printable = true;
    let mut next = changes.iter().peekable();
    for cp in 0x80..=0x10FFFFu32 {
        if next.peek() == Some(&&cp) {
            next.next();
            printable = !printable;
        }
        let repr = pickle_core::value::str_repr(std::iter::once(cp));
        assert_eq!(!repr.starts_with("'\\"), printable, "U+{cp:04X}: {repr}");
    }
}
