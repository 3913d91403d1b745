//! Seed `list_items_deepcopy`: `seeds.Node`, a tree whose children are appended after
//! construction, and `copy.deepcopy` of it.
//!
//! ```python
//! class Node:
//!     def __init__(self, value, children):
//!         self.value = value
//!         self.children = children
//!     def append(self, child):
//!         self.children.append(child)
//!     def __reduce__(self):
//!         return (Node, (self.value, []), None, iter(self.children), None)
//! ```
//!
//! Loading calls `Node(value, [])`, then appends each child (APPEND, or APPENDS in batches
//! at protocol 1+). `copy.deepcopy` uses the same reduction. In Rust, `args = (...)` gives
//! the arguments, `#[pickle(list_items)]` the children, `constructor` takes the arguments
//! back on load, and `pickle_core::deepcopy` copies through the reduction, as Python does.
//!
//! Run with `cargo run --example list_items_deepcopy`.

use pickle_core::{deepcopy, Reconstruct, Reduce};

#[path = "support/cpython.rs"]
mod support;
use support::show_both_ways;

#[derive(Reduce, Reconstruct, Debug, PartialEq)]
#[pickle(module = "seeds", args = (&self.value, Vec::<i64>::new()), constructor = Node::new)]
struct Node {
    /// Written by `args` above, so it has no role of its own.
    #[pickle(skip)]
    value: String,
    #[pickle(list_items)]
    children: Vec<Node>,
}

impl Node {
    fn new(value: String, children: Vec<Node>) -> Node {
        Node { value, children }
    }
}

/// What CPython does with our pickle `ours`, and the pickle it writes itself as `theirs`.
const PYTHON: &str = "
import copy
def show(n): return f'{n.value}[{\", \".join(show(c) for c in n.children)}]'
loaded = pickle.loads(ours)
print(f'protocol {protocol}: CPython loads {show(loaded)}, and its deepcopy is {show(copy.deepcopy(loaded))}')
theirs = pickle.dumps(seeds.Node('root', [seeds.Node('leaf1', []), seeds.Node('leaf2', [])]), protocol)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let leaf = |value: &str| Node::new(value.into(), vec![]);
    let tree = Node::new("root".into(), vec![leaf("leaf1"), leaf("leaf2")]);
    let copy = deepcopy(&tree)?;
    println!("deepcopy: {copy:?}\nequal to the original: {}\n", copy == tree);

    show_both_ways(&tree, &[0, 2], PYTHON)
}
