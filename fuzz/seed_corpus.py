"""Writes a seed corpus for the `decode` fuzz target: pickles that CPython writes.

    python3 fuzz/seed_corpus.py [fuzz/corpus/decode]

Each value below is pickled at protocols 0-5 with the C pickler (and, for a few, with the
pure-Python pickler, which frames and batches differently) and written as one file named
after its content hash, so rerunning is idempotent. The corpus is not committed.
"""
import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import hashlib
import os
import pickle
import sys
import uuid


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: list


class Slots:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1
        self.b = "two"

    def __getstate__(self):
        return (None, {"a": self.a, "b": self.b})

    def __setstate__(self, state):
        for k, v in state[1].items():
            setattr(self, k, v)


class WithList(list):
    pass


class WithDict(dict):
    pass


def values():
    shared = [1, 2, 3]
    cyclic = []
    cyclic.append(cyclic)
    cyclic_dict = {}
    cyclic_dict["self"] = cyclic_dict
    nested = []
    for _ in range(50):
        nested = [nested]
    wl = WithList([1, 2])
    wl.attr = "x"
    wd = WithDict(a=1)
    yield None
    yield True
    yield False
    yield 0
    yield 1
    yield -1
    yield 255
    yield 256
    yield 65535
    yield 65536
    yield 2**31 - 1
    yield -(2**31)
    yield 2**63
    yield -(2**64) - 1
    yield 10**100
    yield -(2**2000)
    yield 3.5
    yield -0.0
    yield float("inf")
    yield float("nan")
    yield 1e-310
    yield ""
    yield "a"
    yield "hello world"
    yield "caf\u00e9 \u6f22\u5b57 \U0001f600"
    yield "lone \udc80 surrogate"
    yield "back\\slash\nnewline\r\x00\x1a"
    yield b""
    yield b"\x00"
    yield b"\x00\x01\xff" * 100
    yield bytearray(b"abc")
    yield bytearray()
    yield ()
    yield (1,)
    yield (1, 2)
    yield (1, 2, 3)
    yield (1, 2, 3, 4)
    yield []
    yield list(range(1001))
    yield {}
    yield {"a": 1, 2: "b", (1, 2): [3]}
    yield {i: str(i) for i in range(1001)}
    yield set()
    yield {1, 2, 3}
    yield frozenset()
    yield frozenset({"x", "y"})
    yield set(range(1000))
    tag = "tagx"
    utc = datetime.timezone.utc
    yield [(datetime.datetime(2024, 1, 2, 3, 4, 5, i, tzinfo=utc), decimal.Decimal(i).scaleb(-2)) for i in range(3)]
    yield [{"id": 1, "name": tag, "tags": [tag, "other"]}, {"id": 2, "name": "other", "tags": [tag]}]
    yield [{1}, set(), {2, 3}]
    # Objects the typed path hands to the general loader among those it reads itself: a
    # reduction among atoms, one fetching a str read before it, classes met again by GET.
    od = collections.OrderedDict
    yield [1, od(a=1), "x", 2**70, (7, od(b=tag)), {"id": 3, "extra": od(c=[tag])}]
    yield [{"id": i, "extra": od(k=i)} for i in range(3)]
    yield [(i, fractions.Fraction(i, 7), tag) for i in range(3)]
    yield ({"a"}, frozenset({"b"}))
    yield [shared, shared, (shared,)]
    yield cyclic
    yield cyclic_dict
    yield nested
    yield ("x" * 3000, b"y" * 3000)
    yield collections.OrderedDict([("a", 1), ("b", 2)])
    yield collections.deque([1, 2, 3])
    yield collections.Counter("abracadabra")
    yield collections.defaultdict(list, {"k": [1]})
    yield datetime.datetime(2020, 1, 2, 3, 4, 5, 6)
    yield datetime.date(1999, 12, 31)
    yield datetime.timedelta(days=1, seconds=2)
    yield datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)
    yield decimal.Decimal("3.14159")
    yield fractions.Fraction(1, 3)
    yield complex(1, -2)
    yield uuid.UUID(int=0x1234567890ABCDEF)
    yield Color.GREEN
    yield Point(1, 2.5, ["a", "b"])
    yield Slots()
    yield wl
    yield wd
    yield range(1, 10, 2)
    yield slice(1, None, 3)
    yield len
    yield int
    yield type(None)
    yield NotImplemented
    yield Ellipsis
    yield pickle.PickleBuffer(b"abc")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "decode"
    )
    os.makedirs(out, exist_ok=True)
    written = 0
    for i, value in enumerate(values()):
        for protocol in range(6):
            picklers = [pickle.dumps]
            if i % 4 == 0:
                picklers.append(pickle._dumps)
            for dump in picklers:
                try:
                    data = dump(value, protocol)
                except Exception:  # noqa: BLE001 - e.g. PickleBuffer below protocol 5
                    continue
                name = hashlib.sha1(data).hexdigest()
                with open(os.path.join(out, name), "wb") as f:
                    f.write(data)
                written += 1
    print(f"wrote {written} pickles to {out}")


if __name__ == "__main__":
    main()
