"""The JSON `pickletool show --json` must print, computed by CPython from the same pickle.

It exists so that cli.rs checks `show --json` against CPython's own reading of each pickle,
not against JSON written by hand or by our code. For objects of builtin types the expected
JSON is `reference(pickle.loads(data))`: a converter that mirrors the mapping `pickletool
show --help` documents (a tagged object per value, ints as decimal strings, bytes as base64,
lone surrogates as code points, an object reached twice written once with an "id" and then
as {"ref": id}). For other objects nothing may run, so `MarkerUnpickler` (CPython's own
pure-Python unpickler, with `find_class` returning inert marker classes) reads the pickle and
records each call, its args, state and items, as the pickle states them.

corpus.py's `gen` calls `write_expected` for each corpus pickle (in the process that wrote
it, so sets list their items in the same order). `gen DIR` writes more pickles, with their
expected JSON beside them: NaN, lone surrogates, a reduction with args, state and items,
persistent ids.
"""

import _compat_pickle
import base64
import codecs
import io
import json
import math
import os
import pickle
import sys


class Marker(type):
    """A global the pickle names, standing for it: nothing is imported."""


def marker(module, name):
    return Marker(name, (), {"module_": module, "name_": name})


def nested(parent, attr):
    """`builtins.getattr(cls, "Inner")`: how CPython writes a nested qualname below protocol 4."""
    return marker(parent.module_, f"{parent.name_}.{attr}")


# What pickle-core rebuilds as builtins rather than keep as calls (`rebuild_builtin`): these
# are called for real, everything else becomes a marker.
REAL = {
    ("_codecs", "encode"): codecs.encode,
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "getattr"): nested,
}


class Call:
    """An object built by calling `callable(*args)`, then given state and items."""

    def __init__(self, callable, args):
        self.callable, self.args = callable, args
        self.state, self.has_state = None, False
        self.list_items, self.dict_items = [], []

    def __setstate__(self, state):
        self.state, self.has_state = state, True

    def append(self, item):
        self.list_items.append(item)

    def extend(self, items):
        self.list_items.extend(items)

    def __setitem__(self, key, value):
        self.dict_items.append((key, value))


class Persistent:
    def __init__(self, pid):
        self.pid = pid


class MarkerUnpickler(pickle._Unpickler):
    """CPython's pure-Python unpickler, recording calls instead of making them."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file):
        super().__init__(file)
        self.newobj = {}

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return REAL.get((module, name)) or marker(module, name)

    def persistent_load(self, pid):
        return Persistent(pid)

    def copyreg(self, name):
        """The one `copyreg.__newobj__` (or `__newobj_ex__`) global NEWOBJ's objects share."""
        if name not in self.newobj:
            self.newobj[name] = marker("copyreg", name)
        return self.newobj[name]

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        real = any(func is f for f in REAL.values())
        self.stack[-1] = func(*args) if real else Call(func, args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(Call(self.copyreg("__newobj__"), (cls, *args)))

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(Call(self.copyreg("__newobj_ex__"), (cls, args, kwargs)))

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex


def inert_loads(data):
    return MarkerUnpickler(io.BytesIO(data)).load()


def has_identity(x):
    """Whether `x` is an object whose sharing the pickle states: not the atoms, which are
    never memoized, nor the empty tuple, which is one object in CPython however written."""
    return not (x is None or type(x) in (bool, int, float) or (type(x) is tuple and not x))


def children(x):
    if type(x) in (tuple, list, set, frozenset):
        return list(x)
    if type(x) is dict:
        return [y for pair in x.items() for y in pair]
    if isinstance(x, Call):
        items = [y for pair in x.dict_items for y in pair]
        return [x.callable, x.args, *([x.state] if x.has_state else []), *x.list_items, *items]
    if isinstance(x, Persistent):
        return [x.pid]
    return []


def count_references(root):
    counts, pending = {}, [root]
    while pending:
        x = pending.pop()
        if has_identity(x):
            counts[id(x)] = counts.get(id(x), 0) + 1
            if counts[id(x)] > 1:
                continue
        pending.extend(children(x))
    return counts


def reference(root):
    """The JSON form of `root`, as `pickletool show --json` documents it."""
    counts, ids = count_references(root), {}

    def convert(x):
        if has_identity(x) and id(x) in ids:
            return {"ref": ids[id(x)]}
        tagged = atom(x)
        if tagged is None:
            tagged = {"type": type_tag(x)}
            if counts.get(id(x), 0) > 1:
                ids[id(x)] = tagged["id"] = len(ids)
            tagged.update(inside(x))
        elif has_identity(x) and counts.get(id(x), 0) > 1:
            ids[id(x)] = len(ids)
            tagged = {"type": tagged["type"], "id": ids[id(x)], **tagged}
        return tagged

    def inside(x):
        if isinstance(x, Call):
            return {
                "callable": convert(x.callable),
                "args": convert(x.args),
                "state": convert(x.state) if x.has_state else None,
                "list_items": [convert(i) for i in x.list_items],
                "dict_items": [[convert(k), convert(v)] for k, v in x.dict_items],
                "state_setter": None,
            }
        if isinstance(x, Persistent):
            return {"value": convert(x.pid)}
        if type(x) is dict:
            return {"items": [[convert(k), convert(v)] for k, v in x.items()]}
        return {"items": [convert(i) for i in x]}

    return convert(root)


def type_tag(x):
    if isinstance(x, Call):
        return "object"
    if isinstance(x, Persistent):
        return "persistent_id"
    return type(x).__name__


def atom(x):
    """The tagged form of a value with nothing inside it, or None for containers."""
    if x is None:
        return {"type": "none"}
    if type(x) is bool:
        return {"type": "bool", "value": x}
    if type(x) is int:
        return {"type": "int", "value": str(x)}
    if type(x) is float:
        return {"type": "float", "value": x if math.isfinite(x) else repr(x)}
    if type(x) is str:
        if any(0xD800 <= ord(c) <= 0xDFFF for c in x):
            return {"type": "str", "code_points": [ord(c) for c in x]}
        return {"type": "str", "value": x}
    if type(x) in (bytes, bytearray):
        return {"type": type(x).__name__, "base64": base64.b64encode(x).decode("ascii")}
    if isinstance(x, Marker):
        return {"type": "global", "module": x.module_, "name": x.name_}
    return None


def write_expected(directory, name, data, builtin):
    """NAME.json: the expected JSON of the pickle `data`, from CPython's `pickle.loads` for
    objects of builtin types, from `MarkerUnpickler` for the others."""
    value = pickle.loads(data) if builtin else inert_loads(data)
    with open(os.path.join(directory, name + ".json"), "w", encoding="ascii") as f:
        json.dump(reference(value), f)


class Reduced:
    """A class whose `__reduce__` gives all five parts: callable, args, state, items, pairs."""

    def __reduce__(self):
        return (Reduced, (1, "two"), {"three": 3}, iter([4]), iter([("five", 5)]))


class External:
    def __init__(self, key):
        self.key = key


class PersistentPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.key if isinstance(obj, External) else None


def extras():
    """More objects for `show --json`: name -> (object, whether only of builtin types)."""
    key = (1, "k")
    surrogates = "a\ud800b\udfffc"
    return {
        "floats": ([float("nan"), -0.0, 0.0, 1e16, 1e-05, 5e-324, float("-inf"), 0.1], True),
        "surrogates": (["\udcff", surrogates, surrogates, "\ud83d\ude00", "\U0001f600"], True),
        "shared_key": ({key: [key], 2**100: -(2**64)}, True),
        "reduced": ([Reduced(), Reduced()], False),
        "persistent": ([External("ext:a"), External("ext:a"), External("ext:b")], False),
    }


def gen(directory):
    for name, (value, builtin) in extras().items():
        for protocol in range(6):
            stream = io.BytesIO()
            PersistentPickler(stream, protocol).dump(value)
            data = stream.getvalue()
            with open(os.path.join(directory, f"{name}_p{protocol}.pkl"), "wb") as f:
                f.write(data)
            write_expected(directory, f"{name}_p{protocol}", data, builtin)


if __name__ == "__main__":
    {"gen": gen}[sys.argv[1]](sys.argv[2])
