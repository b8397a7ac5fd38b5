#!/usr/bin/env python3
"""Cluster figures (issue 12), with the release binary as a user runs it (default flags).

  1. Propagation: three `gatehouse serve --store postgres://… --counters redis://…` nodes; 200
     policy writes through node 1's management API; for each write, the time from sending the PUT
     until each node's gateway answers with the new value. p50/p99 of the slowest node, and per
     node.
  2. Cost of a shared rate limit: one node, `rate-limit-by-key` on every request (a limit never
     reached), driven by wrk; gatehouse's CPU time per request (utime+stime from /proc) with the
     local counters and with `--counters redis://…`, same run, plus redis-server's own CPU per
     request.

Usage:  python3 bench/cluster.py
        GATEHOUSE_BIN=... WRITES=200 DURATION=10 CONNS=16 python3 bench/cluster.py
Needs PostgreSQL (initdb/pg_ctl), redis-server, nginx (the backend of part 2) and wrk; all
traffic stays on 127.0.0.1. Figures are comparable only within one run (same machine, same load).
"""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from management import (BIN, Postgres, key_file, pg_bin, request, run,  # noqa: E402
                        start_backend, wait_http)

WRITES = int(os.environ.get("WRITES", "200"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNS = int(os.environ.get("CONNS", "16"))
V = "api-version=2022-08-01"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Redis:
    def __init__(self, work):
        self.port = free_port()
        self.dir = os.path.join(work, f"redis-{self.port}")
        os.makedirs(self.dir)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def config(backend_port, policy=""):
    return f"""service: {{ name: cluster }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.1/32] }} }}
backends: {{ b: {{ url: "http://127.0.0.1:{backend_port}" }} }}
apis:
  - id: api0
    path: api0
    backend: b
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
      <policies><inbound><base/>{policy}</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
"""


def node(work, store, key, name, counters=None):
    gw, mg = free_port(), free_port()
    args = [BIN, "serve", "--store", store, "--secret-key-file", key, "--listen", f"127.0.0.1:{gw}",
            "--management-listen", f"127.0.0.1:{mg}", "--node-name", name,
            "--state-dir", os.path.join(work, f"state-{name}"), "--log", "warn"]
    if counters:
        args += ["--counters", counters]
    log = open(os.path.join(work, f"{name}.log"), "w")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{gw}/status-0123456789abcdef", timeout=120)
    return p, gw, mg


def propagation(work, pg_url, redis_url, key):
    backend = start_backend()
    cfg = os.path.join(work, "propagation.yaml")
    with open(cfg, "w") as f:
        f.write(config(backend))
    run(["store", "import", cfg, "--store", pg_url, "--secret-key-file", key])
    nodes = [node(work, pg_url, key, f"node{i}", redis_url) for i in range(3)]
    try:
        token = run(["admin", "token", "--store", pg_url, "--secret-key-file", key]).stdout.strip()
        mg = nodes[0][2]
        slowest, per_node = [], [[] for _ in nodes]
        for i in range(WRITES):
            policy = ("<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/>"
                      f'<set-header name="X-Rev" exists-action="override"><value>{i}</value></set-header>'
                      "</outbound><on-error><base/></on-error></policies>")
            start = time.perf_counter()
            status, _, body = request("PUT", f"http://127.0.0.1:{mg}/apis/api0/policies/policy?{V}",
                                      token, {"properties": {"format": "xml", "value": policy}})
            if status not in (200, 201):
                raise SystemExit(f"PUT answered {status}: {body[:300]}")
            pending = set(range(len(nodes)))
            while pending:
                for n in list(pending):
                    _, headers, _ = request("GET", f"http://127.0.0.1:{nodes[n][1]}/api0/x")
                    if headers.get("X-Rev") == str(i):
                        per_node[n].append((time.perf_counter() - start) * 1000)
                        pending.discard(n)
                if time.perf_counter() - start > 10:
                    raise SystemExit(f"write {i} not served by nodes {sorted(pending)} after 10 s")
            slowest.append(max(per_node[n][-1] for n in range(len(nodes))))

        def p(values, q):
            values = sorted(values)
            return values[min(len(values) - 1, int(len(values) * q))]
        print(f"propagation over {WRITES} writes, 3 nodes (PostgreSQL LISTEN/NOTIFY): slowest node "
              f"p50 {statistics.median(slowest):.1f} ms, p99 {p(slowest, 0.99):.1f} ms, max {max(slowest):.1f} ms")
        for n, values in enumerate(per_node):
            print(f"  node{n}: p50 {statistics.median(values):.1f} ms, p99 {p(values, 0.99):.1f} ms")
    finally:
        for p_, _, _ in nodes:
            p_.terminate()
            p_.wait()


def start_nginx(work):
    """A fast backend (nginx answering 200 from memory, keep-alive), so that the proxy's own
    cost is what wrk measures; the Python backend's one connection per request would be."""
    port = free_port()
    d = os.path.join(work, "nginx")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon on; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok"; }} }} }}
""")
    subprocess.run(["nginx", "-c", conf, "-p", d], check=True, capture_output=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return port, lambda: subprocess.run(["nginx", "-c", conf, "-p", d, "-s", "stop"], capture_output=True)


def limit_cost(work, pg_url, redis, key):
    backend, stop_nginx = start_nginx(work)
    cfg = os.path.join(work, "limit.yaml")
    policy = ('<rate-limit-by-key calls="1000000000" renewal-period="60" '
              'counter-key="@(context.Request.IpAddress)" />')
    with open(cfg, "w") as f:
        f.write(config(backend, policy))
    db = pg_url.rsplit("/", 1)[0] + "/bench_limit"
    run(["store", "import", cfg, "--store", db, "--secret-key-file", key])
    results = {}
    for label, counters in (("local counters", None), ("Redis counters", redis.url())):
        p_, gw, _ = node(work, db, key, f"limit-{label[:5]}", counters)
        try:
            url = f"http://127.0.0.1:{gw}/api0/x"
            subprocess.run(["wrk", "-t1", f"-c{CONNS}", "-d2s", url], capture_output=True)  # warm-up
            c0, r0 = cpu_seconds(p_.pid), cpu_seconds(redis.proc.pid)
            out = subprocess.run(["wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", url],
                                 capture_output=True, text=True).stdout
            c1, r1 = cpu_seconds(p_.pid), cpu_seconds(redis.proc.pid)
            requests = int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
            results[label] = ((c1 - c0) / requests * 1e6, (r1 - r0) / requests * 1e6, requests / DURATION)
        finally:
            p_.terminate()
            p_.wait()
    stop_nginx()
    base = results["local counters"][0]
    for label, (us, redis_us, rps) in results.items():
        print(f"rate-limit-by-key, {label}: gatehouse {us:.1f} µs CPU/request ({us / base:.2f}x local), "
              f"redis-server {redis_us:.1f} µs/request, {rps:.0f} req/s (wrk -t1 -c{CONNS} -d{DURATION}s)")


def main():
    for tool in ("redis-server", "wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed")
    if not pg_bin("initdb"):
        raise SystemExit("PostgreSQL is not installed")
    if not os.path.exists(BIN):
        raise SystemExit(f"{BIN} missing: cargo build --release")
    work = tempfile.mkdtemp(prefix="gatehouse-cluster-bench-")
    pg = redis = None
    try:
        key = key_file(work)
        pg = Postgres(work)
        redis = Redis(work)
        pg_url = pg.url("bench_cluster")
        pg.url("bench_limit")
        propagation(work, pg_url, redis.url(), key)
        limit_cost(work, pg_url, redis, key)
    finally:
        if redis:
            redis.stop()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
