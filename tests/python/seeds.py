"""The Python side of the seed examples: each class pickles the way the seed describes.

Where a seed's Python could not work as written, the class here is the corrected one and
says so.
"""


class SimpleObject:
    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (SimpleObject, (self.value,))


class CustomObject:
    """(cls, (name,), {'data': data}) from protocol 2, (cls, (name, data)) below."""

    def __init__(self, name, data=None):
        self.name = name
        self.data = data

    def __reduce_ex__(self, protocol):
        if protocol >= 2:
            return (CustomObject, (self.name,), {"data": self.data})
        return (CustomObject, (self.name, self.data))


class OptimizedObject:
    """Items streamed as list items from protocol 4.

    The seed passed them as dict items, which CPython rejects ("dict items iterator must
    return 2-tuples"); as list items the class needs `extend`, which the seed lacked.
    """

    def __init__(self, items=()):
        self.items = list(items)

    def extend(self, items):
        self.items.extend(items)

    def __reduce_ex__(self, protocol):
        if protocol >= 4:
            return (OptimizedObject, (), None, iter(self.items))
        return (OptimizedObject, (self.items,))


class DatabaseConnection:
    """Only the connection string is pickled; __init__ reconnects."""

    def __init__(self, connection_string):
        self.connection_string = connection_string
        self.connection = ("connected to", connection_string)

    def __reduce__(self):
        return (DatabaseConnection, (self.connection_string,))


def reconstruct_complex(x, y):
    return ComplexObject(x, y)


class ComplexObject:
    """Rebuilt by a module-level function, which recomputes `sum`."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.sum = x + y

    def __reduce__(self):
        return (reconstruct_complex, (self.x, self.y))


class Wrapper:
    def __reduce__(self):
        return "SPAM"


SPAM = Wrapper()


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (Point, (self.x, self.y))


class FrozenPoint:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (FrozenPoint, (0, 0), {"x": self.x, "y": self.y})

    def __setstate__(self, state):
        self.x, self.y = state["x"], state["y"]


class Node:
    """The seed's Node had no `append`, so CPython could not load it; this one has."""

    def __init__(self, value, children):
        self.value = value
        self.children = children

    def append(self, child):
        self.children.append(child)

    def __reduce__(self):
        return (Node, (self.value, []), None, iter(self.children), None)


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y


class Scaled:
    """__getnewargs_ex__: NEWOBJ_EX from protocol 4, functools.partial at 2 and 3."""

    def __new__(cls, value, *, scale=1):
        return super().__new__(cls)

    def __init__(self, value, *, scale=1):
        self.value = value
        self.scale = scale

    def __getnewargs_ex__(self):
        return ((self.value,), {"scale": self.scale})


def place(obj, state):
    obj.position = state


class Placed:
    def __init__(self, position):
        self.position = position

    def __reduce__(self):
        return (Placed, (), self.position, None, None, place)


class SelfRef:
    """Refers to itself: object.__reduce_ex__ with the instance in its own state."""

    def __init__(self, name):
        self.name = name
        self.me = self


class MemoRecord:
    def __init__(self, key, task):
        self.key = key
        self.task = task
