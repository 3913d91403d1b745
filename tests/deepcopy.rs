//! `pickle_core::deepcopy`: `copy.deepcopy` through `reduce_ex(4)` and `Reconstruct`.

use std::rc::Rc;
use std::sync::Arc;

use pickle_core::{deepcopy, dumps, Reconstruct, Reduce, Value};

/// The seed's tree whose children are list items (`list_items_deepcopy`).
#[derive(Reduce, Reconstruct, Debug, PartialEq, Clone)]
#[pickle(module = "seeds", name = "Node", args = (&self.value, Vec::<i64>::new()), constructor = Tree::new)]
struct Tree {
    #[pickle(skip)]
    value: String,
    #[pickle(list_items)]
    children: Vec<Tree>,
}

impl Tree {
    fn new(value: String, children: Vec<Tree>) -> Tree {
        Tree { value, children }
    }
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds")]
struct OptimizedObject {
    #[pickle(arg(until = 3), list_items(since = 4))]
    items: Vec<i64>,
}

#[derive(Reduce, Reconstruct, Debug)]
#[pickle(module = "app")]
struct Team {
    lead: Rc<Member>,
    members: Vec<Rc<Member>>,
    shared_config: Arc<Vec<String>>,
}

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "app")]
struct Member {
    name: String,
}

#[test]
fn a_tree_of_list_items_copies_whole() {
    let leaf = |v: &str| Tree { value: v.into(), children: vec![] };
    let tree =
        Tree { value: "root".into(), children: vec![leaf("a"), Tree { value: "b".into(), children: vec![leaf("c")] }] };
    assert_eq!(deepcopy(&tree).unwrap(), tree);
    let big = OptimizedObject { items: (0..3000).collect() };
    assert_eq!(deepcopy(&big).unwrap(), big);
}

#[test]
fn sharing_survives_and_nothing_is_shared_with_the_original() {
    let lead = Rc::new(Member { name: "Ada".into() });
    let team = Team {
        lead: Rc::clone(&lead),
        members: vec![Rc::clone(&lead), Rc::new(Member { name: "Bob".into() })],
        shared_config: Arc::new(vec!["x".into()]),
    };
    let copy = deepcopy(&team).unwrap();
    assert!(Rc::ptr_eq(&copy.lead, &copy.members[0]), "one object in, one object out");
    assert!(!Rc::ptr_eq(&copy.lead, &team.lead), "a deep copy");
    assert_eq!(*copy.members[1], Member { name: "Bob".into() });
    assert_eq!(*copy.shared_config, vec!["x".to_owned()]);
}

#[test]
fn a_value_copies_to_the_same_graph() {
    let shared = Value::list([Value::from(1), Value::from("two")]).shared();
    let value = Value::dict([("a", shared.clone()), ("b", shared), ("c", Value::tuple([Value::from(2.5)]))]);
    let copy = deepcopy(&value).unwrap();
    assert_eq!(copy, value);
    // The same pickle from both: the same graph, sharing included.
    assert_eq!(dumps(&copy, 4).unwrap(), dumps(&value, 4).unwrap());
}

#[test]
fn a_self_referencing_value_copies_to_a_new_self_reference() {
    let node = pickle_core::Shared::empty();
    node.set(Value::list([Value::from(7), Value::Cycle(node.downgrade())])).unwrap();
    let original = Value::Shared(node);
    let copy = deepcopy(&original).unwrap();
    let Value::Shared(copied) = &copy else { panic!("not shared: {copy:?}") };
    let Value::Shared(orig) = &original else { unreachable!() };
    assert!(!copied.ptr_eq(orig));
    let items = copied.get().unwrap().as_list().unwrap();
    match &items[1] {
        Value::Cycle(link) => assert!(link.upgrade().unwrap().ptr_eq(copied)),
        other => panic!("the cycle is lost: {other:?}"),
    }
}

/// A tuple reached again through a list it contains (`t = (l,); l.append(t)`), inside
/// another tuple: one tuple in the copy, as in `copy.deepcopy` and in the pickle CPython
/// writes for it (`save_tuple`'s POP and GET). Found by the `typed` fuzz target.
#[test]
fn a_tuple_on_a_cycle_stays_one_tuple() {
    // A protocol 0 pickle of [((l,),)] with l = [t] and t = (l,), made by hand; CPython
    // loads it to that structure and re-pickles it with POP and GET.
    let pickle = b"(lp1\n(g1\ntp2\na(l(g2\ntp3\na.";
    let value: Value = pickle_core::loads(pickle).unwrap();
    let copy = deepcopy(&value).unwrap();
    assert_eq!(dumps(&copy, 4).unwrap(), dumps(&value, 4).unwrap());
}
