"""Writes the PyTorch checkpoints of tests/fixtures/torch/ and, beside each, what torch read.

Why: CI has no torch, yet `pickle_core::torch` must read what torch writes exactly. This script
(run by hand, with torch installed in a scratch venv) saves small checkpoints in every container
torch writes, then loads each back with torch and records per tensor its dtype, shape, stride,
storage offset, requires_grad and contiguous bytes in `NAME.json`. The Rust tests compare with
those records only; nothing expected is written by hand.

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python tests/python/make_torch_fixtures.py tests/fixtures/torch

`rust_written.pt` is written by the Rust side (`PICKLE_TORCH_REWRITE=1 cargo test --test
torch_checkpoints the_writer`); this script only records what torch reads from it.

Names are those `pickletool torch ls` prints: joined with dots through dicts (by key) and lists
and tuples (by index).
"""

import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import warnings
import zipfile

import torch
from torch._weights_only_unpickler import _get_allowed_globals

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/torch"


def dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


def contiguous_bytes(t):
    """The tensor's elements in C order, little-endian, as torch holds them on this machine,
    with lazy conjugation and negation applied."""
    c = t.detach().resolve_conj().resolve_neg().clone(memory_format=torch.contiguous_format)
    if c.numel() == 0:
        return b""
    return bytes(c.untyped_storage().tolist())[: c.numel() * c.element_size()]


def flatten(obj, prefix=""):
    """(dotted name, tensor) of every tensor in dicts, lists and tuples, in iteration order,
    and in the state an object pickles with (a module's `__getstate__()`, its `__dict__`)."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, torch.nn.Module):
        yield from flatten(obj.__getstate__(), prefix)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}.{i}" if prefix else str(i))


def record(obj):
    tensors = []
    for name, t in flatten(obj):
        data = contiguous_bytes(t)
        tensors.append(
            {
                "name": name,
                "dtype": dtype_name(t.dtype),
                "shape": list(t.shape),
                "stride": list(t.stride()),
                "storage_offset": t.storage_offset(),
                "requires_grad": t.requires_grad,
                "is_parameter": isinstance(t, torch.nn.Parameter),
                "is_conj": t.is_conj(),
                "is_neg": t.is_neg(),
                "storage_nbytes": t.untyped_storage().nbytes(),
                "data_hex": data.hex(),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return tensors


def container_format(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        return "zip"
    with open(path, "rb") as f:
        return "tar" if f.read(262)[257:262] == b"ustar" else "legacy"


def why(error):
    """The line of torch's refusal that says what it refused (its first line is advice)."""
    lines = str(error).splitlines()
    told = [line.strip() for line in lines if "Unsupported" in line or "unsupported" in line or "Trying" in line]
    return f"{type(error).__name__}: {(told or lines)[0]}"


def write_record(name, protocol, note=""):
    """Loads `name` with torch as `torch.load` would (weights_only first) and writes NAME.json."""
    path = os.path.join(OUT, name + ".pt")
    try:
        loaded = torch.load(path, weights_only=True)
        weights_only_error = None
    except Exception as e:  # recorded, then read without the restriction
        weights_only_error = why(e)
        loaded = torch.load(path, weights_only=False)
    rec = {
        "file": name + ".pt",
        "format": container_format(path),
        "protocol": protocol,
        "torch_version": torch.__version__,
        "weights_only_error": weights_only_error,
        "note": note,
        "tensors": record(loaded),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")


def save(obj, name, protocol=2, legacy=False, note=""):
    path = os.path.join(OUT, name + ".pt")
    torch.save(obj, path, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
    write_record(name, protocol, note)


def values(dtype, n):
    """n small distinct values of `dtype`, built without relying on arithmetic in that dtype."""
    if dtype == torch.bool:
        return torch.tensor([i % 3 == 0 for i in range(n)])
    if dtype.is_complex:
        re = torch.linspace(-2.5, 3.75, n, dtype=torch.float64)
        return torch.complex(re, -re * 0.5).to(dtype)
    if dtype.is_floating_point:
        return torch.linspace(-3.0, 3.0, n, dtype=torch.float32).to(dtype)
    info = torch.iinfo(dtype)
    base = torch.arange(n, dtype=torch.int64) * 37 - 40
    if info.min == 0:
        base = base.abs()
    if dtype in (torch.uint32, torch.uint64, torch.int64):
        base = base + (1 << 30 if dtype == torch.uint32 else 1 << 40)
    return base.to(dtype)


FLOAT8 = [
    getattr(torch, n)
    for n in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")
    if hasattr(torch, n)
]
DTYPES = [
    torch.float64, torch.float32, torch.float16, torch.bfloat16,
    torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
    torch.bool, torch.complex64, torch.complex128,
    torch.uint16, torch.uint32, torch.uint64, torch.complex32,
] + FLOAT8


# Those torch saves as an untyped storage with `_rebuild_tensor_v3`: its legacy loader fails on
# them (`UntypedStorage` has no `dtype`), so the legacy fixtures leave them out.
V3_DTYPES = {torch.uint16, torch.uint32, torch.uint64, torch.complex32, *FLOAT8}


def dtypes_dict(legacy=False):
    return {dtype_name(d): values(d, 6).reshape(2, 3) for d in DTYPES if not (legacy and d in V3_DTYPES)}


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "base": base,
        "row": base[1],  # offset 6
        "col": base[:, 2],  # stride (6,), offset 2
        "transposed": base.t(),  # strides (1, 6)
        "stepped": base[::2, 1::3],  # strides (12, 3), offset 1
        "expanded": torch.arange(3, dtype=torch.int16).expand(4, 3),  # stride (0, 1)
        "scalar": base[2, 5],  # 0-d, offset 17
        "empty": base[4:],  # no elements
        "nested": [base[3, 1:4], (base.t()[2:4],)],
    }


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Flatten()
        )
        self.head = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.layer(x))


def model_and_optimizer():
    torch.manual_seed(0)
    net = TinyNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    return net, opt


def to_big_endian(src, dst, element_sizes):
    """Rewrites a ZIP checkpoint as a big-endian machine would have written it: `byteorder` is
    `big` and storage `data/<key>` has its elements (each half of a complex) byte-swapped."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            folder, _, rest = info.filename.partition("/")
            if rest == "byteorder":
                data = b"big"
            elif rest.startswith("data/") and rest[5:] in element_sizes:
                size = element_sizes[rest[5:]]
                data = b"".join(data[i : i + size][::-1] for i in range(0, len(data), size))
            zout.writestr(info.filename, data)


def tar_checkpoint(obj, path):
    """Writes `obj` in the TAR container of torch before 0.4, which no torch writes any more,
    laid out as torch 2.15's `_legacy_load` reads it: members `sys_info`, `pickle` (tensors
    as int persistent ids), `storages` (a count, then per storage the pickle `(key, location,
    storage class)`, an 8-byte element count and the bytes; then the storage views) and
    `tensors` (a count, then per tensor the pickle `(key, storage key, tensor class)`, ndim as
    int32 and 4 bytes, sizes, strides and the storage offset as int64)."""
    storages, tensors = {}, {}

    class TarPickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, torch.Tensor):
                tensors[id(o)] = o
                storages[o.untyped_storage()._cdata] = o
                return str(id(o))
            return None

    def member(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    main = io.BytesIO()
    TarPickler(main, protocol=2).dump(obj)
    sto = io.BytesIO()
    pickle.dump(len(storages), sto, protocol=2)
    for key, t in storages.items():
        storage_class = getattr(torch, torch.storage._dtype_to_storage_type_map()[t.dtype])
        pickle.dump((key, "cpu", storage_class), sto, protocol=2)
        data = bytes(t.untyped_storage().tolist())
        sto.write(struct.pack("<q", len(data) // t.element_size()) + data)
    pickle.dump([], sto, protocol=2)
    ten = io.BytesIO()
    pickle.dump(len(tensors), ten, protocol=2)
    for key, t in tensors.items():
        pickle.dump((key, t.untyped_storage()._cdata, torch.FloatTensor), ten, protocol=2)
        ten.write(struct.pack("<i", t.dim()) + b"\0" * 4)
        ten.write(struct.pack(f"<{t.dim()}q", *t.shape) + struct.pack(f"<{t.dim()}q", *t.stride()))
        ten.write(struct.pack("<q", t.storage_offset()))
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 8}}
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        member(tar, "sys_info", pickle.dumps(sys_info, protocol=2))
        member(tar, "pickle", main.getvalue())
        member(tar, "storages", sto.getvalue())
        member(tar, "tensors", ten.getvalue())


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def hostile_zip(name, pickle_bytes):
    """A ZIP laid out as torch's, whose data.pkl is `pickle_bytes`; never loaded here."""
    with zipfile.ZipFile(os.path.join(OUT, name + ".pt"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)

    # Every dtype, default ZIP (folder named after the file), protocol 2.
    save(dtypes_dict(), "zip_dtypes_p2")
    # Views of one storage, protocols 4 and 5.
    save(views(), "zip_views_p4", protocol=4)
    save(views(), "zip_views_p5", protocol=5)
    # The ZIP's top-level folder is not the file's name: saved to a buffer, it is `archive`.
    buf = io.BytesIO()
    torch.save({"weight": values(torch.float32, 6).reshape(3, 2)}, buf)
    with open(os.path.join(OUT, "zip_other_folder.pt"), "wb") as f:
        f.write(buf.getvalue())
    write_record("zip_other_folder", 2, "top-level folder `archive`, not the file's stem")
    # The legacy stacked format, protocols 2 and 4.
    save(dtypes_dict(legacy=True), "legacy_dtypes_p2", legacy=True)
    save(views(), "legacy_views_p4", protocol=4, legacy=True)
    # Parameters, a state dict of a small module, an optimizer state dict.
    net, opt = model_and_optimizer()
    params = {
        "trained": torch.nn.Parameter(values(torch.float32, 4)),
        "frozen": torch.nn.Parameter(values(torch.float64, 3), requires_grad=False),
        "leaf": values(torch.float32, 2).requires_grad_(),
    }
    save(params, "zip_parameters")
    save(net.state_dict(), "zip_state_dict", note="an OrderedDict with its _metadata")
    save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "zip_training")
    save({"model": net.state_dict(), "optimizer": opt.state_dict()}, "legacy_training", legacy=True)
    # Lazily conjugated and negated views (metadata), Python state on a tensor
    # (`_rebuild_from_type_v2`) and on a parameter (`_rebuild_parameter_with_state`).
    z = torch.complex(values(torch.float32, 4), values(torch.float32, 4).flip(0))
    with_attr = values(torch.float32, 3)
    with_attr.note = "kept by torch"
    param_attr = torch.nn.Parameter(values(torch.float64, 2))
    param_attr.tag = 7
    # (`neg` views a storage of its own: torch saves no storage under two dtypes.)
    state = {"conj": z.conj(), "neg": z.clone().conj().imag, "with_attr": with_attr, "param_attr": param_attr}
    save(state, "zip_tensor_state", note="conj and neg bits, tensors with Python state")
    # The TAR container of torch before 0.4 (torch refuses it with weights_only=True).
    base = values(torch.float32, 12).reshape(3, 4)
    tar_checkpoint(
        {"weight": base, "row": base[1], "transposed": base.t(), "ids": values(torch.int64, 3), "flags": values(torch.bool, 2)},
        os.path.join(OUT, "tar_views.pt"),
    )
    write_record("tar_views", 2, "written by the script in torch < 0.4's TAR layout; read by torch's own loader")
    # A whole module: refused by weights_only, read by the inert mode.
    save(net, "zip_full_model", note="torch.save(model): its class is a __main__ global")
    # Big-endian: the same tensors, each with its own storage, rewritten as a big-endian
    # machine writes them; torch byte-swaps them on load. Not the v3 dtypes: torch 2.15 swaps
    # an untyped storage as uint8, that is not at all, so it reads their elements unswapped
    # (wrong); there is no torch reading of them to record.
    be = {dtype_name(d): values(d, 6).reshape(2, 3) for d in DTYPES if d not in V3_DTYPES}
    src = os.path.join(OUT, "zip_big_endian.tmp")
    torch.save(be, src)
    sizes = {str(i): (t.element_size() // 2 if t.is_complex() else t.element_size()) for i, t in enumerate(be.values())}
    to_big_endian(src, os.path.join(OUT, "zip_big_endian.pt"), sizes)
    os.remove(src)
    write_record("zip_big_endian", 2, "byteorder `big`, written by zipfile without alignment")
    # Hostile: a REDUCE of os.system in data.pkl.
    hostile_zip("hostile_os_system", pickle.dumps(Evil(), protocol=2))
    with open(os.path.join(OUT, "hostile_os_system.json"), "w") as f:
        try:
            torch.load(os.path.join(OUT, "hostile_os_system.pt"), weights_only=True)
            err = None
        except Exception as e:
            err = why(e)
        json.dump({"file": "hostile_os_system.pt", "weights_only_error": err}, f, indent=1)
        f.write("\n")
    # Hostile: a ZIP with two records named `data/0` (which one a reader takes decides the
    # weights it sees), beside a valid data.pkl; written by zipfile, never loaded here.
    with zipfile.ZipFile(os.path.join(OUT, "zip_other_folder.pt")) as z:
        pkl = z.read("archive/data.pkl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        with zipfile.ZipFile(os.path.join(OUT, "hostile_duplicate_record.pt"), "w", zipfile.ZIP_STORED) as z:
            z.writestr("archive/data.pkl", pkl)
            z.writestr("archive/data/0", bytes(24))
            z.writestr("archive/data/0", bytes(range(24)))
    # What `pickle_core::torch::save_state_dict` wrote (PICKLE_TORCH_REWRITE=1 cargo test
    # --test torch_checkpoints the_writer), as torch loads it with weights_only=True.
    if os.path.exists(os.path.join(OUT, "rust_written.pt")):
        write_record("rust_written", 2, "written by pickle_core::torch::save_state_dict")
    # torch.load(weights_only=True)'s allowlist of globals, for the policy test.
    with open(os.path.join(OUT, "allowed_globals.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "globals": sorted(_get_allowed_globals())}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
