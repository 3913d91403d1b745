//! [`Instance`]: an object built by a reduction, read as an instance of a class.
//!
//! CPython writes an instance in several shapes, by protocol and by what the class defines:
//!
//! - `cls(*args)` (REDUCE), from a `__reduce__` that names the class;
//! - `copyreg.__newobj__(cls, *args)` (NEWOBJ at protocol 2+), `object.__reduce_ex__`'s shape;
//! - `copyreg.__newobj_ex__(cls, args, kwargs)` (NEWOBJ_EX at 4+), and below 4 its
//!   `functools.partial(cls.__new__, cls, *args, **kwargs)()` form;
//! - `copyreg._reconstructor(cls, base, base_state)` below protocol 2, where `base_state`
//!   holds the data of a builtin base (a tuple subclass's items, a list subclass's items);
//! - `func(*args)` for a custom reconstructor function.
//!
//! Each is followed by the state (`BUILD`: a dict, or `(dict, slots)`), list items and dict
//! items. [`Instance`] gives one view of all of them.

use super::node::{Items, Node, Pairs};
use crate::graph::{Item, Obj, ObjectNode};
use crate::value::Global;

/// An object built by a reduction, read as a class instance (see [`Node::instance`]).
#[derive(Clone, Copy, Debug)]
pub struct Instance<'a> {
    node: Node<'a>,
    callable: Item,
    class: Option<&'a Global>,
    args: &'a [Item],
    kwargs: &'a [(Item, Item)],
    state: Option<Item>,
    attributes: &'a [(Item, Item)],
    slots: &'a [(Item, Item)],
    /// Whether the state is something other than a dict, `(dict, slots)` or None.
    custom_state: bool,
    list_items: &'a [Item],
    dict_items: &'a [(Item, Item)],
    state_setter: Option<Item>,
}

impl<'a> Instance<'a> {
    pub(crate) fn new(node: Node<'a>, o: &'a ObjectNode) -> Instance<'a> {
        let graph = node.graph();
        let obj = |item: Item| match item {
            Item::Obj(i) => Some(graph.get(i)),
            _ => None,
        };
        let global = |item: Item| match obj(item) {
            Some(Obj::Global(g)) => Some(&**g),
            _ => None,
        };
        let tuple = |item: Item| match obj(item) {
            Some(Obj::Tuple(items)) => Some(items.as_slice()),
            _ => None,
        };
        let dict = |item: Item| match obj(item) {
            Some(Obj::Dict(pairs)) => Some(pairs.as_slice()),
            _ => None,
        };
        let mut this = Instance {
            node,
            callable: o.callable,
            class: global(o.callable),
            args: tuple(o.args).unwrap_or(&[]),
            kwargs: &[],
            state: o.state,
            attributes: &[],
            slots: &[],
            custom_state: false,
            list_items: &o.list_items,
            dict_items: &o.dict_items,
            state_setter: o.state_setter,
        };
        let copyreg = |name: &str| this.class.is_some_and(|g| g.module == "copyreg" && g.name == name);
        if copyreg("__newobj__") {
            if let Some((&cls, rest)) = this.args.split_first() {
                (this.class, this.args) = (global(cls), rest);
            }
        } else if copyreg("__newobj_ex__") {
            if let &[cls, args, kwargs] = this.args {
                this.class = global(cls);
                this.args = tuple(args).unwrap_or(&[]);
                this.kwargs = dict(kwargs).unwrap_or(&[]);
            }
        } else if copyreg("_reconstructor") {
            if let &[cls, base, ref base_state] = this.args {
                this.class = global(cls);
                this.args = &[];
                let base = global(base).filter(|g| g.module == "builtins").map(|g| g.name.as_str());
                match (base, obj(*base_state)) {
                    (_, None) if *base_state == Item::None => {}
                    (Some("object"), _) => {}
                    (Some("tuple"), Some(Obj::Tuple(items))) => this.args = items,
                    (Some("list"), Some(Obj::List(items))) if this.list_items.is_empty() => this.list_items = items,
                    (Some("dict"), Some(Obj::Dict(pairs))) if this.dict_items.is_empty() => this.dict_items = pairs,
                    _ => this.args = std::slice::from_ref(base_state),
                }
            }
        } else if let Some(Obj::Object(partial)) = obj(o.callable) {
            // `functools.partial(cls.__new__, cls, *args, **kwargs)`, called with no arguments:
            // partial's state is `(func, args, kwargs, dict)`.
            let is_partial = global(partial.callable).is_some_and(|g| g.module == "functools" && g.name == "partial");
            let state = partial.state.and_then(tuple);
            if let (true, Some(&[func, pargs, kwargs, _])) = (is_partial, state) {
                if global(func).is_some_and(|g| g.name.ends_with(".__new__")) {
                    if let Some((&cls, rest)) = tuple(pargs).and_then(|a| a.split_first()) {
                        this.class = global(cls);
                        this.args = rest;
                        this.kwargs = dict(kwargs).unwrap_or(&[]);
                    }
                }
            }
        }
        match this.state.map(|s| (s, obj(s))) {
            None | Some((Item::None, _)) => {}
            Some((_, Some(Obj::Dict(pairs)))) => this.attributes = pairs,
            Some((_, Some(Obj::Tuple(pair)))) if pair.len() == 2 => match (pair[0], dict(pair[0]), dict(pair[1])) {
                (Item::None, _, Some(slots)) => this.slots = slots,
                (_, Some(attributes), Some(slots)) => (this.attributes, this.slots) = (attributes, slots),
                _ => this.custom_state = true,
            },
            Some(_) => this.custom_state = true,
        }
        this
    }

    /// The node of the whole object.
    pub fn node(&self) -> Node<'a> {
        self.node
    }

    /// The class the object is an instance of: the class `copyreg.__newobj__` and friends
    /// name, or else the callable when it is a global (for a custom reconstructor, the
    /// function). `None` when the callable is itself a built object.
    pub fn class(&self) -> Option<&'a Global> {
        self.class
    }

    /// Whether [`class`](Instance::class) is `module.name`.
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.class.is_some_and(|g| g.module == module && g.name == name)
    }

    /// What the pickle calls, as it is written (`copyreg.__newobj__`, the class, ...).
    pub fn callable(&self) -> Node<'a> {
        self.node.child(self.callable)
    }

    /// The positional arguments of the class or function, without the class itself.
    pub fn args(&self) -> Items<'a> {
        self.node.items_of(self.args)
    }

    /// The keyword arguments (`copyreg.__newobj_ex__`).
    pub fn kwargs(&self) -> Pairs<'a> {
        self.node.pairs_of(self.kwargs)
    }

    /// The state as written, given to `__setstate__` or the state setter.
    pub fn state(&self) -> Option<Node<'a>> {
        self.state.map(|s| self.node.child(s))
    }

    /// Whether the state is something other than `None`, a dict or `(dict, slots)`: what a
    /// custom `__getstate__` returned.
    pub fn has_custom_state(&self) -> bool {
        self.custom_state
    }

    /// The attributes of the state dict (the instance's `__dict__`).
    pub fn attributes(&self) -> Pairs<'a> {
        self.node.pairs_of(self.attributes)
    }

    /// The attributes of the slot-state dict (`__slots__`).
    pub fn slots(&self) -> Pairs<'a> {
        self.node.pairs_of(self.slots)
    }

    /// The items appended after the call.
    pub fn list_items(&self) -> Items<'a> {
        self.node.items_of(self.list_items)
    }

    /// The pairs set after the call.
    pub fn dict_items(&self) -> Pairs<'a> {
        self.node.pairs_of(self.dict_items)
    }

    /// The state setter, called as `setter(obj, state)` instead of `BUILD`.
    pub fn state_setter(&self) -> Option<Node<'a>> {
        self.state_setter.map(|s| self.node.child(s))
    }
}
