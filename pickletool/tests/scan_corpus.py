"""The benign half of `pickletool scan`'s corpus: pickles the real CPython, numpy and torch write.

It exists so that the scanner's "no false positives" claim is checked against what the real
libraries write, not against pickles written by hand. Nothing here loads a pickle it did not
write itself.

    scan_corpus.py stdlib DIR   (any python3) stdlib containers, datetimes, decimals, ... at
                                every protocol, one pickle per file, and several in one stream
    scan_corpus.py numpy DIR    (a python with numpy) arrays of several dtypes at every
                                protocol, np.save of an object array (.npy), np.savez (.npz)
    scan_corpus.py torch DIR    (a python with torch) checkpoints torch writes: a state dict
                                (ZIP), the legacy format, a training checkpoint; each is
                                checked to load under torch.load(weights_only=True)
    scan_corpus.py joblib DIR   (a python with joblib and numpy) what joblib.dump writes: arrays
                                inline in the pickle, zlib-compressed, and an object whose
                                __reduce__ names os.system (written, never loaded): the
                                fixtures in tests/fixtures/scan/ were made so
    scan_corpus.py sklearn DIR  (a python with scikit-learn and joblib) fitted models, by
                                pickle.dump and by joblib.dump: the fixtures in
                                tests/fixtures/scan/ were made so (scikit-learn 1.9.1)
    scan_corpus.py bulk DIR N   (a python with numpy) N pickles of the sizes real ones have, for
                                bench/scan_compare.py's speed test: lists of records, arrays,
                                state dicts of arrays, stdlib objects, object arrays
    scan_corpus.py witness FILE...
                                the globals CPython's own unpickler asks `find_class` for in
                                each file, as JSON {file: [[module, name], ...]}: the loader
                                runs with every global replaced by an inert stub, so nothing
                                the pickle names is imported or called
"""

import collections
import datetime
import decimal
import fractions
import io
import os
import pathlib
import pickle
import sys
import uuid


def stdlib_objects():
    utc = datetime.timezone.utc
    return {
        "containers": {"list": [1, 2.5, None, True], "tuple": (1, (2, 3)), "set": {1, 2}, "frozenset": frozenset({3}),
                       "bytes": b"\x00\xff", "bytearray": bytearray(b"ab"), "str": "h\u00e9llo", "big": 2**100},
        "ordered": collections.OrderedDict([("a", 1), ("b", [1, 2])]),
        "defaultdict": collections.defaultdict(list, {"k": [1]}),
        "deque": collections.deque([1, 2, 3]),
        "counter": collections.Counter("hello"),
        "datetimes": [datetime.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=utc), datetime.date(2020, 1, 2),
                      datetime.time(1, 2, 3), datetime.timedelta(days=3, seconds=4)],
        "decimal": decimal.Decimal("3.14159"),
        "fraction": fractions.Fraction(1, 3),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "path": pathlib.PurePosixPath("/tmp/x"),
        "complex": complex(1, 2),
        "range_slice": [range(1, 10, 2), slice(1, 2, 3)],
        "shared": (lambda l: [l, l])([1, 2]),
    }


def stdlib(out):
    for name, obj in stdlib_objects().items():
        for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
            with open(os.path.join(out, f"{name}_p{protocol}.pkl"), "wb") as f:
                pickle.dump(obj, f, protocol)
    with open(os.path.join(out, "stream_of_three.pkl"), "wb") as f:
        for protocol in (0, 2, 4):
            pickle.dump(stdlib_objects()["ordered"], f, protocol)


def numpy(out):
    import numpy as np

    arrays = {
        "float64": np.arange(12, dtype=np.float64).reshape(3, 4),
        "int8": np.array([1, -2, 3], dtype=np.int8),
        "bool": np.array([True, False]),
        "fortran": np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        "structured": np.zeros(2, dtype=[("x", "<i4"), ("y", "<f8")]),
        "datetime64": np.array(["2020-01-01"], dtype="datetime64[D]"),
        "unicode": np.array(["ab", "c"]),
        "objects": np.array([1, "two", None], dtype=object),
        "scalar": np.float64(2.5),
        "dtype": np.dtype("<f4"),
    }
    for name, obj in arrays.items():
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            with open(os.path.join(out, f"np_{name}_p{protocol}.pkl"), "wb") as f:
                pickle.dump(obj, f, protocol)
    np.save(os.path.join(out, "np_objects.npy"), np.array([1, "two", (3, 4)], dtype=object), allow_pickle=True)
    np.save(os.path.join(out, "np_plain.npy"), np.arange(5))
    np.savez(os.path.join(out, "np_archive.npz"), a=np.arange(3), b=np.array([{"k": 1}, None], dtype=object))


def torch(out):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    checkpoints = {
        "torch_state_dict.pt": (model.state_dict(), {}),
        "torch_legacy.pt": (model.state_dict(), {"_use_new_zipfile_serialization": False}),
        "torch_training.pt": ({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, {}),
    }
    for name, (obj, kwargs) in checkpoints.items():
        path = os.path.join(out, name)
        torch.save(obj, path, **kwargs)
        torch.load(path, weights_only=True)  # torch itself calls it safe


class Evil:
    """Pickles as a call of os.system; never loaded here."""

    def __reduce__(self):
        return (os.system, ("id",))


def joblib(out):
    import joblib as jl
    import numpy as np

    arrays = {"f8": np.arange(5, dtype=np.float64), "objects": np.array([1, "x"], dtype=object),
              "i4": np.ones((2, 2), dtype=np.int32), "U": np.array(["ab", "c"]),
              "M8": np.array(["2020-01-01"], dtype="datetime64[D]"),
              "structured": np.zeros(2, dtype=[("x", "<i4"), ("y", "<f8")])}
    jl.dump(arrays, os.path.join(out, "joblib_arrays.joblib"))
    jl.dump(arrays, os.path.join(out, "joblib_zlib.joblib"), compress=3)
    small = {"f8": arrays["f8"], "objects": arrays["objects"]}
    for codec in ["bz2", "lzma", "xz"]:
        jl.dump(small, os.path.join(out, f"joblib_{codec}.joblib"), compress=(codec, 3))
    jl.dump({"a": np.arange(5, dtype=np.float64), "evil": Evil()}, os.path.join(out, "joblib_os_system.joblib"))


def sklearn(out):
    import joblib as jl
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.RandomState(0)
    x = rng.rand(40, 3)
    y = (x[:, 0] > 0.5).astype(int)
    models = {
        "linear": LinearRegression().fit(x, x[:, 1]),
        "tree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y),
        "forest": RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(x, y),
        "pipeline": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y),
        "kmeans": KMeans(n_clusters=2, n_init=2, random_state=0).fit(x),
    }
    for name, model in models.items():
        with open(os.path.join(out, f"sklearn_{name}.pkl"), "wb") as f:
            pickle.dump(model, f, 5)
        jl.dump(model, os.path.join(out, f"sklearn_{name}.joblib"))


def bulk(out, n):
    import random

    import numpy as np

    rng = random.Random(42)
    objects = stdlib_objects()
    makers = [
        lambda: ([{"id": i, "name": f"n{i}", "score": rng.random(), "tags": ["a", "b"]} for i in range(2000)], 4),
        lambda: (np.arange(4096, dtype=np.float64).reshape(64, 64) * rng.random(), 4),
        lambda: (collections.OrderedDict((f"layer{i}.weight", np.ones((32, 32), dtype=np.float32)) for i in range(10)), 2),
        lambda: (objects, 2),
        lambda: (np.array([f"s{i}" for i in range(500)], dtype=object), 4),
    ]
    for i in range(n):
        obj, protocol = makers[i % len(makers)]()
        with open(os.path.join(out, f"bulk_{i:05d}.pkl"), "wb") as f:
            pickle.dump(obj, f, protocol)


class Stub:
    """Whatever a global would be: callable, with any attribute and item, doing nothing."""

    def __init__(self, path):
        object.__setattr__(self, "_path", path)

    def __call__(self, *args, **kwargs):
        return Stub(self._path + "()")

    def __getattr__(self, name):
        return Stub(f"{self._path}.{name}")

    def __setattr__(self, name, value):
        pass

    def __setitem__(self, key, value):
        pass


class Witness(pickle._Unpickler):
    """CPython's pure-Python unpickler, whose `find_class` notes the name and gives a stub."""

    def __init__(self, file, asked):
        super().__init__(file, encoding="latin1")
        self.asked = asked

    def find_class(self, module, name):
        import _compat_pickle

        if self.proto < 3 and self.fix_imports:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.asked.append([module, name])
        return Stub(f"{module}.{name}")

    def persistent_load(self, pid):
        return Stub("persistent")


def witness(paths):
    import json

    out = {}
    for path in paths:
        asked = []
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            try:
                while f.tell() < size:  # several pickles in one stream: load after load
                    Witness(f, asked).load()
            except Exception:
                pass  # what it asked for before failing stays
        out[os.path.basename(path)] = asked
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "witness":
        witness(sys.argv[2:])
        sys.exit(0)
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if kind == "bulk":
        bulk(out, int(sys.argv[3]))
        sys.exit(0)
    {"stdlib": stdlib, "numpy": numpy, "torch": torch, "joblib": joblib, "sklearn": sklearn}[kind](out)
