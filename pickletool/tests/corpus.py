"""The corpus pickletool's CLI tests compare against: pickles CPython writes, and broken ones.

It exists so that the tests in cli.rs assert against the real `pickletools` of the CPython
on the machine rather than against listings copied by hand. `gen DIR` writes each pickle as
DIR/NAME.pkl with what pickletools makes of it beside it: NAME.dis (the listing, as
`python3 -m pickletools` prints it, partial where it raises), NAME.dis-a (with --annotate),
NAME.dis-l1 (--indentlevel 1), NAME.opt (`pickletools.optimize`, absent where it raises) and
NAME.fails (present where dis raises), and for objects of builtin types only, NAME.repr
(`repr(pickle.loads(data))`, which `pickletool show` prints), and for every pickle NAME.json
(what `pickletool show --json` prints, from show_json.py). `check DIR` loads every NAME.ours-opt next to NAME.pkl
and exits non-zero, naming it, where the two do not load to equal objects (a NAME.pkl
that does not load is skipped).
"""

import collections
import datetime
import decimal
import fractions
import io
import os
import pickle
import pickletools
import sys

import show_json


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __eq__(self, other):
        return type(other) is Slotted and (self.a, self.b) == (other.a, other.b)


class Keyword:
    def __new__(cls, *, name):
        self = object.__new__(cls)
        self.name = name
        return self

    def __getnewargs_ex__(self):
        return (), {"name": self.name}

    def __eq__(self, other):
        return type(other) is Keyword and self.name == other.name


def objects():
    shared = [1, 2, 3]
    text = "shared text"
    recursive = [0]
    recursive.append(recursive)
    cyclic = {"name": "node"}
    cyclic["self"] = cyclic
    point = Point(1, shared)
    return {
        "none": None,
        "bools": [True, False],
        "small_ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1],
        "large_ints": [2**63, -2**63 - 1, 2**64, 10**100, -(10**200)],
        "floats": [0.0, -0.0, 1.5, 1e300, float("inf"), float("-inf"), 1 / 3],
        "strings": ["", "a", "é", "€uro", "\U0001f600", "line\nbreak", "quote'\"\\", "\ud800 lone", "unassigned \u0378 \U0001ffc0"],
        "bytes": [b"", b"\x00", b"abc", bytes(range(256))],
        "bytearray": bytearray(b"mutable"),
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "nested": {"a": [1, {"b": (2, [3, {"c": None}])}]},
        "memo_sharing": [shared, shared, (shared, shared), text, text],
        "recursive_list": recursive,
        "cyclic_dict": cyclic,
        "recursive_tuple": (recursive, recursive),
        "sets": [set(), {1, 2, 3}, frozenset(), frozenset({"x", "y"})],
        "dict_keys": {1: "int", 1.5: "float", (1, 2): "tuple", "s": "str", None: "none"},
        "long_list": list(range(2500)),
        "long_dict": {i: str(i) for i in range(1200)},
        "long_set": set(range(1100)),
        "large_frame": [bytes(70000), "x" * 70000, b"small"],
        "many_frames": [str(i) * 40 for i in range(5000)],
        "instances": [point, point, Point("a", None)],
        "slots": Slotted(1, [2]),
        "keyword_new": Keyword(name="k"),
        "stdlib": [datetime.datetime(2024, 1, 2, 3, 4, 5), decimal.Decimal("1.25"),
                   fractions.Fraction(1, 3), collections.OrderedDict(a=1)],
        "complex": [1 + 2j],
        "globals": [len, Point, pickle.dumps],
        "many_memo": [[i] for i in range(300)] * 2,
        "empty_containers": [[], {}, (), set(), "", b""],
    }


# The objects whose repr is Python syntax all the way down: no classes, globals or reductions
# of the standard library, which `pickletool show` prints as calls, not as their repr.
BUILTIN = {
    "none", "bools", "small_ints", "large_ints", "floats", "strings", "bytes", "bytearray",
    "tuples", "nested", "memo_sharing", "recursive_list", "cyclic_dict", "recursive_tuple",
    "sets", "dict_keys", "long_list", "long_dict", "long_set", "many_memo", "empty_containers",
}

# The objects of builtin types only, whose expected JSON comes from `pickle.loads`.
ONLY_BUILTIN_TYPES = BUILTIN | {"large_frame", "many_frames"}


def malformed(good):
    """Broken pickles: cut short, a byte that is no opcode, and ones pickletools' checks fail."""
    cases = {
        "empty": b"",
        "no_stop": b"\x80\x02N",
        "bad_opcode": b"\x80\x02]\xffq\x00.",
        "bad_proto": b"\x80\x07N.",
        "get_before_put": b"\x80\x02h\x05.",
        "put_twice": b"\x80\x02]q\x00]q\x00\x86.",
        "no_mark": b"\x80\x02K\x01e.",
        "underflow": b"\x80\x02\x86.",
        "stack_left": b"\x80\x02K\x01K\x02.",
        "mark_in_memo": b"(q\x00.",
        "put_on_empty": b"p0\n.",
        "bad_string": b"S'abc\n.",
        "bad_utf8": b"X\x02\x00\x00\x00\xff\xfe.",
        "short_frame_arg": b"\x80\x04\x95\x10\x00",
        "bad_int_line": b"Ixyz\n.",
        "global_not_ascii": b"c__m\xe9in__\nX\n.",
        "global_escaped": b"cmod\\x41\nB\\\\\n.",
        "string_not_ascii": b"S'\\xe9'\n.",
        "persid_not_ascii": b"P\xff\n.",
        "mark_popped_as_item": b"](al.",
        "float_overflows": b"(F1e999\nF-1e999\nt.",
        "text_get_before_put": b"(lp0\ng5\na.",
    }
    for name in ("nested", "strings", "instances", "large_ints"):
        for protocol in (0, 2, 4):
            data = good[(name, protocol)]
            for cut in (len(data) // 3, len(data) // 2, len(data) - 1):
                cases[f"cut_{name}_p{protocol}_{cut}"] = data[:cut]
    return cases


def listing(data, **options):
    out = io.StringIO()
    try:
        pickletools.dis(data, out, None, **options)
        return out.getvalue(), False
    except Exception:
        return out.getvalue(), True


def write_case(directory, name, data):
    base = os.path.join(directory, name)
    with open(base + ".pkl", "wb") as f:
        f.write(data)
    text, fails = listing(data)
    for suffix, options in ((".dis", {}), (".dis-a", {"annotate": 30}), (".dis-l1", {"indentlevel": 1})):
        with open(base + suffix, "w", encoding="utf-8") as f:
            f.write(listing(data, **options)[0])
    if fails:
        open(base + ".fails", "w").close()
    try:
        optimized = pickletools.optimize(data)
    except Exception:
        return
    with open(base + ".opt", "wb") as f:
        f.write(optimized)


def gen(directory):
    good = {}
    for name, value in objects().items():
        for protocol in range(6):
            try:
                good[(name, protocol)] = pickle.dumps(value, protocol)
            except TypeError:
                pass  # __slots__ and keyword-only __new__ need protocol 2

    for (name, protocol), data in good.items():
        write_case(directory, f"{name}_p{protocol}", data)
        if name in BUILTIN:
            with open(os.path.join(directory, f"{name}_p{protocol}.repr"), "w", encoding="utf-8") as f:
                f.write(repr(pickle.loads(data)) + "\n")
        show_json.write_expected(directory, f"{name}_p{protocol}", data, name in ONLY_BUILTIN_TYPES)
    for name, data in malformed(good).items():
        write_case(directory, f"bad_{name}", data)
    shared_memo(directory)


def shared_memo(directory):
    """Three pickles one Pickler wrote with one memo, for `--memo`: the later ones GET what
    the first PUT."""
    shared = ["shared", 1]
    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, 2)
    for i, value in enumerate([shared, [shared, 2], {"again": shared}]):
        pickler.dump(value)
        with open(os.path.join(directory, f"memo{i}.pickle"), "wb") as f:
            f.write(stream.getvalue())
        stream.seek(0)
        stream.truncate()


def same(a, b):
    try:
        return a == b
    except RecursionError:
        return repr(a) == repr(b)


def check(directory):
    bad = []
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".ours-opt"):
            continue
        base = os.path.join(directory, entry[: -len(".ours-opt")])
        try:
            with open(base + ".pkl", "rb") as f:
                original = pickle.load(f)
        except Exception:
            continue  # a broken pickle pickletools optimizes all the same
        with open(base + ".ours-opt", "rb") as f:
            optimized = pickle.load(f)
        if not same(original, optimized):
            bad.append(entry)
    if bad:
        sys.exit("optimized pickles load differently: " + ", ".join(bad))


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
