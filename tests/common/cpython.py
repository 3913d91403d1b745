"""The CPython side of the interop tests.

Reads one JSON request on stdin and answers on stdout:

  {"op": "dumps", "cases": [{"code": "...", "protocols": [0, 1, ...]}, ...]}
      Runs each case's code (which binds `value`) and pickles `value` at each protocol
      with the C pickler. Answers one list per case: per protocol either
      {"ok": "<hex>"} or {"error": "<Type>: <message>"}.

  {"op": "dis", "pickles": ["<hex>", ...]}
      Answers the `pickletools.dis` listing of each pickle (or the error it raised).

  {"op": "loads_repr", "pickles": ["<hex>", ...]}
      Loads each pickle with the C unpickler and answers its repr (or the error).

  {"op": "run", "cases": ["<code>", ...]}
      Runs each code, which binds `data` to pickle bytes however it likes (hooks,
      hand-assembled opcodes) and may bind `loaded` to what CPython loads from them.
      Answers {"ok": "<hex>", "repr": repr(loaded) or null} or {"error": ...} per case.

The helpers below build the mirrored objects the way the Rust side means them:
S and B copy a str or bytes so that equal literals stay separate objects (the compiler
merges equal constants), while CPython's own singletons ('' and one Latin-1 character,
b'' and one byte) stay shared, as they are in any Python program.
"""
import importlib
import io
import json
import os
import pickle
import pickletools
import sys

# The fixture classes of tests/python are importable, so their instances pickle and load.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import _pickle

assert pickle.dumps is _pickle.dumps, "the C accelerator must be the pickler under test"
assert pickle.loads is _pickle.loads, "the C accelerator must be the unpickler under test"


def S(s):
    return (s + "\0")[:-1]


def B(b):
    return (b + b"\0")[:-1]


def G(module, qualname):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


HELPERS = {"S": S, "B": B, "G": G}


def error(e):
    return {"error": f"{type(e).__name__}: {e}"}


def dumps(case):
    ns = dict(HELPERS)
    exec(case["code"], ns)
    value = ns["value"]
    out = []
    for protocol in case["protocols"]:
        try:
            out.append({"ok": pickle.dumps(value, protocol).hex()})
        except Exception as e:  # noqa: BLE001 - the error is the answer
            out.append(error(e))
    return out


def dis(hexed):
    buf = io.StringIO()
    try:
        pickletools.dis(bytes.fromhex(hexed), out=buf)
    except Exception as e:  # noqa: BLE001
        buf.write(f"\n<<pickletools.dis failed: {type(e).__name__}: {e}>>\n")
    return buf.getvalue()


def loads_repr(hexed):
    try:
        return {"ok": repr(pickle.loads(bytes.fromhex(hexed)))}
    except Exception as e:  # noqa: BLE001
        return error(e)


def run(code):
    ns = dict(HELPERS)
    try:
        exec(code, ns)
        loaded = ns.get("loaded", None)
        return {"ok": bytes(ns["data"]).hex(), "repr": None if "loaded" not in ns else repr(loaded)}
    except Exception as e:  # noqa: BLE001
        return error(e)


def main():
    request = json.load(sys.stdin)
    op = request["op"]
    if op == "dumps":
        answer = [dumps(case) for case in request["cases"]]
    elif op == "dis":
        answer = [dis(h) for h in request["pickles"]]
    elif op == "loads_repr":
        answer = [loads_repr(h) for h in request["pickles"]]
    elif op == "run":
        answer = [run(code) for code in request["cases"]]
    else:
        raise SystemExit(f"unknown op {op!r}")
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
