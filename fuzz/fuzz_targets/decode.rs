//! Decodes arbitrary bytes; whatever loads must survive a round trip through the encoder.
//!
//! Properties checked on every input:
//! - `loads_with` returns (a value or a typed error): no panic, no hang, no stack overflow,
//!   no allocation beyond the limits below (libFuzzer's `-rss_limit_mb` catches those);
//! - a value that loaded re-encodes at each protocol 0..=5 (or fails to encode with an
//!   error, e.g. an int too long for protocol 0's text), and what it encodes to loads back
//!   to an equal value (`==`, which compares floats by bit pattern).
//!
//! Four exceptions, where a protocol cannot say everything a `Value` holds (or says it
//! the way CPython does, which is not one to one):
//! - protocol 0 writes floats as text (`repr`), so a NaN comes back as the canonical NaN,
//!   without its sign and payload bits (as in CPython);
//! - below protocol 3, `fix_imports` maps names both ways (`copyreg` is written
//!   `copy_reg`, and read back as `copyreg`; `cPickle` is read as `pickle`, which is
//!   written as `pickle`), so a global from a module literally named `copy_reg` or
//!   `cPickle` comes back renamed (as in CPython), and a dotted name is written as
//!   `getattr(parent, name)`;
//! - below protocol 4, an object made by `copyreg.__newobj_ex__` is written as CPython
//!   writes it, `functools.partial(cls.__new__, *args, **kwargs)`, and loads back as that
//!   partial (the same instance to `Instance`, another structure to `==`);
//! - `Global::fresh_names` (compared by `==`) records whether a global's module and name
//!   strings were written separately. GLOBAL (below protocol 4) cannot show it, and at
//!   protocol 4+ the unpickler infers it from which strings the memo shares, which the
//!   pickler reproduces since the fix described in fuzz/README.md; the looser comparison stays
//!   as a guard.
//!
//! In the first three cases the value read back only has to be stable: dumped at the same
//! protocol and loaded, it comes back equal to itself. In the fourth, both values must give
//! the same protocol 3 pickle, which writes everything else (sharing and float bits
//! included) and no `fresh_names`.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use pickle_core::{dumps, loads_with, Global, UnpicklerOptions, Value};

/// The limits for the fuzzed input: small enough that a load that respects them stays far
/// below libFuzzer's RSS limit.
fn options() -> UnpicklerOptions {
    UnpicklerOptions { max_alloc: 64 << 20, max_depth: 1000, ..UnpicklerOptions::default() }
}

/// The limits for re-reading what the encoder wrote: protocols 0 and 1 spell some builtins
/// as reductions (`set([...])`, `_codecs.encode(...)`), which nest a little deeper and
/// take a little more room while loading than the opcodes they stand for.
fn roundtrip_options() -> UnpicklerOptions {
    UnpicklerOptions { max_alloc: 256 << 20, max_depth: 4 * 1000 + 16, ..UnpicklerOptions::default() }
}

/// What a value holds that some protocols cannot write faithfully.
#[derive(Default)]
struct Lossy {
    /// A NaN anywhere.
    nan: bool,
    /// The globals, as plain `Global::new(module, name)`.
    globals: Vec<Global>,
    /// A global that differs from `Global::new(module, name)` (`fresh_names` is set).
    marked_global: bool,
    /// An object made by `copyreg.__newobj_ex__`, which protocols 2 and 3 write as
    /// `functools.partial(cls.__new__, *args, **kwargs)`, as CPython does: it loads back in
    /// that form (one object to `Instance`, another to `==`).
    newobj_ex: bool,
}

impl Lossy {
    /// Walks the graph, visiting each shared node once.
    fn of(value: &Value) -> Lossy {
        let mut lossy = Lossy::default();
        let mut stack = vec![value];
        let mut seen = HashSet::new();
        while let Some(v) = stack.pop() {
            match v {
                Value::Float(f) if f.is_nan() => lossy.nan = true,
                Value::Global(g) => {
                    let plain = Global::new(&*g.module, &*g.name);
                    lossy.marked_global |= **g != plain;
                    lossy.globals.push(plain);
                }
                Value::Tuple(items) | Value::List(items) | Value::Set(items) | Value::FrozenSet(items) => {
                    stack.extend(items)
                }
                Value::Dict(pairs) => pairs.iter().for_each(|(k, v)| stack.extend([k, v])),
                Value::Object(o) => {
                    lossy.newobj_ex |= matches!(&o.callable, Value::Global(g) if g.module == "copyreg" && g.name == "__newobj_ex__");
                    stack.extend([&o.callable, &o.args]);
                    stack.extend(o.state.iter().chain(o.state_setter.iter()));
                    stack.extend(&o.list_items);
                    o.dict_items.iter().for_each(|(k, v)| stack.extend([k, v]));
                }
                Value::PersistentId(id) => stack.push(id),
                Value::Shared(s) if seen.insert(s.id()) => stack.extend(s.get()),
                _ => {}
            }
        }
        lossy
    }

    /// Whether some global, on its own, does not come back as itself at this protocol.
    fn renamed_global(&self, protocol: u8) -> bool {
        self.globals.iter().any(|g| {
            let alone = Value::Global(Box::new(g.clone()));
            match dumps(&alone, protocol) {
                Ok(bytes) => !loads_with::<Value>(&bytes, &roundtrip_options()).is_ok_and(|v| v == alone),
                Err(_) => true,
            }
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = loads_with::<Value>(data, &options()) else {
        return;
    };
    for protocol in 0..=5u8 {
        let Ok(bytes) = dumps(&value, protocol) else {
            continue;
        };
        let again = match loads_with::<Value>(&bytes, &roundtrip_options()) {
            Ok(again) => again,
            Err(e) => panic!("protocol {protocol}: what dumps wrote does not load: {e}\n pickle: {bytes:02x?}"),
        };
        if again == value {
            continue;
        }
        let lossy = Lossy::of(&value);
        if (protocol == 0 && lossy.nan)
            || (protocol < 3 && lossy.renamed_global(protocol))
            || (protocol < 4 && lossy.newobj_ex)
        {
            let rewritten = dumps(&again, protocol).expect("a value that loaded dumps again");
            let third = loads_with::<Value>(&rewritten, &roundtrip_options()).expect("and loads again");
            assert!(
                third == again,
                "protocol {protocol}: the value read back is not stable:\n first: {bytes:02x?}\n again: {rewritten:02x?}"
            );
            continue;
        }
        if lossy.marked_global {
            let (first, second) = (dumps(&value, 3), dumps(&again, 3));
            match (&first, &second) {
                (Ok(a), Ok(b)) if a == b => continue,
                (Err(a), Err(b)) if a.to_string() == b.to_string() => continue,
                _ => panic!(
                    "protocol {protocol} round trip changed the value beyond fresh_names:\n pickle: {bytes:02x?}\n protocol 3 of the first: {first:02x?}\n protocol 3 of the second: {second:02x?}"
                ),
            }
        }
        // No Display of the values: a graph with shared nodes prints exponentially long.
        panic!("protocol {protocol} round trip changed the value:\n pickle: {bytes:02x?}");
    }
});
