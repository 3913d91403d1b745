"""The numpy side of the numpy interop tests (tests/numpy_arrays.rs), run by the numpy in
target/pyenv that .ci/run installs.

Reads one JSON request on stdin and answers on stdout:

  {"op": "arrays", "cases": ["<code>", ...]}
      Runs each code, which binds `value` to a numpy array, and answers what numpy says
      of it: {"descr": dtype.str, "shape": [...], "fortran": is_fortran, "data": "<hex of
      tobytes(order='A')>", "pickles": ["<hex of pickle.dumps(value, p)>" for p in 0..5]}.

  {"op": "dumps", "cases": ["<code>", ...]}
      Runs each code, which binds `value` to anything (a list of arrays), and answers
      ["<hex of pickle.dumps(value, p)>" for p in 0..5] for each.

  {"op": "out_of_band", "cases": ["<code>", ...]}
      Pickles each `value` at protocol 5 with a buffer_callback that takes every buffer
      out of band, and answers {"pickle": "<hex>", "buffers": ["<hex>", ...]}.

  {"op": "check", "cases": [{"code": "<code>", "protocol": p, "pickle": "<hex>"}, ...]}
      Loads each pickle with numpy and compares it with what numpy loads from its own
      pickle at protocol p of the array the code binds to `value` (below protocol 5 numpy
      loads a non-native byte order as native): answers null when both are equal to
      `value` with the same dtype, shape and order, or what differs.
"""
import json
import pickle
import sys

import numpy as np


def is_fortran(a):
    return bool(a.flags.f_contiguous and not a.flags.c_contiguous)


def array(code):
    ns = {"np": np}
    exec(code, ns)
    a = ns["value"]
    return {
        "descr": a.dtype.str,
        "shape": list(a.shape),
        "fortran": is_fortran(a),
        "data": a.tobytes(order="A").hex(),
        "pickles": [pickle.dumps(a, p).hex() for p in range(6)],
    }


def dumps(code):
    ns = {"np": np}
    exec(code, ns)
    return [pickle.dumps(ns["value"], p).hex() for p in range(6)]


def out_of_band(code):
    ns = {"np": np}
    exec(code, ns)
    buffers = []
    data = pickle.dumps(ns["value"], 5, buffer_callback=buffers.append)
    return {"pickle": data.hex(), "buffers": [b.raw().tobytes().hex() for b in buffers]}


def check(case):
    ns = {"np": np}
    exec(case["code"], ns)
    value = ns["value"]
    want = pickle.loads(pickle.dumps(value, case["protocol"]))
    try:
        got = pickle.loads(bytes.fromhex(case["pickle"]))
    except Exception as e:  # noqa: BLE001 - the error is the answer
        return f"numpy cannot load it: {type(e).__name__}: {e}"
    if not isinstance(got, np.ndarray) or type(got) is not np.ndarray:
        return f"loaded a {type(got).__name__}, not an ndarray"
    same = (
        got.dtype == want.dtype
        and got.dtype.str == want.dtype.str
        and got.shape == want.shape
        and is_fortran(got) == is_fortran(want)
        and np.array_equal(got, value, equal_nan=want.dtype.kind in "fcmM")
    )
    return None if same else f"loaded {got!r} ({got.dtype.str}), not {want!r} ({want.dtype.str})"


def main():
    request = json.load(sys.stdin)
    if request["op"] == "arrays":
        answer = [array(code) for code in request["cases"]]
    elif request["op"] == "dumps":
        answer = [dumps(code) for code in request["cases"]]
    elif request["op"] == "out_of_band":
        answer = [out_of_band(code) for code in request["cases"]]
    elif request["op"] == "check":
        answer = [check(case) for case in request["cases"]]
    else:
        raise SystemExit(f"unknown op {request['op']!r}")
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
