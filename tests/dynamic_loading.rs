//! Loading by what the pickle names: the `Registry`, and typed `persistent_load`.

mod common;

use std::rc::Rc;

use common::{cpython_dumps, cpython_run, python_available};
use pickle_core::{ErrorKind, Persistent, PersistentLoad, Reconstruct, Registry, Unpickler, Value};

#[derive(Reconstruct, Debug, PartialEq)]
#[pickle(module = "load_classes")]
struct Account {
    owner: String,
    balance: i64,
    history: Vec<i64>,
}

/// What the registry's function makes of a `load_classes.Circle`.
#[derive(Debug, PartialEq)]
struct Radius(i64);

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.class::<Account>("load_classes", "Account");
    registry.function("load_classes", "Circle", |circle: Value| {
        let r = circle.as_object().and_then(|o| o.state.as_ref()?.get("r")?.as_i64());
        r.map(Radius).ok_or_else(|| pickle_core::Error::custom("a circle without a radius"))
    });
    registry
}

#[test]
fn the_registry_builds_what_the_pickle_names() {
    if !python_available("the_registry_builds_what_the_pickle_names") {
        return;
    }
    let code = |c: &str| format!("import load_classes as m\nvalue = {c}");
    let asks = [
        (code("m.Account('Ada', 5, [5])"), (0..=5).collect()),
        (code("m.Circle(3)"), (0..=5).collect()),
        (code("m.Vec2(1.0, 2.0)"), (2..=5).collect()),
    ];
    let answers = cpython_dumps(&asks);
    let registry = registry();
    for bytes in answers[0].iter().map(|a| a.as_ref().unwrap()) {
        let object = registry.loads(bytes).unwrap();
        assert_eq!(
            object.downcast_ref::<Account>(),
            Some(&Account { owner: "Ada".into(), balance: 5, history: vec![5] })
        );
    }
    for bytes in answers[1].iter().map(|a| a.as_ref().unwrap()) {
        assert_eq!(registry.loads(bytes).unwrap().downcast_ref::<Radius>(), Some(&Radius(3)));
    }
    for bytes in answers[2].iter().map(|a| a.as_ref().unwrap()) {
        let e = registry.loads(bytes).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Forbidden(name) if name == "load_classes.Vec2"), "{e}");
    }
}

/// A document that lives outside the pickle, found by its id.
#[derive(Debug, PartialEq)]
struct Document {
    id: String,
}

#[derive(Reconstruct, Debug)]
#[pickle(module = "load_classes")]
struct Measurement {
    sensor: String,
    value: f64,
    tags: Vec<Persistent<Rc<Document>>>,
    account: Option<Account>,
}

#[test]
fn persistent_load_hands_back_typed_objects() {
    if !python_available("persistent_load_hands_back_typed_objects") {
        return;
    }
    let code = "import io, pickle, load_classes as m\n\
                class P(pickle.Pickler):\n    \
                    def persistent_id(self, obj):\n        \
                        return 'doc:' + obj.label if isinstance(obj, m.Shared) else None\n\
                shared = m.Shared('a')\n\
                f = io.BytesIO()\n\
                P(f, PROTO).dump(m.Measurement('t', 1.0, [shared, m.Shared('b'), shared]))\n\
                data = f.getvalue()";
    let cases: Vec<String> = (0..=5).map(|p| code.replace("PROTO", &p.to_string())).collect();
    let runs = cpython_run(&cases.iter().map(String::as_str).collect::<Vec<_>>());
    for (p, run) in runs.into_iter().enumerate() {
        let data = run.unwrap().data;
        let hook = |id: Value| {
            // Protocol 0 writes ids as text lines: a string id works at every protocol.
            let id = id.as_str().and_then(|s| s.strip_prefix("doc:")).map(str::to_owned);
            let id = id.ok_or_else(|| pickle_core::Error::custom("not a document id"))?;
            Ok(Rc::new(Rc::new(Document { id })) as Rc<dyn std::any::Any>)
        };
        let m: Measurement = Unpickler::from_slice(&data)
            .persistent_load(PersistentLoad::Typed(Box::new(hook)))
            .load()
            .unwrap_or_else(|e| panic!("protocol {p}: {e}"));
        let ids: Vec<&str> = m.tags.iter().map(|t| t.0.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "a"], "protocol {p}");
        assert_eq!((m.sensor.as_str(), m.value, m.account), ("t", 1.0, None));
    }
}
