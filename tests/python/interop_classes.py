"""Python classes for the interop tests, one per shape of `__reduce_ex__`.

Importable by CPython when the tests run (tests/common/cpython.py puts this directory on
sys.path), so pickles of their instances name `interop_classes.<Class>`.
"""
import copyreg


class Plain:
    """No custom reduce: object.__reduce_ex__ (copyreg._reconstructor below protocol 2)."""

    def __init__(self, a=1, b=None):
        self.a = a
        self.b = [1, 2] if b is None else b

    def __eq__(self, other):
        return type(other) is type(self) and vars(self) == vars(other)

    def __repr__(self):
        return f"Plain({self.a!r}, {self.b!r})"


class Slotted:
    """__slots__ only: state (None, {slots}) from protocol 2, refused below."""

    __slots__ = ("x", "y")

    def __init__(self, x=1, y="two"):
        self.x = x
        self.y = y


class SlottedWithDict:
    """Both: state ({dict}, {slots})."""

    __slots__ = ("x", "__dict__")

    def __init__(self):
        self.x = 1
        self.extra = "e"


class Point:
    """__reduce__ returning (cls, args)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (Point, (self.x, self.y))


class WithState:
    """(cls, (), state) with __setstate__."""

    def __init__(self, data=None):
        self.data = data

    def __reduce__(self):
        return (WithState, (), {"data": self.data})

    def __setstate__(self, state):
        self.data = state["data"]


class Bag:
    """List items: (cls, (), None, iterator), rebuilt with extend."""

    def __init__(self, items=()):
        self.items = list(items)

    def extend(self, items):
        self.items.extend(items)

    def append(self, item):
        self.items.append(item)

    def __reduce__(self):
        return (Bag, (), None, iter(self.items))


class Registry(dict):
    """Dict items: a dict subclass reduced with (cls, (), state, None, items)."""


class KwOnly:
    """__getnewargs_ex__: NEWOBJ_EX from protocol 4."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self.args, self.kwargs = args, kwargs
        return self

    def __getnewargs_ex__(self):
        return (self.args, self.kwargs)


def set_position(obj, state):
    obj.position = state


class Placed:
    """A state setter: the 6th item of the reduce tuple."""

    def __init__(self, position=(0, 0)):
        self.position = position

    def __reduce__(self):
        return (Placed, (), self.position, None, None, set_position)


class Node:
    """Refers to itself through its state."""

    def __init__(self, value):
        self.value = value
        self.children = [self]
