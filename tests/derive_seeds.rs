//! The seed examples written with `#[derive(Reduce)]`: the same bytes as CPython for the
//! Python classes of `tests/python/seeds.py`, at protocols 0 to 5.

mod common;

use common::{assert_same_pickles, python_available, Case};
use pickle_core::Reduce;

#[derive(Reduce)]
#[pickle(module = "seeds")]
struct SimpleObject {
    #[pickle(arg)]
    value: i64,
}

#[derive(Reduce)]
#[pickle(module = "seeds")]
struct CustomObject {
    #[pickle(arg)]
    name: String,
    #[pickle(arg(until = 1), state(since = 2))]
    data: Vec<i64>,
}

#[derive(Reduce)]
#[pickle(module = "seeds")]
struct OptimizedObject {
    #[pickle(arg(until = 3), list_items(since = 4))]
    items: Vec<i64>,
}

#[derive(Reduce)]
#[pickle(module = "seeds")]
struct DatabaseConnection {
    #[pickle(arg)]
    connection_string: String,
    #[pickle(skip)]
    _connection: Option<std::net::TcpListener>,
}

#[derive(Reduce)]
#[pickle(module = "seeds", reconstructor = "seeds.reconstruct_complex")]
struct ComplexObject {
    #[pickle(arg)]
    x: i64,
    #[pickle(arg)]
    y: i64,
    #[pickle(skip)]
    _sum: i64,
}

#[derive(Reduce)]
#[pickle(module = "seeds", global = "SPAM")]
struct Wrapper;

#[derive(Reduce)]
#[pickle(module = "seeds")]
struct Point(i64, i64);

#[derive(Reduce)]
#[pickle(module = "seeds", args = (0, 0))]
struct FrozenPoint {
    x: i64,
    y: i64,
}

#[derive(Reduce)]
#[pickle(module = "seeds", args = (&self.value, Vec::<i64>::new()))]
struct Node {
    #[pickle(skip)]
    value: String,
    #[pickle(list_items)]
    children: Vec<Node>,
}

#[derive(Reduce)]
#[pickle(module = "seeds", slots)]
struct Slotted {
    x: i64,
    y: String,
}

/// `__getnewargs_ex__` gives `__new__` the value and the scale, and `__dict__` holds both:
/// the args are the fields, the state is the whole `__dict__`.
#[derive(Reduce)]
#[pickle(module = "seeds", newobj, state = pickle_core::Attrs::new().with("value", &self.value).with("scale", &self.scale))]
struct Scaled {
    #[pickle(arg)]
    value: i64,
    #[pickle(kwarg)]
    scale: i64,
}

/// The state is the position itself (not a dict), applied by a state setter.
#[derive(Reduce)]
#[pickle(module = "seeds", args = (), state = &self.position, state_setter = "seeds.place")]
struct Placed {
    position: (i64, i64),
}

#[test]
fn derived_seeds_pickle_as_cpython_pickles_their_python_classes() {
    if !python_available("derived_seeds_pickle_as_cpython_pickles_their_python_classes") {
        return;
    }
    let simple = SimpleObject { value: 42 };
    let custom = CustomObject { name: "widget".into(), data: vec![1, 2, 3] };
    let optimized = OptimizedObject { items: (0..2500).collect() };
    let db = DatabaseConnection { connection_string: "postgres://localhost/app".into(), _connection: None };
    let complex = ComplexObject { x: 3, y: 4, _sum: 7 };
    let wrappers = vec![Wrapper, Wrapper];
    let points = vec![Point(1, 2), Point(-3, 400)];
    let frozen = FrozenPoint { x: 7, y: 8 };
    let tree = Node {
        value: "root".into(),
        children: vec![
            Node { value: "leaf1".into(), children: vec![] },
            Node { value: "leaf2".into(), children: vec![] },
        ],
    };
    let slotted = Slotted { x: 5, y: "why".into() };
    let scaled = (Scaled { value: 10, scale: 3 }, Scaled { value: 20, scale: 1 });
    let placed = Placed { position: (3, 4) };
    let cases = vec![
        Case::seed("SimpleObject", &simple),
        Case::seed("CustomObject", &custom),
        Case::seed("OptimizedObject", &optimized),
        Case::seed("DatabaseConnection", &db),
        Case::seed("ComplexObject", &complex),
        Case::seed("Wrapper", &wrappers),
        Case::seed("Point", &points),
        Case::seed("FrozenPoint", &frozen),
        Case::seed("Node", &tree),
        Case::seed("Slotted", &slotted),
        Case::seed("Scaled", &scaled),
        Case::seed("Placed", &placed),
    ];
    assert_same_pickles(&cases);
}
