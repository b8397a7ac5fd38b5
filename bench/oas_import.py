#!/usr/bin/env python3
"""OpenAPI import figures (issue 13): `gatehouse api import` of large real-world documents.

For each document of crates/admin/tests/data/large (see its README: Stripe, Kubernetes, Discord,
OpenAI), into a fresh SQLite store holding a minimal first revision, this runs the release binary
as a user does:

    gatehouse store import minimal.yaml --store sqlite://<tmp>/s.db
    gatehouse api import DOC --store sqlite://<tmp>/s.db --path P --id ID [--service-url U]

and reports, per document: its size, its (path, method) pairs, the operations imported, the wall
time and peak RSS of the `api import` process (os.wait4's rusage of that one child), and the size
of the store afterwards. Prints a markdown table.

Usage:  python3 bench/oas_import.py
        GATEHOUSE_BIN=... GATEHOUSE_LARGE_SPECS=DIR RUNS=3 python3 bench/oas_import.py
Builds `target/release/gatehouse` (cargo build --release -p gatehouse) only when it is missing.
Standard library only (PyYAML, when installed, counts the pairs of a YAML document). No network.
"""

import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "target/release/gatehouse"))
SPECS = os.environ.get(
    "GATEHOUSE_LARGE_SPECS", os.path.join(ROOT, "crates/admin/tests/data/large")
)
RUNS = int(os.environ.get("RUNS", "3"))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# (file, API id and path, --service-url for a document that names no server)
DOCUMENTS = [
    ("stripe.json.gz", "stripe", None),
    ("kubernetes.json.gz", "kubernetes", "https://kubernetes.test"),
    ("discord.json.gz", "discord", None),
    ("openai.json.gz", "openai", None),
    ("openai.yaml.gz", "openai-yaml", None),
]

MINIMAL = "service: { name: bench }\n"


def build():
    if os.path.exists(BIN):
        return
    print(f"{BIN} is missing: cargo build --release -p gatehouse (long on a small machine)", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-p", "gatehouse"], cwd=ROOT, check=True)


def pairs(text, name):
    """The document's (method, path) pairs: what import must turn into operations."""
    if name.endswith(".yaml.gz"):
        try:
            import yaml  # optional: only to count a YAML document's pairs
        except ImportError:
            return None
        doc = yaml.safe_load(text)
    else:
        doc = json.loads(text)
    return sum(
        1
        for path, item in doc.get("paths", {}).items()
        if not path.startswith("x-")
        for m in METHODS
        if isinstance(item, dict) and m in item
    )


def timed(args, env):
    """Runs BIN with args; returns (exit code, wall seconds, peak RSS in KiB, output)."""
    out = tempfile.TemporaryFile()
    started = time.monotonic()
    p = subprocess.Popen([BIN] + args, stdout=out, stderr=subprocess.STDOUT, env=env)
    # wait4 gives this child's own rusage (getrusage(RUSAGE_CHILDREN) would be the maximum
    # over every child so far); ru_maxrss is in KiB on Linux.
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - started
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    return p.returncode, wall, usage.ru_maxrss, out.read().decode(errors="replace")


def run(args, env):
    p = subprocess.run([BIN] + args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"gatehouse {' '.join(args)} failed:\n{p.stdout}{p.stderr}")


def measure(name, api_id, service_url, work, env):
    src = os.path.join(SPECS, name)
    with gzip.open(src, "rb") as f:
        raw = f.read()
    doc = os.path.join(work, name[: -len(".gz")])
    with open(doc, "wb") as f:
        f.write(raw)
    expected = pairs(raw.decode("utf-8"), name)
    cfg = os.path.join(work, "minimal.yaml")
    with open(cfg, "w") as f:
        f.write(MINIMAL)
    walls, rss, result, db_size = [], [], None, None
    for i in range(RUNS):
        db = os.path.join(work, f"{api_id}-{i}.db")
        store = f"sqlite://{db}?mode=rwc"
        run(["store", "import", cfg, "--store", store], env)
        args = ["api", "import", doc, "--store", store, "--path", api_id, "--id", api_id]
        if service_url:
            args += ["--service-url", service_url]
        code, wall, peak, output = timed(args, env)
        if code != 0:
            # The last line names the problem after the document's (temporary) path.
            last = output.strip().splitlines()[-1] if output.strip() else f"exit {code}"
            result = "refused: " + last.replace(doc + ": ", "").replace("error: ", "")[:120]
            walls.append(wall)
            rss.append(peak)
            break
        # "DOC: API 'id' at /path with N operations (revision R)"
        words = output.split(" with ")[-1].split()
        result = words[0] if words and words[0].isdigit() else output.strip()
        walls.append(wall)
        rss.append(peak)
        db_size = sum(
            os.path.getsize(os.path.join(work, f))
            for f in os.listdir(work)
            if f.startswith(f"{api_id}-{i}.db")
        )
    return {
        "document": name[: -len(".gz")],
        "bytes": len(raw),
        "pairs": expected,
        "imported": result,
        "wall": statistics.median(walls),
        "rss": max(rss),
        "db": db_size,
        "runs": len(walls),
    }


def main():
    build()
    missing = [n for n, _, _ in DOCUMENTS if not os.path.exists(os.path.join(SPECS, n))]
    if missing:
        raise SystemExit(f"missing in {SPECS}: {', '.join(missing)} (see its README.md)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="oas-import-") as work:
        env = dict(os.environ, GATEHOUSE_DATA_DIR=os.path.join(work, "data"), RUST_LOG="warn")
        for name, api_id, url in DOCUMENTS:
            r = measure(name, api_id, url, work, env)
            rows.append(r)
            print(f"{r['document']}: {r['imported']} in {r['wall']:.2f} s, {r['rss'] / 1024:.0f} MiB", file=sys.stderr)
    print(f"`gatehouse api import` into a fresh SQLite store, release build, median of {RUNS} runs (wall), max peak RSS:\n")
    print("| document | size | (path, method) pairs | imported operations | wall time | peak RSS | store after |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        db = f"{r['db'] / 1e6:.1f} MB" if r["db"] else "-"
        print(
            f"| {r['document']} | {r['bytes'] / 1e6:.2f} MB | {r['pairs'] if r['pairs'] is not None else '?'} "
            f"| {r['imported']} | {r['wall']:.2f} s | {r['rss'] / 1024:.0f} MiB | {db} |"
        )


if __name__ == "__main__":
    main()
