#!/usr/bin/env bash
# Runs every test of gatehouse: formatting, lints, unit, integration and end-to-end tests.
# Installs what the tests need (Debian packages) when run as root and they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# curl: the end-to-end smoke test drives the real binary with it.
# ca-certificates: backend TLS loads the system's CA bundle.
# iproute2: the network-namespace scenario (`ip netns`, veth) of the network tests.
# postgresql: the store's tests (crates/store/tests) start a real server in a temporary
#   directory with its initdb/pg_ctl (crates/testkit/src/postgres.rs); the package's own
#   cluster service is not used.
# redis-server: the shared counters' and external cache's tests (crates/store/tests/redis.rs) start
#   a real server on a loopback port in a temporary directory (crates/testkit/src/redis.rs); the
#   package's own service is not used.
# chromium, chromium-driver: the developer portal's browser tests drive a headless Chromium over
#   WebDriver (crates/testkit/src/browser.rs, feature `browser` of gatehouse-testkit, which a
#   crate enables in its dev-dependencies); one browser per test, killed with its processes.
# git: the Git configuration repository serves clones and pushes through `git http-backend`, and
#   its tests drive the real `git` client (crates/cli/tests/git_repo.rs).
# mono-mcs, mono-runtime, libmono-system-core4.0-cil, libmono-system-xml-linq4.0-cil,
#   libnewtonsoft-json5.0-cil: the C# oracle (crates/expr/tests/oracle.rs) compiles the policy
#   expressions of its corpus with Mono's C# compiler and runs them against the same context as
#   gatehouse; scripts/dotnet-surface.sh lists APIM's .NET surface by reflection under Mono.
needed=(curl ca-certificates iproute2 postgresql redis-server chromium chromium-driver git
  mono-mcs mono-runtime libmono-system-core4.0-cil libmono-system-xml-linq4.0-cil
  libnewtonsoft-json5.0-cil)
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}"; }
  else
    echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets --locked
