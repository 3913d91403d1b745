"""`pickletool scan` beside picklescan and fickling, in one run, on the same files.

It exists to back the README's table with numbers anyone can re-make. Run it with a python
that has picklescan and fickling (a scratch virtual environment, never the repository's), after
`cargo test -p pickletool --test scan` has written the corpus into target/tmp/:

    python3 -m venv /tmp/scanenv && /tmp/scanenv/bin/pip install picklescan fickling numpy
    cargo build --release -p pickletool
    TORCH_PYTHON=... cargo test -p pickletool --test scan   # torch part optional
    /tmp/scanenv/bin/python bench/scan_compare.py

Corpus: target/tmp/scan-malicious (the hand-built bypasses of pickletool/tests/scan.rs) and
target/tmp/scan-benign (what CPython, numpy and torch write, pickletool/tests/scan_corpus.py).
Speed: a directory of 1000 pickles of realistic sizes (scan_corpus.py bulk: lists of records,
arrays, state dicts of arrays, stdlib objects, object arrays), scanned whole by each tool in one
process (picklescan's directory scan, fickling's `scan_file` in a loop,
`pickletool scan DIR`). Nothing here loads a pickle: the three tools only read them.

Detection rules, as each tool's own CLI decides: picklescan flags a file with issues (a
dangerous global) or that it could not scan; fickling flags a file whose severity is above
LIKELY_SAFE or that it could not parse (it says "DO NOT TRUST"); pickletool flags a file whose
verdict is not safe under --policy stdlib,numpy,torch-weights-only or that it could not read.
"""

import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = os.path.join(ROOT, "target", "tmp")
PICKLETOOL = os.path.join(ROOT, "target", "release", "pickletool")
POLICY = "stdlib,numpy,torch-weights-only"


def files_under(path):
    out = []
    for dirpath, _, names in os.walk(path):
        out.extend(os.path.join(dirpath, n) for n in sorted(names))
    return sorted(out)


def outcome(check, path):
    """"flagged", "clean", or "error" when the tool raised (its CLI would exit non-zero)."""
    try:
        return "flagged" if check(path) else "clean"
    except Exception:
        return "error"


def picklescan_check(path):
    from picklescan.scanner import scan_file_path

    result = scan_file_path(path)
    return result.issues_count > 0 or result.scan_err


def fickling_check(path):
    from fickling.analysis import Severity
    from fickling.loader import scan_file

    result = scan_file(path, graceful=True)
    return result.severity > Severity.LIKELY_SAFE or bool(result.errors)


def pickletool_flags(paths):
    out = subprocess.run([PICKLETOOL, "scan", "--format", "json", "--policy", POLICY, *paths],
                         capture_output=True, check=False)
    report = json.loads(out.stdout)
    flagged = {}
    for f in report["files"]:
        bad = f["verdict"] != "safe" or f["error"] is not None
        flagged[f["path"]] = flagged.get(f["path"], False) or bad
    return flagged


def detections(paths):
    ours = pickletool_flags(paths)
    rows = []
    for path in paths:
        mine = "flagged" if ours.get(path, False) else "clean"
        rows.append((os.path.basename(path), outcome(picklescan_check, path), outcome(fickling_check, path), mine))
    return rows


def bulk_dir(n=1000):
    """`n` pickles of realistic sizes (records, arrays, state dicts), written by
    pickletool/tests/scan_corpus.py with this python's numpy."""
    bulk = os.path.join(TMP, "scan-bulk")
    shutil.rmtree(bulk, ignore_errors=True)
    script = os.path.join(ROOT, "pickletool", "tests", "scan_corpus.py")
    subprocess.run([sys.executable, script, "bulk", bulk, str(n)], check=True)
    return bulk, n


def timed(label, run):
    start = time.perf_counter()
    run()
    return label, time.perf_counter() - start


def speed():
    bulk, n = bulk_dir()
    paths = files_under(bulk)

    def picklescan_dir():
        from picklescan.scanner import scan_directory_path

        scan_directory_path(bulk)

    def fickling_loop():
        for p in paths:
            outcome(fickling_check, p)

    def pickletool_dir():
        subprocess.run([PICKLETOOL, "scan", "--format", "json", "--policy", POLICY, bulk],
                       capture_output=True, check=False)

    results = [timed("picklescan", picklescan_dir), timed("fickling", fickling_loop), timed("pickletool", pickletool_dir)]
    return n, sum(os.path.getsize(p) for p in paths), results


def main():
    if not os.path.exists(PICKLETOOL):
        sys.exit("build it first: cargo build --release -p pickletool")
    malicious = files_under(os.path.join(TMP, "scan-malicious"))
    benign = files_under(os.path.join(TMP, "scan-benign"))
    if not malicious or not benign:
        sys.exit("make the corpus first: cargo test -p pickletool --test scan")
    print(f"## Malicious corpus ({len(malicious)} files): flagged\n")
    print("| file | picklescan | fickling | pickletool |\n|---|---|---|---|")
    mal = detections(malicious)
    mark = {"flagged": "yes", "clean": "**missed**", "error": "error"}
    for name, a, b, c in mal:
        print(f"| {name} | {mark[a]} | {mark[b]} | {mark[c]} |")
    count = lambda rows, i, what: sum(r[i] == what for r in rows)
    cells = [f"{count(mal, i, 'flagged')} (+{count(mal, i, 'error')} errors)" for i in (1, 2, 3)]
    print(f"| **flagged of {len(mal)}** | {cells[0]} | {cells[1]} | {cells[2]} |\n")
    ben = detections(benign)
    cells = [f"{count(ben, i, 'flagged')} (+{count(ben, i, 'error')} errors)" for i in (1, 2, 3)]
    print(f"## Benign corpus ({len(ben)} files): false positives\n")
    print(f"| picklescan | fickling | pickletool |\n|---|---|---|\n| {cells[0]} | {cells[1]} | {cells[2]} |\n")
    for name, a, b, c in ben:
        if "clean" != a or "clean" != b or "clean" != c:
            print(f"- {name}: picklescan {a}, fickling {b}, pickletool {c}")
    n, size, results = speed()
    print(f"\n## Speed: {n} files, {size / 1e6:.1f} MB, one process per tool\n")
    print("| tool | total (s) | per file (ms) |\n|---|---|---|")
    for label, seconds in results:
        print(f"| {label} | {seconds:.2f} | {seconds / n * 1000:.3f} |")


if __name__ == "__main__":
    main()
