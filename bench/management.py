#!/usr/bin/env python3
"""Management-plane figures (issue 11), measured with the release binary as a user runs it.

  1. PUT -> served: 200 policy writes through the management API (SQLite store); for each, the
     time from sending the PUT until the gateway's answer carries the new value (p50, p99).
  2. `gatehouse store import` of 1,000 APIs x 10 operations into SQLite and into PostgreSQL.
  3. Peak RSS of `gatehouse serve --store` with 10,000 APIs loaded (VmHWM after start).

Usage:  python3 bench/management.py            (builds nothing: uses target/release/gatehouse)
        GATEHOUSE_BIN=... WRITES=200 APIS=1000 OPS=10 RSS_APIS=10000 python3 bench/management.py
PostgreSQL: initdb/pg_ctl from PATH or /usr/lib/postgresql/*/bin; run as an unprivileged user
when this script runs as root. Skipped (and said so) when PostgreSQL is not installed.
Standard library only. Traffic goes to 127.0.0.1 only.
"""

import glob
import http.server
import json
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "target/release/gatehouse"))
WRITES = int(os.environ.get("WRITES", "200"))
APIS = int(os.environ.get("APIS", "1000"))
OPS = int(os.environ.get("OPS", "10"))
RSS_APIS = int(os.environ.get("RSS_APIS", "10000"))
V = "api-version=2022-08-01"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def config_yaml(gateway_port, backend_port, apis, ops):
    lines = [
        "service: { name: bench }",
        f'gateway: {{ listeners: [ {{ address: "127.0.0.1:{gateway_port}" }} ] }}',
        "network: { outbound: { allowed_destinations: [127.0.0.1/32] } }",
        f'backends: {{ b: {{ url: "http://127.0.0.1:{backend_port}" }} }}',
        "apis:",
    ]
    for a in range(apis):
        lines.append(f"  - id: api{a}\n    path: api{a}\n    backend: b\n    subscription_required: false\n    operations:")
        for o in range(ops):
            lines.append(f'      - {{ id: op{o}, method: GET, url_template: "/items{o}/{{id}}" }}')
    return "\n".join(lines) + "\n"


def run(args, **kw):
    p = subprocess.run([BIN] + args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"gatehouse {' '.join(args)} failed:\n{p.stdout}{p.stderr}")
    return p


def key_file(work):
    """The store's secret key, as an operator gives it with --secret-key-file."""
    path = os.path.join(work, "secret.key")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(path, 0o600)
    return path


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no answer from {url}")


def request(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def serve(store, key, work, env=None):
    gw, mg = free_port(), free_port()
    log = open(os.path.join(work, f"serve-{gw}.log"), "w")
    p = subprocess.Popen(
        [BIN, "serve", "--store", store, "--secret-key-file", key, "--listen", f"127.0.0.1:{gw}",
         "--management-listen", f"127.0.0.1:{mg}", "--log", "warn"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_http(f"http://127.0.0.1:{gw}/status-0123456789abcdef", timeout=300)
    return p, gw, mg


def put_to_served(work, name, store):
    backend = start_backend()
    key = key_file(work)
    cfg = os.path.join(work, "latency.yaml")
    with open(cfg, "w") as f:
        f.write(config_yaml(0, backend, 1, 1))
    run(["store", "import", cfg, "--store", store, "--secret-key-file", key])
    p, gw, mg = serve(store, key, work)
    try:
        token = run(["admin", "token", "--store", store, "--secret-key-file", key]).stdout.strip()
        times = []
        for i in range(WRITES):
            policy = ("<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/>"
                      f'<set-header name="X-Rev" exists-action="override"><value>{i}</value></set-header>'
                      "</outbound><on-error><base/></on-error></policies>")
            start = time.perf_counter()
            status, _, body = request("PUT", f"http://127.0.0.1:{mg}/apis/api0/policies/policy?{V}", token,
                                      {"properties": {"format": "xml", "value": policy}})
            if status not in (200, 201):
                raise SystemExit(f"PUT answered {status}: {body[:300]}")
            while True:
                _, headers, _ = request("GET", f"http://127.0.0.1:{gw}/api0/items0/1")
                if headers.get("X-Rev") == str(i):
                    break
                if time.perf_counter() - start > 10:
                    raise SystemExit(f"write {i} not served after 10 s")
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"PUT -> served over {WRITES} writes ({name}): p50 {statistics.median(times):.1f} ms, "
              f"p99 {p99:.1f} ms, max {times[-1]:.1f} ms")
    finally:
        p.terminate()
        p.wait()


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


class Postgres:
    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
            os.chmod(work, 0o755)
        self.pg(["initdb", "-A", "trust", "-U", "gatehouse", "-D", f"{self.dir}/data"])
        self.pg(["pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "start", "-o",
                 f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"])

    def pg(self, cmd):
        cmd = [pg_bin(cmd[0])] + cmd[1:]
        if self.user:
            cmd = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--clear-groups"] + cmd
        subprocess.run(cmd, check=True, capture_output=True)

    def url(self, db):
        self.pg(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "gatehouse", "-d", "postgres",
                 "-c", f"CREATE DATABASE {db}"])
        return f"postgres://gatehouse@127.0.0.1:{self.port}/{db}"

    def stop(self):
        self.pg(["pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"])


def imports(work, stores):
    cfg = os.path.join(work, "import.yaml")
    with open(cfg, "w") as f:
        f.write(config_yaml(free_port(), 9, APIS, OPS))
    key = key_file(work)
    for name, store in stores:
        start = time.perf_counter()
        run(["store", "import", cfg, "--store", store, "--secret-key-file", key])
        took = time.perf_counter() - start
        print(f"import of {APIS} APIs x {OPS} operations into {name}: {took:.2f} s "
              f"(`gatehouse store import`, whole process incl. validation)")


def peak_rss(work):
    backend = start_backend()
    store = f"sqlite://{work}/rss.db"
    key = key_file(work)
    cfg = os.path.join(work, "rss.yaml")
    with open(cfg, "w") as f:
        f.write(config_yaml(0, backend, RSS_APIS, 1))
    run(["store", "import", cfg, "--store", store, "--secret-key-file", key])
    p, gw, _ = serve(store, key, work)
    try:
        request("GET", f"http://127.0.0.1:{gw}/api{RSS_APIS - 1}/items0/1")
        with open(f"/proc/{p.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        print(f"peak RSS with {RSS_APIS} APIs loaded from the store: {fields['VmHWM'].strip()} "
              f"(now {fields['VmRSS'].strip()})")
    finally:
        p.terminate()
        p.wait()


def main():
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} missing: cargo build --release")
    work = tempfile.mkdtemp(prefix="gatehouse-mgmt-bench-")
    pg = None
    try:
        latency = [("SQLite", f"sqlite://{work}/latency.db")]
        import_to = [("SQLite", f"sqlite://{work}/import.db")]
        if pg_bin("initdb"):
            pg = Postgres(work)
            latency.append(("PostgreSQL", pg.url("bench_latency")))
            import_to.append(("PostgreSQL", pg.url("bench_import")))
        else:
            print("PostgreSQL not installed: its figures are skipped")
        for name, store in latency:
            put_to_served(work, name, store)
        imports(work, import_to)
        peak_rss(work)
    finally:
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
