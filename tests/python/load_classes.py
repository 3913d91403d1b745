"""Python classes without custom reductions, as real code writes them, for the typed-loading
tests (tests/derive_reconstruct.rs): CPython pickles them with object.__reduce_ex__ and
friends, and Rust loads them into derived structs."""
import collections
import dataclasses
import enum


class Account:
    """A plain class: copyreg._reconstructor below protocol 2, __newobj__ from 2."""

    def __init__(self, owner, balance, history):
        self.owner = owner
        self.balance = balance
        self.history = history


@dataclasses.dataclass
class Measurement:
    sensor: str
    value: float
    tags: list
    account: Account = None


class Vec2:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


Pair = collections.namedtuple("Pair", "left right")


class Tags(list):
    """A list subclass with an attribute: list items and state."""

    def __init__(self, items, owner):
        super().__init__(items)
        self.owner = owner


class Circle:
    def __init__(self, r):
        self.r = r


class Shared:
    def __init__(self, label):
        self.label = label


class Tick:
    """A class whose own __reduce__ calls it with its arguments: REDUCE at every protocol."""

    def __init__(self, venue, seq):
        self.venue = venue
        self.seq = seq

    def __reduce__(self):
        return (Tick, (self.venue, self.seq))
