#!/usr/bin/env bash
# gatehouse benchmark: one run, one load, same pinned cores, three targets:
#   (a) direct    wrk -> backend
#   (b) nginx     wrk -> nginx proxy_pass (upstream keepalive) -> backend
#   (c) gatehouse wrk -> gatehouse (subscription key auth on)  -> backend
# See bench/README.md. Numbers are only comparable within one run.
set -euo pipefail

# ---------------------------------------------------------------- settings
CONNS=${CONNS:-50}            # wrk -c
DURATION=${DURATION:-15}      # wrk -d, seconds, measured run per target
WARMUP=${WARMUP:-3}           # seconds of unreported warm-up per target (0: none)
THREADS=1                     # wrk -t (one core for the load generator)
PROXY_CPU=${PROXY_CPU:-1}     # core for the proxy under test (nginx or gatehouse)
LOAD_CPU=${LOAD_CPU:-0}       # core for wrk / h2load
BACKEND_CPU=${BACKEND_CPU:-0} # core for the backend nginx
SKIP_GATEHOUSE=${SKIP_GATEHOUSE:-0} # 1: measure (a) and (b) only, do not build gatehouse
SKIP_BUILD=${SKIP_BUILD:-0}   # 1: use the existing target/release/gatehouse as is
POLICIES=${POLICIES:-0}       # 1: gatehouse runs a typical inbound policy pipeline (ip-filter, rate-limit-by-key, set-header)
H2=${H2:-0}                   # 1: also an h2c section with h2load (if installed)
H2_REQUESTS=${H2_REQUESTS:-200000}
H2_STREAMS=${H2_STREAMS:-10}  # h2load -m
TLS=${TLS:-0}                 # 1: also a TLS 1.3 section (keep-alive and new-handshake rows, same certificate for both proxies)
CORES=${CORES:-1}             # 2: also a two-core section (proxy, backend and wrk each on both cores) after the one-core one
TWO_CPUS=${TWO_CPUS:-0,1}     # the two cores of that section
STRICT=${STRICT:-0}           # 1: exit 1 when a target from the issue falls short
NOISE_LIMIT=${NOISE_LIMIT:-10} # warn when other processes (or steal) take more than this % of a core during a run
ROUNDS=${ROUNDS:-1}           # measured runs per target, interleaved (direct, nginx, gatehouse, direct, ...); medians reported
WAIT_QUIET=${WAIT_QUIET:-0}   # seconds to wait at the start for the machine to be quiet (0: do not wait)

SUB_KEY="bench-key-0123456789abcdef"
KEY_HEADER="Ocp-Apim-Subscription-Key: ${SUB_KEY}"
HEALTH_PATH="/status-0123456789abcdef"
HEALTH_TIMEOUT=30

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-${REPO_ROOT}/bench/out}"
GATEHOUSE_BIN="${GATEHOUSE_BIN:-${REPO_ROOT}/target/release/gatehouse}"  # override only to test this script

MODES=""                      # the optional sections asked for, named in the command line only when on
if [ "$TLS" = "1" ]; then MODES+="TLS=1 "; fi
if [ "$CORES" = "2" ]; then MODES+="CORES=2 "; fi
CMDLINE="CONNS=${CONNS} DURATION=${DURATION} WARMUP=${WARMUP} ROUNDS=${ROUNDS} PROXY_CPU=${PROXY_CPU} LOAD_CPU=${LOAD_CPU} BACKEND_CPU=${BACKEND_CPU} SKIP_GATEHOUSE=${SKIP_GATEHOUSE} H2=${H2} ${MODES}bash bench/run.sh"
PINNING="proxy under test on core ${PROXY_CPU}; wrk on core ${LOAD_CPU}; backend nginx on core ${BACKEND_CPU}"

# ---------------------------------------------------------------- helpers
quote_cmd() { # a command line as one could paste it
  local a out=""
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+="${a} "; else out+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s' "${out% }"
}
log() { printf '[bench] %s\n' "$*" >&2; }
# run a load generator in the background and wait for it, so that a signal to this script
# is handled at once (and the generator stopped by cleanup) instead of after the run
load() { # outfile cmd...
  local outf=$1 rc=0; shift
  "$@" >"$outf" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  return "$rc"
}
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

STARTED_PIDS=()
LOAD_PID=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid
  trap - EXIT
  if [ -n "$LOAD_PID" ]; then kill -TERM "$LOAD_PID" 2>/dev/null || true; fi
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { # need CMD PACKAGE: install a Debian package when CMD is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  log "$1 not found: apt-get install -y $2"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >"${OUT}/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"${OUT}/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >>"${OUT}/apt.log" 2>&1 \
      || { tail -n 30 "${OUT}/apt.log" >&2; die "could not install $2"; }
  fi
  command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
}

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
pick_port() { # first free TCP port at or after $1
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

children() { pgrep -P "$1" 2>/dev/null || true; }
tree_pids() { # the pid and all its descendants
  local p c
  for p in "$@"; do
    echo "$p"
    for c in $(children "$p"); do tree_pids "$c"; done
  done
}
ticks() { # utime+stime (fields 14+15 of /proc/PID/stat) summed over the given pids
  local p stat total=0
  local -a f
  for p in "$@"; do
    stat=$(<"/proc/${p}/stat") || die "process ${p} vanished during the measurement"
    stat=${stat##*) }            # drop "pid (comm) "; f[0] is then field 3
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
# whole-machine CPU (user+nice+system ticks, all cores), steal ticks, and this shell's
# reaped children's ticks (wrk): to tell how much CPU other processes took during a run
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4, $9; exit }' /proc/stat; }
own_child_ticks() {
  local stat; local -a f
  stat=$(<"/proc/$$/stat"); stat=${stat##*) }
  read -r -a f <<<"$stat"
  echo $((f[13] + f[14]))     # fields 16+17: cutime+cstime
}
core_ticks() { # busy and total ticks of one core, or summed over a list of cores ("0,1")
  awk -v l="$1" 'BEGIN { n = split(l, a, ","); for (i = 1; i <= n; i++) want["cpu" a[i]] = 1 }
    $1 in want { b += $2 + $3 + $4 + $7 + $8 + $9; t += $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }
    END { print b + 0, t + 0 }' /proc/stat
}
passive_opens() { # TCP connections accepted so far in this network namespace (/proc/net/snmp)
  awk '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 } else { print $c; exit } }' /proc/net/snmp
}
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
peak_rss_kb() { # the workers' peak RSS (nginx) or the process's own when it has no children
  local root=$1 kids max=0 v c
  kids=$(children "$root")
  if [ -z "$kids" ]; then hwm_kb "$root"; return; fi
  for c in $kids; do
    v=$(hwm_kb "$c"); [ "${v:-0}" -gt "$max" ] && max=$v
  done
  echo "$max"
}

# stop a process left over from an interrupted run of this script (by its pid file, only
# when its command line names our own config)
stop_stale() { # pidfile conf
  local pid
  [ -f "$1" ] || return 0
  pid=$(<"$1")
  if [ -n "$pid" ] && [ -r "/proc/${pid}/cmdline" ] && tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qF "$2"; then
    log "stopping leftover process ${pid} from an earlier run ($2)"
    kill -TERM "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$1"
}

http_code() { # url [header]: the status code, 000 when nothing answers
  local args=(-s -o "${OUT}/probe.body" -w '%{http_code}' --max-time 2)
  [ $# -ge 2 ] && args+=(-H "$2")
  curl "${args[@]}" "$1" 2>/dev/null || true
}
wait_http() { # name url pid logfile: wait for 200 for up to HEALTH_TIMEOUT seconds
  local name=$1 url=$2 pid=$3 logf=$4 deadline code
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" 2>/dev/null || rc=$?
      log "${name} exited (status ${rc}) before answering ${url}; last 30 lines of ${logf}:"
      tail -n 30 "$logf" >&2 || true
      exit 1
    fi
    code=$(http_code "$url")
    [ "$code" = "200" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "${name} did not answer 200 on ${url} within ${HEALTH_TIMEOUT}s (last status ${code}); last 30 lines of ${logf}:"
      tail -n 30 "$logf" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}
check_hello() { # name url: one request with the key must give 200 "hello world"
  local code
  code=$(http_code "$2" "$KEY_HEADER")
  [ "$code" = "200" ] || die "$1: GET $2 answered ${code}, want 200"
  grep -qx "hello world" "${OUT}/probe.body" || die "$1: GET $2 did not return the backend's body: $(head -c 200 "${OUT}/probe.body")"
}

start_nginx() { # name conf cpu -> sets NGINX_PID
  local name=$1 conf=$2 cpu=$3
  stop_stale "${OUT}/${name}.pid" "$conf"
  nginx -t -q -p "${OUT}/${name}/" -e "${OUT}/${name}-error.log" -c "$conf" 2>"${OUT}/${name}-test.log" \
    || { cat "${OUT}/${name}-test.log" >&2; die "nginx rejected ${conf}"; }
  taskset -c "$cpu" nginx -p "${OUT}/${name}/" -e "${OUT}/${name}-error.log" -c "$conf" -g 'daemon off;' \
    >"${OUT}/${name}-stdout.log" 2>&1 &
  NGINX_PID=$!
  STARTED_PIDS+=("$NGINX_PID")
}

# wrk output -> "rps requests p50_us p99_us socket_errors non2xx duration_s"
parse_wrk() {
  awk '
    function us(v,   n, u) {
      n = v; u = v; sub(/[a-z]+$/, "", n); sub(/^[0-9.]+/, "", u)
      if (u == "us") return n + 0; if (u == "ms") return n * 1e3; if (u == "s") return n * 1e6
      if (u == "m") return n * 6e7; if (u == "h") return n * 3.6e9; return -1
    }
    /^ *50% / { p50 = us($2) }
    /^ *99% / { p99 = us($2) }
    / requests in / { req = $1; d = $4; sub(/,$/, "", d); dur = us(d) / 1e6 }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    END {
      if (rps == "" || req == "" || p50 == "" || p99 == "") exit 1
      printf "%s %s %.1f %.1f %d %d %.2f\n", rps, req, p50, p99, err + 0, non2xx + 0, dur
    }' "$1"
}

declare -A R=()   # results: R[target.field]
TARGETS=()
WRK_EXTRA=()      # more wrk arguments (the TLS new-handshake rows: -H 'Connection: close')

# measure TARGET URL PROXY_ROOT_PID CPU_LABEL ROUND: one measured wrk run, results in R[TARGET.rROUND.*]
measure() {
  local t=$1 url=$2 root=$3 label=$4 r=$5 k="$1.r$5" wf="${OUT}/$1-r$5-wrk.txt" t0 b0 t1 b1 s0 s1 st0 st1 c0 c1 ours line pb0 pt0 lb0 lt0 pb1 pt1 lb1 lt1
  local -a pids bpids wrk_cmd
  local po0 po1
  wrk_cmd=(taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "$KEY_HEADER" "${WRK_EXTRA[@]}" "$url")
  echo "(${t}$(if [ "$ROUNDS" -gt 1 ]; then echo ", round ${r}"; fi)) $(quote_cmd "${wrk_cmd[@]}")"
  if [ "$r" = 1 ] && [ "$WARMUP" != "0" ]; then
    load "${OUT}/${t}-warmup.txt" taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -H "$KEY_HEADER" "${WRK_EXTRA[@]}" "$url" \
      || { cat "${OUT}/${t}-warmup.txt" >&2; die "${t}: warm-up wrk failed"; }
  fi
  mapfile -t pids < <(tree_pids "$root")
  mapfile -t bpids < <(tree_pids "$BACKEND_PID")
  read -r s0 st0 < <(sys_ticks); c0=$(own_child_ticks)
  read -r pb0 pt0 < <(core_ticks "$PROXY_CPU"); read -r lb0 lt0 < <(core_ticks "$LOAD_CPU")
  po0=$(passive_opens)
  t0=$(ticks "${pids[@]}"); b0=$(ticks "${bpids[@]}")
  load "$wf" "${wrk_cmd[@]}" || { cat "$wf" >&2; die "${t}: wrk failed"; }
  t1=$(ticks "${pids[@]}"); b1=$(ticks "${bpids[@]}")
  po1=$(passive_opens)
  read -r s1 st1 < <(sys_ticks); c1=$(own_child_ticks)
  read -r pb1 pt1 < <(core_ticks "$PROXY_CPU"); read -r lb1 lt1 < <(core_ticks "$LOAD_CPU")
  line=$(parse_wrk "$wf") || { cat "$wf" >&2; die "${t}: could not parse wrk output"; }
  read -r "R[$k.rps]" "R[$k.requests]" "R[$k.p50_us]" "R[$k.p99_us]" "R[$k.socket_errors]" "R[$k.non2xx]" "R[$k.duration_s]" <<<"$line"
  R[$k.url]=$url
  R[$k.cmd]=$(quote_cmd "${wrk_cmd[@]}")
  R[$k.cpu_of]=$label
  R[$k.cpu_ticks]=$((t1 - t0))
  # connections accepted beyond wrk's own -c ones, per request: 0 with keep-alive; 1 when every request
  # has its own connection (wrk opens -c at the start, then one more per completed request)
  R[$k.conns_per_req]=$(awk -v c=$((po1 - po0 - CONNS)) -v n="${R[$k.requests]}" 'BEGIN { c = (c < 0) ? 0 : c; printf "%.3f", (n > 0) ? c / n : 0 }')
  R[$k.cpu_us_per_req]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="${R[$k.requests]}" 'BEGIN { printf "%.2f", (n > 0) ? d / hz * 1e6 / n : 0 }')
  R[$k.backend_cpu_us_per_req]=$(awk -v d=$((b1 - b0)) -v hz="$CLK_TCK" -v n="${R[$k.requests]}" 'BEGIN { printf "%.2f", (n > 0) ? d / hz * 1e6 / n : 0 }')
  R[$k.peak_rss_kb]=$(peak_rss_kb "$root")
  # CPU that neither the proxy, the backend nor wrk used, in % of one core over the run
  ours=$(( (t1 - t0) + (c1 - c0) ))
  [ "$root" = "$BACKEND_PID" ] || ours=$((ours + b1 - b0))
  R[$k.other_cpu_pct]=$(awk -v o=$((s1 - s0 - ours)) -v st=$((st1 - st0)) -v hz="$CLK_TCK" -v d="${R[$k.duration_s]}" \
    'BEGIN { o = (o < 0) ? 0 : o; printf "%.1f", (d > 0) ? o / hz / d * 100 : 0 }')
  R[$k.proxy_core_busy_pct]=$(awk -v b=$((pb1 - pb0)) -v t=$((pt1 - pt0)) 'BEGIN { printf "%.0f", (t > 0) ? b / t * 100 : 0 }')
  R[$k.load_core_busy_pct]=$(awk -v b=$((lb1 - lb0)) -v t=$((lt1 - lt0)) 'BEGIN { printf "%.0f", (t > 0) ? b / t * 100 : 0 }')
  R[$k.steal_pct]=$(awk -v st=$((st1 - st0)) -v hz="$CLK_TCK" -v d="${R[$k.duration_s]}" \
    'BEGIN { printf "%.1f", (d > 0) ? st / hz / d * 100 : 0 }')
  if awk -v o="${R[$k.other_cpu_pct]}" -v st="${R[$k.steal_pct]}" -v l="$NOISE_LIMIT" 'BEGIN { exit !(o > l || st > l) }'; then
    log "WARNING ${t}: other processes took ${R[$k.other_cpu_pct]}% of a core (steal ${R[$k.steal_pct]}%) during the run: the machine was not quiet"
    NOISY=1
  fi
  if [ "${R[$k.socket_errors]}" != "0" ] || [ "${R[$k.non2xx]}" != "0" ]; then
    log "WARNING ${t}: ${R[$k.non2xx]} non-2xx responses, ${R[$k.socket_errors]} socket errors (see ${wf})"
    INVALID=1
  fi
  if [ "$r" = 1 ]; then TARGETS+=("$t"); fi
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# the figures of a target over all rounds: medians; errors summed; peak RSS the last (VmHWM only grows)
aggregate() {
  local t=$1 f r
  for f in rps requests duration_s p50_us p99_us cpu_us_per_req backend_cpu_us_per_req other_cpu_pct steal_pct \
           proxy_core_busy_pct load_core_busy_pct conns_per_req; do
    R[$t.$f]=$(for r in $(seq 1 "$ROUNDS"); do echo "${R[$t.r$r.$f]}"; done | median)
  done
  R[$t.non2xx]=0; R[$t.socket_errors]=0
  for r in $(seq 1 "$ROUNDS"); do
    R[$t.non2xx]=$((R[$t.non2xx] + R[$t.r$r.non2xx])); R[$t.socket_errors]=$((R[$t.socket_errors] + R[$t.r$r.socket_errors]))
  done
  R[$t.peak_rss_kb]=${R[$t.r$ROUNDS.peak_rss_kb]}
  R[$t.url]=${R[$t.r1.url]}; R[$t.cmd]=${R[$t.r1.cmd]}; R[$t.cpu_of]=${R[$t.r1.cpu_of]}
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "null"; else printf "%.3f", a / b }'; }
verdict() { # ratio op limit
  [ "$1" = "null" ] && { echo "N/A"; return; }
  awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? (r >= l) : (r <= l); print ok ? "PASS" : "FALL SHORT" }'
}
json_rounds() { # the per-round figures of a target, as JSON objects
  local t=$1 r sep=""
  for r in $(seq 1 "$ROUNDS"); do
    printf '%s{"rps": %s, "p50_us": %s, "p99_us": %s, "cpu_us_per_req": %s, "backend_cpu_us_per_req": %s, "other_cpu_pct": %s}' "$sep" \
      "${R[$t.r$r.rps]}" "${R[$t.r$r.p50_us]}" "${R[$t.r$r.p99_us]}" "${R[$t.r$r.cpu_us_per_req]}" \
      "${R[$t.r$r.backend_cpu_us_per_req]}" "${R[$t.r$r.other_cpu_pct]}"
    sep=", "
  done
}
json_rows() { # targets of a section as "name": {figures}, comma-separated
  local t sep=""
  for t in "$@"; do
    printf '%s\n      "%s": {"wrk": %s, "requests": %s, "duration_s": %s, "rps": %s, "p50_us": %s, "p99_us": %s, "cpu_of": %s, "cpu_us_per_req": %s, "peak_rss_kb": %s, "backend_cpu_us_per_req": %s, "conns_per_req": %s, "other_cpu_pct": %s, "steal_pct": %s, "proxy_cores_busy_pct": %s, "load_cores_busy_pct": %s, "non_2xx": %s, "socket_errors": %s}' \
      "$sep" "$t" "$(jstr "${R[$t.cmd]}")" "${R[$t.requests]}" "${R[$t.duration_s]}" "${R[$t.rps]}" "${R[$t.p50_us]}" "${R[$t.p99_us]}" \
      "$(jstr "${R[$t.cpu_of]}")" "${R[$t.cpu_us_per_req]}" "${R[$t.peak_rss_kb]}" "${R[$t.backend_cpu_us_per_req]}" "${R[$t.conns_per_req]}" \
      "${R[$t.other_cpu_pct]}" "${R[$t.steal_pct]}" "${R[$t.proxy_core_busy_pct]}" "${R[$t.load_core_busy_pct]}" "${R[$t.non2xx]}" "${R[$t.socket_errors]}"
    sep=","
  done
}
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# ---------------------------------------------------------------- preparation
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ulimit -n 65536 2>/dev/null || true
need curl curl
need taskset util-linux
need ss iproute2
need nginx nginx
need wrk wrk
if [ "$TLS" = "1" ]; then need openssl openssl; fi
if [ "$H2" = "1" ] && ! command -v h2load >/dev/null 2>&1; then
  log "H2=1 but h2load is not installed (package nghttp2-client): skipping the h2c section"
  H2=0
fi

NCPU=$(nproc)
for c in "$PROXY_CPU" "$LOAD_CPU" "$BACKEND_CPU"; do
  [ "$c" -lt "$NCPU" ] || die "core ${c} does not exist (nproc=${NCPU}); set PROXY_CPU/LOAD_CPU/BACKEND_CPU"
done
CLK_TCK=$(getconf CLK_TCK)
INVALID=0
NOISY=0

BPORT=$(pick_port "${BPORT:-18080}")
NPORT=$(pick_port "${NPORT:-$((BPORT + 1))}")
GPORT=$(pick_port "${GPORT:-$((NPORT + 1))}")
N2PORT=$(pick_port "${N2PORT:-$((GPORT + 1))}")
if [ "$(printf '%s\n' "$BPORT" "$NPORT" "$GPORT" "$N2PORT" | sort -u | wc -l)" != 4 ]; then
  die "ports must differ: backend ${BPORT}, nginx ${NPORT}, gatehouse ${GPORT}, nginx h2c ${N2PORT}"
fi
EXTRA_PORTS=()
if [ "$TLS" = "1" ]; then # TLS listeners of the nginx and gatehouse under test
  NTPORT=$(pick_port "${NTPORT:-$((N2PORT + 1))}")
  GTPORT=$(pick_port "${GTPORT:-$((NTPORT + 1))}")
  EXTRA_PORTS+=("$NTPORT" "$GTPORT")
fi
if [ "$CORES" = "2" ]; then # backend, nginx and gatehouse of the two-core section
  BCPORT=$(pick_port "${BCPORT:-$((N2PORT + 3))}")
  NCPORT=$(pick_port "${NCPORT:-$((BCPORT + 1))}")
  GCPORT=$(pick_port "${GCPORT:-$((NCPORT + 1))}")
  EXTRA_PORTS+=("$BCPORT" "$NCPORT" "$GCPORT")
fi
if [ "${#EXTRA_PORTS[@]}" -gt 0 ] && [ "$(printf '%s\n' "$BPORT" "$NPORT" "$GPORT" "$N2PORT" "${EXTRA_PORTS[@]}" | sort -u | wc -l)" != $((4 + ${#EXTRA_PORTS[@]})) ]; then
  die "ports must differ: ${BPORT} ${NPORT} ${GPORT} ${N2PORT} ${EXTRA_PORTS[*]}"
fi
case "$CORES" in
  1) ;;
  2) [ "$NCPU" -ge 2 ] || die "CORES=2 needs two cores (nproc=${NCPU})"
     for c in ${TWO_CPUS//,/ }; do [ "$c" -lt "$NCPU" ] || die "core ${c} of TWO_CPUS=${TWO_CPUS} does not exist (nproc=${NCPU})"; done ;;
  *) die "CORES must be 1 or 2, not ${CORES}" ;;
esac

echo "== gatehouse benchmark"
echo "command:  ${CMDLINE}"
echo "pinning:  ${PINNING}"
echo "load:     wrk -t${THREADS} -c${CONNS} -d${DURATION}s --latency -H '${KEY_HEADER}' (same for every target; ${WARMUP}s warm-up each, not reported; ${ROUNDS} round(s), interleaved)"
echo "host:     $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), CLK_TCK=${CLK_TCK}"
echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}')"
echo "ports:    backend ${BPORT}, nginx ${NPORT}, gatehouse ${GPORT}; output in ${OUT}"
if [ "$TLS" = "1" ]; then
  echo "TLS:      nginx ${NTPORT}, gatehouse ${GTPORT} (TLS 1.3, the same self-signed ECDSA P-256 certificate)"
fi
if [ "$CORES" = "2" ]; then
  echo "2 cores:  backend ${BCPORT}, nginx ${NCPORT}, gatehouse ${GCPORT}; each of them and wrk -t2 on cores ${TWO_CPUS}"
fi

# ---------------------------------------------------------------- build gatehouse
GIT_REV=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO_ROOT" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null || true)" ]; then
  GIT_REV="${GIT_REV}+dirty"
fi
if [ "$SKIP_GATEHOUSE" != "1" ]; then
  if [ "$SKIP_BUILD" != "1" ]; then
    log "cargo build --release -p gatehouse (log: ${OUT}/build.log)"
    if ! (cd "$REPO_ROOT" && cargo build --release -p gatehouse) >"${OUT}/build.log" 2>&1; then
      log "build failed; last 30 lines of ${OUT}/build.log:"
      tail -n 30 "${OUT}/build.log" >&2
      exit 1
    fi
  fi
  [ -x "$GATEHOUSE_BIN" ] || die "${GATEHOUSE_BIN} not found"
fi

busy_pct() { # % of one core busy over the next second
  local q0 q1
  read -r q0 _ < <(sys_ticks); sleep 1; read -r q1 _ < <(sys_ticks)
  awk -v d=$((q1 - q0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", d / hz * 100 }'
}
BUSY_BEFORE=$(busy_pct)
if [ "$WAIT_QUIET" -gt 0 ] && [ "$BUSY_BEFORE" -gt "$NOISE_LIMIT" ]; then
  log "machine busy (${BUSY_BEFORE}% of a core): waiting up to ${WAIT_QUIET}s for it to be quiet"
  quiet_deadline=$((SECONDS + WAIT_QUIET))
  while [ "$BUSY_BEFORE" -gt "$NOISE_LIMIT" ] && [ "$SECONDS" -lt "$quiet_deadline" ]; do
    BUSY_BEFORE=$(busy_pct)
  done
fi
echo "idle:     ${BUSY_BEFORE}% of a core busy before the run$(awk -v b="$BUSY_BEFORE" -v l="$NOISE_LIMIT" 'BEGIN { if (b > l) print "  <-- WARNING: the machine is not quiet" }')"
echo
# ---------------------------------------------------------------- configs
if [ "$TLS" = "1" ]; then
  # one self-signed ECDSA P-256 certificate per run, served by both proxies
  TLS_CERT_CMD=(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2
    -subj /CN=bench.gatehouse.test -addext "subjectAltName=DNS:bench.gatehouse.test,IP:127.0.0.1"
    -keyout "${OUT}/tls-key.pem" -out "${OUT}/tls-cert.pem")
  "${TLS_CERT_CMD[@]}" >"${OUT}/tls-cert.log" 2>&1 || { cat "${OUT}/tls-cert.log" >&2; die "openssl could not make the certificate"; }
  TLS_CERT_DESC="self-signed ECDSA P-256 (prime256v1) certificate, SHA-256 signature, ${OUT}/tls-cert.pem"
fi
mkdir -p "${OUT}/backend" "${OUT}/nginx"
backend_conf() { # name workers port: a fast, small-response HTTP/1.1 server
  cat <<EOF
# backend: a fast, small-response HTTP/1.1 server (generated by bench/run.sh)
worker_processes $2;
worker_rlimit_nofile 65536;
pid ${OUT}/$1.pid;
error_log ${OUT}/$1-error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path ${OUT}/$1/client_body;
    proxy_temp_path ${OUT}/$1/proxy;
    fastcgi_temp_path ${OUT}/$1/fastcgi;
    uwsgi_temp_path ${OUT}/$1/uwsgi;
    scgi_temp_path ${OUT}/$1/scgi;
    server {
        listen 127.0.0.1:$3 backlog=4096;
        location / { return 200 "hello world\n"; }
    }
}
EOF
}
backend_conf backend 1 "$BPORT" >"${OUT}/backend.conf"

H2_SERVER=""
if [ "$H2" = "1" ]; then
  H2_SERVER="
    server {
        listen 127.0.0.1:${N2PORT} http2 backlog=4096;   # h2c (prior knowledge), H2=1 only
        location /bench/ { proxy_pass http://backend/; }
    }"
fi
if [ "$TLS" = "1" ]; then
  H2_SERVER+="
    server {
        listen 127.0.0.1:${NTPORT} ssl backlog=4096;   # TLS=1 only
        ssl_certificate ${OUT}/tls-cert.pem;
        ssl_certificate_key ${OUT}/tls-key.pem;
        ssl_protocols TLSv1.3;
        location /bench/ { proxy_pass http://backend/; }
    }"
fi
proxy_nginx_conf() { # name workers port backend_port extra_servers: the nginx proxy under test
  cat <<EOF
# nginx proxy under test (generated by bench/run.sh)
worker_processes $2;
worker_rlimit_nofile 65536;
pid ${OUT}/$1.pid;
error_log ${OUT}/$1-error.log warn;
events { worker_connections 16384; }
http {
    access_log ${OUT}/$1-access.log;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path ${OUT}/$1/client_body;
    proxy_temp_path ${OUT}/$1/proxy;
    fastcgi_temp_path ${OUT}/$1/fastcgi;
    uwsgi_temp_path ${OUT}/$1/uwsgi;
    scgi_temp_path ${OUT}/$1/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    upstream backend {
        server 127.0.0.1:$4;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:$3 backlog=4096;
        location /bench/ { proxy_pass http://backend/; }
    }$5
}
EOF
}
proxy_nginx_conf nginx 1 "$NPORT" "$BPORT" "$H2_SERVER" >"${OUT}/nginx.conf"

# As a user runs it: subscription-key auth, an external deployment whose NSG judges every
# connection at accept, the access log on (the default), no tuning flags.
gatehouse_conf() { # port backend_port [tls_port]: with a tls_port, a TLS listener too (same process, same config otherwise)
  local listeners="{ address: \"127.0.0.1:$1\" }" ports="\"$1\"" hostnames=""
  if [ -n "${3:-}" ]; then
    listeners+=", { address: \"127.0.0.1:$3\", tls: true }"
    ports="[\"$1\", \"$3\"]"
    hostnames="
  hostnames:
    - { host_name: bench.gatehouse.test, default_ssl_binding: true, certificate: { cert_file: ${OUT}/tls-cert.pem, key_file: ${OUT}/tls-key.pem } }"
  fi
  cat <<EOF
service: { name: bench, sku: developer }
gateway:
  listeners: [ ${listeners} ]${hostnames}
backends:
  b: { url: "http://127.0.0.1:$2" }
network:
  type: external
  virtual_network:
    address_space: [10.0.0.0/16]
    subnet: { prefix: 10.0.1.0/24, nsg: bench-nsg }
  outbound: { allowed_destinations: [127.0.0.1/32] }
  network_security_groups:
    bench-nsg:
      security_rules:
        - { name: allow-clients, priority: 100, direction: inbound, access: allow, protocol: tcp, source: Internet, source_ports: "*", destination: "*", destination_ports: ${ports} }
apis:
  - id: bench
    path: bench
    backend: b
    subscription_required: true
    operations: [ { id: any, method: "*", url_template: "/*" } ]
subscriptions:
  - { id: s1, scope: all, primary_key: "${SUB_KEY}" }
EOF
}
gatehouse_conf "$GPORT" "$BPORT" "$(if [ "$TLS" = "1" ]; then echo "$GTPORT"; fi)" >"${OUT}/gatehouse.yaml"
if [ "${POLICIES}" = 1 ]; then
  # A typical inbound pipeline (bench/typical-policy.xml, which the divan benchmark
  # crates/gateway/benches/policy_request.rs runs too): ip-filter, rate-limit-by-key on the
  # subscription (a limit the run never reaches), set-header with an expression.
  {
    printf 'policies:\n  global: |\n'
    sed 's/^/    /' "${REPO_ROOT}/bench/typical-policy.xml"
  } >>"${OUT}/gatehouse.yaml"
fi
rm -f "${OUT}/nginx-access.log" "${OUT}/gatehouse.log" "${OUT}/results.json" "${OUT}"/*-wrk.txt "${OUT}"/*-warmup.txt "${OUT}"/h2-*.txt

# ---------------------------------------------------------------- start servers
start_nginx backend "${OUT}/backend.conf" "$BACKEND_CPU"; BACKEND_PID=$NGINX_PID
wait_http backend "http://127.0.0.1:${BPORT}/hello" "$BACKEND_PID" "${OUT}/backend-error.log"
start_nginx nginx "${OUT}/nginx.conf" "$PROXY_CPU"; PROXY_NGINX_PID=$NGINX_PID
wait_http nginx "http://127.0.0.1:${NPORT}/bench/hello" "$PROXY_NGINX_PID" "${OUT}/nginx-error.log"
check_hello direct "http://127.0.0.1:${BPORT}/hello"
check_hello nginx "http://127.0.0.1:${NPORT}/bench/hello"

if [ "$SKIP_GATEHOUSE" != "1" ]; then
  GATEHOUSE_CMD=(taskset -c "$PROXY_CPU" "$GATEHOUSE_BIN" serve --config "${OUT}/gatehouse.yaml")
  echo "(gatehouse) $(quote_cmd "${GATEHOUSE_CMD[@]}") >${OUT}/gatehouse.log 2>&1"
  "${GATEHOUSE_CMD[@]}" >"${OUT}/gatehouse.log" 2>&1 &
  GATEHOUSE_PID=$!
  STARTED_PIDS+=("$GATEHOUSE_PID")
  wait_http gatehouse "http://127.0.0.1:${GPORT}${HEALTH_PATH}" "$GATEHOUSE_PID" "${OUT}/gatehouse.log"
  code=$(http_code "http://127.0.0.1:${GPORT}/bench/hello")
  case "$code" in
    2*) die "gatehouse answered ${code} without a subscription key: auth is not on, the run would not measure it" ;;
    *) log "gatehouse without a key: ${code} (auth on)" ;;
  esac
  check_hello gatehouse "http://127.0.0.1:${GPORT}/bench/hello"
fi

tls_check() { # name port: a TLS 1.3 request with the key gives 200 "hello world"; sets R[tls.NAME.negotiated]
  local code hs
  code=$(curl -s -o "${OUT}/probe.body" -w '%{http_code}' --max-time 5 --tlsv1.3 --cacert "${OUT}/tls-cert.pem" \
    -H "$KEY_HEADER" "https://127.0.0.1:$2/bench/hello" 2>"${OUT}/probe.err" || true)
  [ "$code" = "200" ] || die "$1: GET https://127.0.0.1:$2/bench/hello answered ${code}, want 200: $(head -c 300 "${OUT}/probe.err")"
  grep -qx "hello world" "${OUT}/probe.body" || die "$1: https://127.0.0.1:$2/bench/hello did not return the backend's body"
  # what a client of the same OpenSSL as wrk's negotiates (protocol, cipher suite, key exchange group)
  hs=$(openssl s_client -connect "127.0.0.1:$2" -tls1_3 </dev/null 2>/dev/null \
    | awk '/^New, / { sub(/^New, /, ""); sub(/, Cipher is /, " "); p = $0 } /^Server Temp Key:/ { sub(/^Server Temp Key: /, ""); k = $0 }
           END { print p ", key exchange " k }')
  R[tls.$1.negotiated]=$hs
  log "$1 TLS: ${hs}"
}
if [ "$TLS" = "1" ]; then
  tls_check nginx "$NTPORT"
  if [ "$SKIP_GATEHOUSE" != "1" ]; then tls_check gatehouse "$GTPORT"; fi
fi

# ---------------------------------------------------------------- measure
for round in $(seq 1 "$ROUNDS"); do
  measure direct "http://127.0.0.1:${BPORT}/hello" "$BACKEND_PID" "backend" "$round"
  measure nginx "http://127.0.0.1:${NPORT}/bench/hello" "$PROXY_NGINX_PID" "nginx" "$round"
  if [ "$SKIP_GATEHOUSE" != "1" ]; then
    measure gatehouse "http://127.0.0.1:${GPORT}/bench/hello" "$GATEHOUSE_PID" "gatehouse" "$round"
  fi
done
for t in "${TARGETS[@]}"; do aggregate "$t"; done

# optional h2c section: h2load (prior knowledge) against nginx and gatehouse
H2_TARGETS=()
h2_measure() { # name url root; a failure is recorded, not fatal (the section is optional)
  local t=$1 url=$2 root=$3 t0 t1 line
  local -a pids cmd
  cmd=(taskset -c "$LOAD_CPU" h2load -n "$H2_REQUESTS" -c "$CONNS" -m "$H2_STREAMS" -t 1 -H "$KEY_HEADER" "$url")
  echo "(h2 ${t}) $(quote_cmd "${cmd[@]}")"
  H2_TARGETS+=("$t")
  R[h2.$t.cmd]=$(quote_cmd "${cmd[@]}")
  load "${OUT}/h2-${t}-warmup.txt" taskset -c "$LOAD_CPU" h2load -n "$((H2_REQUESTS / 10))" -c "$CONNS" -m "$H2_STREAMS" -t 1 -H "$KEY_HEADER" "$url" || true
  mapfile -t pids < <(tree_pids "$root")
  t0=$(ticks "${pids[@]}")
  if ! load "${OUT}/h2-${t}.txt" "${cmd[@]}"; then
    R[h2.$t.error]="h2load failed, see ${OUT}/h2-${t}.txt"; return 0
  fi
  t1=$(ticks "${pids[@]}")
  line=$(awk '/^finished in/ { rps = $4 } /^requests:/ { ok = $8; failed = $10 }
              /^status codes:/ { s2 = $3 } /^time for request:/ { mean = $6 }
              END { if (rps == "") exit 1; printf "%s %d %d %d %s\n", rps, ok, failed, s2, mean }' "${OUT}/h2-${t}.txt") \
    || { R[h2.$t.error]="could not parse ${OUT}/h2-${t}.txt"; return 0; }
  read -r "R[h2.$t.rps]" "R[h2.$t.succeeded]" "R[h2.$t.failed]" "R[h2.$t.status_2xx]" "R[h2.$t.mean_latency]" <<<"$line"
  if [ "${R[h2.$t.status_2xx]}" != "$H2_REQUESTS" ]; then
    R[h2.$t.error]="${R[h2.$t.status_2xx]} of ${H2_REQUESTS} requests got 2xx (${R[h2.$t.failed]} failed), see ${OUT}/h2-${t}.txt"
    return 0
  fi
  R[h2.$t.cpu_us_per_req]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="${R[h2.$t.succeeded]}" 'BEGIN { printf "%.2f", (n > 0) ? d / hz * 1e6 / n : 0 }')
}
if [ "$H2" = "1" ]; then
  h2_measure nginx "http://127.0.0.1:${N2PORT}/bench/hello" "$PROXY_NGINX_PID"
  if [ "$SKIP_GATEHOUSE" != "1" ]; then
    h2_measure gatehouse "http://127.0.0.1:${GPORT}/bench/hello" "$GATEHOUSE_PID"
  fi
fi

# optional TLS section: TLS 1.3 over wrk (OpenSSL), keep-alive and one new handshake per request
TLS_TARGETS=()
take_targets() { # n: move the targets measured after the first n out of TARGETS into SECTION_TARGETS
  SECTION_TARGETS=("${TARGETS[@]:$1}")
  TARGETS=("${TARGETS[@]:0:$1}")
  local t
  for t in "${SECTION_TARGETS[@]}"; do aggregate "$t"; done
}
if [ "$TLS" = "1" ]; then
  echo
  echo "TLS 1.3 section (${TLS_CERT_DESC}):"
  n0=${#TARGETS[@]}
  for round in $(seq 1 "$ROUNDS"); do
    measure nginx-tls "https://127.0.0.1:${NTPORT}/bench/hello" "$PROXY_NGINX_PID" "nginx" "$round"
    if [ "$SKIP_GATEHOUSE" != "1" ]; then
      measure gatehouse-tls "https://127.0.0.1:${GTPORT}/bench/hello" "$GATEHOUSE_PID" "gatehouse" "$round"
    fi
    # every request on a new connection: the proxy answers with Connection: close and closes, wrk
    # reconnects with a full handshake (it does not resume sessions); conns/req checks it
    WRK_EXTRA=(-H "Connection: close")
    measure nginx-hs "https://127.0.0.1:${NTPORT}/bench/hello" "$PROXY_NGINX_PID" "nginx" "$round"
    if [ "$SKIP_GATEHOUSE" != "1" ]; then
      measure gatehouse-hs "https://127.0.0.1:${GTPORT}/bench/hello" "$GATEHOUSE_PID" "gatehouse" "$round"
    fi
    WRK_EXTRA=()
  done
  take_targets "$n0"
  TLS_TARGETS=("${SECTION_TARGETS[@]}")
fi

# optional two-core section: the proxy under test, the backend and wrk -t2 all on the same two cores
CORE2_TARGETS=()
if [ "$CORES" = "2" ]; then
  echo
  echo "two-core section: proxy under test (nginx worker_processes 2 / gatehouse default flags), backend nginx (worker_processes 2) and wrk -t2, each on cores ${TWO_CPUS}:"
  mkdir -p "${OUT}/backend2c" "${OUT}/nginx2c"
  backend_conf backend2c 2 "$BCPORT" >"${OUT}/backend2c.conf"
  proxy_nginx_conf nginx2c 2 "$NCPORT" "$BCPORT" "" >"${OUT}/nginx2c.conf"
  rm -f "${OUT}/nginx2c-access.log" "${OUT}/gatehouse-2c.log"
  start_nginx backend2c "${OUT}/backend2c.conf" "$TWO_CPUS"; BACKEND2C_PID=$NGINX_PID
  wait_http backend2c "http://127.0.0.1:${BCPORT}/hello" "$BACKEND2C_PID" "${OUT}/backend2c-error.log"
  start_nginx nginx2c "${OUT}/nginx2c.conf" "$TWO_CPUS"; NGINX2C_PID=$NGINX_PID
  wait_http nginx2c "http://127.0.0.1:${NCPORT}/bench/hello" "$NGINX2C_PID" "${OUT}/nginx2c-error.log"
  check_hello direct-2c "http://127.0.0.1:${BCPORT}/hello"
  check_hello nginx-2c "http://127.0.0.1:${NCPORT}/bench/hello"
  echo "  nginx workers: $(children "$NGINX2C_PID" | wc -l) (proxy), $(children "$BACKEND2C_PID" | wc -l) (backend)"
  if [ "$SKIP_GATEHOUSE" != "1" ]; then
    gatehouse_conf "$GCPORT" "$BCPORT" >"${OUT}/gatehouse-2c.yaml"
    sed -n '/^policies:/,$p' "${OUT}/gatehouse.yaml" >>"${OUT}/gatehouse-2c.yaml"   # the same pipeline with POLICIES=1
    GATEHOUSE2C_CMD=(taskset -c "$TWO_CPUS" "$GATEHOUSE_BIN" serve --config "${OUT}/gatehouse-2c.yaml")
    echo "(gatehouse-2c) $(quote_cmd "${GATEHOUSE2C_CMD[@]}") >${OUT}/gatehouse-2c.log 2>&1"
    "${GATEHOUSE2C_CMD[@]}" >"${OUT}/gatehouse-2c.log" 2>&1 &
    GATEHOUSE2C_PID=$!
    STARTED_PIDS+=("$GATEHOUSE2C_PID")
    wait_http gatehouse-2c "http://127.0.0.1:${GCPORT}${HEALTH_PATH}" "$GATEHOUSE2C_PID" "${OUT}/gatehouse-2c.log"
    code=$(http_code "http://127.0.0.1:${GCPORT}/bench/hello")
    case "$code" in 2*) die "gatehouse-2c answered ${code} without a subscription key: auth is not on" ;; esac
    check_hello gatehouse-2c "http://127.0.0.1:${GCPORT}/bench/hello"
    # the workers it chose from its affinity: its start line, and its threads (comm is cut to 15 bytes)
    G2C_WORKERS_LOG=$(grep -o '"workers":[0-9]*' "${OUT}/gatehouse-2c.log" | head -n 1 | cut -d: -f2 || true)
    G2C_WORKERS_THREADS=$(cat "/proc/${GATEHOUSE2C_PID}/task/"*/comm 2>/dev/null | grep -c '^gatehouse-worke' || true)
    echo "  gatehouse workers: ${G2C_WORKERS_LOG:-?} (its 'gatehouse started' line), ${G2C_WORKERS_THREADS} gatehouse-worker-N threads"
    [ "${G2C_WORKERS_THREADS}" = "2" ] || log "WARNING gatehouse-2c runs ${G2C_WORKERS_THREADS} worker threads, not 2"
  fi
  saved=("$PROXY_CPU" "$LOAD_CPU" "$THREADS" "$BACKEND_PID")
  PROXY_CPU=$TWO_CPUS; LOAD_CPU=$TWO_CPUS; THREADS=2; BACKEND_PID=$BACKEND2C_PID
  n0=${#TARGETS[@]}
  for round in $(seq 1 "$ROUNDS"); do
    measure direct-2c "http://127.0.0.1:${BCPORT}/hello" "$BACKEND2C_PID" "backend" "$round"
    measure nginx-2c "http://127.0.0.1:${NCPORT}/bench/hello" "$NGINX2C_PID" "nginx" "$round"
    if [ "$SKIP_GATEHOUSE" != "1" ]; then
      measure gatehouse-2c "http://127.0.0.1:${GCPORT}/bench/hello" "$GATEHOUSE2C_PID" "gatehouse" "$round"
    fi
  done
  PROXY_CPU=${saved[0]}; LOAD_CPU=${saved[1]}; THREADS=${saved[2]}; BACKEND_PID=${saved[3]}
  take_targets "$n0"
  CORE2_TARGETS=("${SECTION_TARGETS[@]}")
fi

# ---------------------------------------------------------------- report
if [ "$ROUNDS" -gt 1 ]; then
  echo
  echo "rounds:"
  for round in $(seq 1 "$ROUNDS"); do
    for t in "${TARGETS[@]}"; do
      printf '  %2s %-10s %11s req/s  p99 %8s us  CPU %7s us/req  other CPU %5s%%\n' "$round" "$t" "${R[$t.r$round.rps]}" \
        "${R[$t.r$round.p99_us]}" "${R[$t.r$round.cpu_us_per_req]}" "${R[$t.r$round.other_cpu_pct]}"
    done
  done
  echo "medians over ${ROUNDS} rounds:"
fi
echo
printf '%-10s %11s %8s %8s %11s %12s %-10s %15s %10s %12s\n' \
  target "req/s" "p50 us" "p99 us" "CPU us/req" "peak RSS" "(of)" "backend us/req" "other CPU" "cores busy"
for t in "${TARGETS[@]}"; do
  printf '%-10s %11s %8s %8s %11s %8.1f MiB %-10s %15s %9s%% %12s\n' "$t" "${R[$t.rps]}" "${R[$t.p50_us]}" "${R[$t.p99_us]}" \
    "${R[$t.cpu_us_per_req]}" "$(awk -v k="${R[$t.peak_rss_kb]}" 'BEGIN { print k / 1024 }')" "${R[$t.cpu_of]}" \
    "${R[$t.backend_cpu_us_per_req]}" "${R[$t.other_cpu_pct]}" "${R[$t.proxy_core_busy_pct]}% ${R[$t.load_core_busy_pct]}%"
done
echo "(CPU us/req and peak RSS are the proxy's: nginx master+worker CPU, worker VmHWM; gatehouse's process;"
echo " for direct they are the backend's. 'backend us/req' is the backend nginx's CPU per request in each run."
echo " 'other CPU' is what processes other than proxy, backend and wrk took, in % of one core: keep it near 0."
echo " 'cores busy': the proxy's core ${PROXY_CPU}, then wrk's core ${LOAD_CPU}, in % busy during the run.)"
if [ "$NOISY" = "1" ]; then
  echo "WARNING: the machine was not quiet (other CPU or steal above ${NOISE_LIMIT}% of a core in some run):"
  echo "         stop other work (builds, tests) and run again before trusting these figures."
fi
for t in "${TARGETS[@]}"; do
  [ "${R[$t.non2xx]}" = "0" ] && [ "${R[$t.socket_errors]}" = "0" ] \
    || echo "WARNING ${t}: ${R[$t.non2xx]} non-2xx responses, ${R[$t.socket_errors]} socket errors: its figures are not valid"
done

RATIO_RPS=null; RATIO_CPU=null; RATIO_P99=null; RATIO_DIRECT=null
V_RPS="N/A"; V_CPU="N/A"; V_P99="N/A"
if [ -n "${R[gatehouse.rps]:-}" ]; then
  RATIO_RPS=$(ratio "${R[gatehouse.rps]}" "${R[nginx.rps]}")
  RATIO_CPU=$(ratio "${R[gatehouse.cpu_us_per_req]}" "${R[nginx.cpu_us_per_req]}")
  RATIO_P99=$(ratio "${R[gatehouse.p99_us]}" "${R[nginx.p99_us]}")
  RATIO_DIRECT=$(ratio "${R[gatehouse.rps]}" "${R[direct.rps]}")
  V_RPS=$(verdict "$RATIO_RPS" ">=" 1.0)
  V_CPU=$(verdict "$RATIO_CPU" "<=" 1.0)
  V_P99=$(verdict "$RATIO_P99" "<=" 1.2)
  if [ "$INVALID" = "1" ]; then V_RPS="INVALID"; V_CPU="INVALID"; V_P99="INVALID"; fi
  echo
  echo "gatehouse / nginx:  req/s ${RATIO_RPS}x   CPU per request ${RATIO_CPU}x   p99 ${RATIO_P99}x"
  echo "gatehouse / direct: req/s ${RATIO_DIRECT}x"
  echo
  echo "targets from the issue:"
  printf '  req/s           >= 1.0x nginx : %-7s %s\n' "${RATIO_RPS}x" "$V_RPS"
  printf '  CPU per request <= 1.0x nginx : %-7s %s\n' "${RATIO_CPU}x" "$V_CPU"
  printf '  p99 latency     <= 1.2x nginx : %-7s %s\n' "${RATIO_P99}x" "$V_P99"
else
  echo
  echo "nginx / direct: req/s $(ratio "${R[nginx.rps]}" "${R[direct.rps]}")x   (gatehouse skipped: SKIP_GATEHOUSE=1)"
fi

if [ "${#H2_TARGETS[@]}" -gt 0 ]; then
  echo
  echo "h2c (h2load -n ${H2_REQUESTS} -c ${CONNS} -m ${H2_STREAMS} -t 1, prior knowledge; backend leg HTTP/1.1):"
  for t in "${H2_TARGETS[@]}"; do
    if [ -n "${R[h2.$t.error]:-}" ]; then
      printf '  %-10s FAILED: %s\n' "$t" "${R[h2.$t.error]}"
    else
      printf '  %-10s %12s req/s  CPU %8s us/req  mean latency %s\n' "$t" "${R[h2.$t.rps]}" \
        "${R[h2.$t.cpu_us_per_req]}" "${R[h2.$t.mean_latency]}"
    fi
  done
fi

section_rows() { # the figures of the given targets, as the main table plus connections accepted per request
  local t
  printf '  %-13s %11s %8s %8s %11s %12s %-10s %15s %10s %10s %12s\n' \
    target "req/s" "p50 us" "p99 us" "CPU us/req" "peak RSS" "(of)" "backend us/req" "conns/req" "other CPU" "cores busy"
  for t in "$@"; do
    printf '  %-13s %11s %8s %8s %11s %8.1f MiB %-10s %15s %10s %9s%% %12s\n' "$t" "${R[$t.rps]}" "${R[$t.p50_us]}" "${R[$t.p99_us]}" \
      "${R[$t.cpu_us_per_req]}" "$(awk -v k="${R[$t.peak_rss_kb]}" 'BEGIN { print k / 1024 }')" "${R[$t.cpu_of]}" \
      "${R[$t.backend_cpu_us_per_req]}" "${R[$t.conns_per_req]}" "${R[$t.other_cpu_pct]}" "${R[$t.proxy_core_busy_pct]}% ${R[$t.load_core_busy_pct]}%"
    [ "${R[$t.non2xx]}" = "0" ] && [ "${R[$t.socket_errors]}" = "0" ] \
      || echo "  WARNING ${t}: ${R[$t.non2xx]} non-2xx responses, ${R[$t.socket_errors]} socket errors: its figures are not valid"
  done
}

TLS_RATIO_KA_RPS=null; TLS_RATIO_KA_CPU=null; TLS_RATIO_HS=null; TLS_RATIO_HS_CPU=null; V_TLS_KA="N/A"; V_TLS_HS="N/A"
if [ "${#TLS_TARGETS[@]}" -gt 0 ]; then
  echo
  echo "TLS 1.3, ${TLS_CERT_DESC}; client wrk with $(openssl version | awk '{print $1, $2}') (no session resumption):"
  echo "  negotiated: nginx ${R[tls.nginx.negotiated]}$(if [ -n "${R[tls.gatehouse.negotiated]:-}" ]; then echo "; gatehouse ${R[tls.gatehouse.negotiated]}"; fi)"
  section_rows "${TLS_TARGETS[@]}"
  echo "  (*-tls: keep-alive, the plain rows' load over https. *-hs: wrk -H 'Connection: close', so every request is a new"
  echo "   TCP connection with a full TLS 1.3 handshake: req/s = handshakes/s and CPU us/req = CPU per handshake (and its"
  echo "   request). conns/req: TCP connections accepted (PassiveOpens, /proc/net/snmp) beyond wrk's -c${CONNS} per request:"
  echo "   0 with keep-alive, 1 when each request has its own connection and handshake.)"
  for t in "${TLS_TARGETS[@]}"; do
    case "$t" in *-hs)
      awk -v c="${R[$t.conns_per_req]}" 'BEGIN { exit !(c < 0.95 || c > 1.05) }' \
        && echo "  WARNING ${t}: ${R[$t.conns_per_req]} connections per request, not 1: not one handshake per request" ;;
    esac
  done
  if [ -n "${R[gatehouse-tls.rps]:-}" ]; then
    TLS_RATIO_KA_RPS=$(ratio "${R[gatehouse-tls.rps]}" "${R[nginx-tls.rps]}")
    TLS_RATIO_KA_CPU=$(ratio "${R[gatehouse-tls.cpu_us_per_req]}" "${R[nginx-tls.cpu_us_per_req]}")
    TLS_RATIO_HS=$(ratio "${R[gatehouse-hs.rps]}" "${R[nginx-hs.rps]}")
    TLS_RATIO_HS_CPU=$(ratio "${R[gatehouse-hs.cpu_us_per_req]}" "${R[nginx-hs.cpu_us_per_req]}")
    V_TLS_KA=$(verdict "$TLS_RATIO_KA_RPS" ">=" 1.0)
    V_TLS_HS=$(verdict "$TLS_RATIO_HS" ">=" 0.9)
    if [ "$INVALID" = "1" ]; then V_TLS_KA="INVALID"; V_TLS_HS="INVALID"; fi
    echo "  gatehouse / nginx, keep-alive:     req/s ${TLS_RATIO_KA_RPS}x   CPU per request ${TLS_RATIO_KA_CPU}x"
    echo "  gatehouse / nginx, new handshakes: handshakes/s ${TLS_RATIO_HS}x   CPU per handshake ${TLS_RATIO_HS_CPU}x"
    echo "  targets from the issue:"
    printf '    TLS handshakes/s >= 0.9x nginx : %-7s %s\n' "${TLS_RATIO_HS}x" "$V_TLS_HS"
    printf '    TLS keep-alive req/s >= 1.0x nginx : %-7s %s\n' "${TLS_RATIO_KA_RPS}x" "$V_TLS_KA"
  fi
fi

C2_RATIO_RPS=null; C2_RATIO_CPU=null; V_C2="N/A"
if [ "${#CORE2_TARGETS[@]}" -gt 0 ]; then
  echo
  echo "two cores (${TWO_CPUS}): proxy under test with 2 workers (nginx worker_processes 2; gatehouse default flags: ${G2C_WORKERS_THREADS:-?} workers),"
  echo "backend nginx worker_processes 2, wrk -t2 -c${CONNS}, all pinned to the same two cores:"
  section_rows "${CORE2_TARGETS[@]}"
  echo "  (CPU us/req: all the proxy's processes/threads over both cores; 'cores busy': cores ${TWO_CPUS} together, twice.)"
  if [ -n "${R[gatehouse-2c.rps]:-}" ]; then
    C2_RATIO_RPS=$(ratio "${R[gatehouse-2c.rps]}" "${R[nginx-2c.rps]}")
    C2_RATIO_CPU=$(ratio "${R[gatehouse-2c.cpu_us_per_req]}" "${R[nginx-2c.cpu_us_per_req]}")
    V_C2=$(verdict "$C2_RATIO_RPS" ">=" "$RATIO_RPS")
    if [ "$INVALID" = "1" ]; then V_C2="INVALID"; fi
    echo "  gatehouse / nginx, two cores: req/s ${C2_RATIO_RPS}x   CPU per request ${C2_RATIO_CPU}x"
    echo "  gatehouse / nginx, one core (this run, above): req/s ${RATIO_RPS}x   CPU per request ${RATIO_CPU}x"
    echo "  target from the issue:"
    printf '    two-core req/s ratio >= one-core ratio : %s >= %s  %s\n' "${C2_RATIO_RPS}x" "${RATIO_RPS}x" "$V_C2"
    echo "    (two ratios of one run each: a difference of a few per cent is within the noise; use ROUNDS=3)"
  fi
fi

# ---------------------------------------------------------------- results.json
{
  echo "{"
  printf '  "timestamp": %s,\n' "$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "command": %s,\n' "$(jstr "$CMDLINE")"
  printf '  "pinning": {"proxy_cpu": %s, "load_cpu": %s, "backend_cpu": %s, "text": %s},\n' \
    "$PROXY_CPU" "$LOAD_CPU" "$BACKEND_CPU" "$(jstr "$PINNING")"
  printf '  "load": {"tool": "wrk", "threads": %s, "connections": %s, "duration_s": %s, "warmup_s": %s, "rounds": %s},\n' \
    "$THREADS" "$CONNS" "$DURATION" "$WARMUP" "$ROUNDS"
  printf '  "host": {"nproc": %s, "kernel": %s, "clk_tck": %s, "busy_before_pct": %s},\n' \
    "$NCPU" "$(jstr "$(uname -r)")" "$CLK_TCK" "$BUSY_BEFORE"
  printf '  "versions": {"nginx": %s, "wrk": %s, "gatehouse_git": %s},\n' \
    "$(jstr "$(nginx -v 2>&1 | sed 's/^nginx version: //')")" "$(jstr "$(wrk -v 2>&1 | head -n 1 | awk '{print $2}')")" "$(jstr "$GIT_REV")"
  echo '  "targets": {'
  n=0
  for t in "${TARGETS[@]}"; do
    n=$((n + 1))
    printf '    "%s": {"url": %s, "wrk": %s, "requests": %s, "duration_s": %s, "rps": %s, "p50_us": %s, "p99_us": %s, "cpu_of": %s, "cpu_us_per_req": %s, "peak_rss_kb": %s, "backend_cpu_us_per_req": %s, "other_cpu_pct": %s, "steal_pct": %s, "proxy_core_busy_pct": %s, "load_core_busy_pct": %s, "non_2xx": %s, "socket_errors": %s, "rounds": [%s]}%s\n' \
      "$t" "$(jstr "${R[$t.url]}")" "$(jstr "${R[$t.cmd]}")" "${R[$t.requests]}" "${R[$t.duration_s]}" "${R[$t.rps]}" \
      "${R[$t.p50_us]}" "${R[$t.p99_us]}" "$(jstr "${R[$t.cpu_of]}")" "${R[$t.cpu_us_per_req]}" "${R[$t.peak_rss_kb]}" \
      "${R[$t.backend_cpu_us_per_req]}" "${R[$t.other_cpu_pct]}" "${R[$t.steal_pct]}" "${R[$t.proxy_core_busy_pct]}" "${R[$t.load_core_busy_pct]}" "${R[$t.non2xx]}" "${R[$t.socket_errors]}" "$(json_rounds "$t")" "$(if [ "$n" -lt "${#TARGETS[@]}" ]; then echo ,; fi)"
  done
  echo '  },'
  printf '  "ratios": {"gatehouse_over_nginx": {"rps": %s, "cpu_per_req": %s, "p99": %s}, "gatehouse_over_direct": {"rps": %s}},\n' \
    "$RATIO_RPS" "$RATIO_CPU" "$RATIO_P99" "$RATIO_DIRECT"
  printf '  "targets_from_issue": {"rps_ge_1.0x_nginx": %s, "cpu_per_req_le_1.0x_nginx": %s, "p99_le_1.2x_nginx": %s},\n' \
    "$(jstr "$V_RPS")" "$(jstr "$V_CPU")" "$(jstr "$V_P99")"
  printf '  "valid": %s, "machine_quiet": %s, "noise_limit_pct": %s,\n' \
    "$([ "$INVALID" = "0" ] && echo true || echo false)" "$([ "$NOISY" = "0" ] && echo true || echo false)" "$NOISE_LIMIT"
  printf '  "h2c": {'
  n=0
  for t in "${H2_TARGETS[@]}"; do
    n=$((n + 1))
    printf '%s"%s": ' "$(if [ "$n" -gt 1 ]; then echo ", "; fi)" "$t"
    if [ -n "${R[h2.$t.error]:-}" ]; then
      printf '{"h2load": %s, "error": %s}' "$(jstr "${R[h2.$t.cmd]}")" "$(jstr "${R[h2.$t.error]}")"
    else
      printf '{"h2load": %s, "rps": %s, "succeeded": %s, "cpu_us_per_req": %s, "mean_latency": %s}' \
        "$(jstr "${R[h2.$t.cmd]}")" "${R[h2.$t.rps]}" "${R[h2.$t.succeeded]}" "${R[h2.$t.cpu_us_per_req]}" \
        "$(jstr "${R[h2.$t.mean_latency]}")"
    fi
  done
  printf '}'
  if [ "${#TLS_TARGETS[@]}" -gt 0 ]; then
    printf ',\n  "tls": {"certificate": %s, "client": %s, "negotiated": {"nginx": %s, "gatehouse": %s},\n' \
      "$(jstr "$TLS_CERT_DESC")" "$(jstr "wrk, $(openssl version)")" "$(jstr "${R[tls.nginx.negotiated]}")" "$(jstr "${R[tls.gatehouse.negotiated]:-}")"
    printf '    "rows": {'; json_rows "${TLS_TARGETS[@]}"; printf '},\n'
    printf '    "ratios": {"keep_alive": {"rps": %s, "cpu_per_req": %s}, "new_handshakes": {"handshakes_per_s": %s, "cpu_per_handshake": %s}},\n' \
      "$TLS_RATIO_KA_RPS" "$TLS_RATIO_KA_CPU" "$TLS_RATIO_HS" "$TLS_RATIO_HS_CPU"
    printf '    "targets_from_issue": {"handshakes_per_s_ge_0.9x_nginx": %s, "keep_alive_rps_ge_1.0x_nginx": %s}}' "$(jstr "$V_TLS_HS")" "$(jstr "$V_TLS_KA")"
  fi
  if [ "${#CORE2_TARGETS[@]}" -gt 0 ]; then
    printf ',\n  "two_cores": {"cpus": %s, "wrk_threads": 2, "nginx_workers": 2, "backend_workers": 2, "gatehouse_worker_threads": %s,\n' \
      "$(jstr "$TWO_CPUS")" "${G2C_WORKERS_THREADS:-null}"
    printf '    "rows": {'; json_rows "${CORE2_TARGETS[@]}"; printf '},\n'
    printf '    "ratios": {"gatehouse_over_nginx": {"rps": %s, "cpu_per_req": %s}, "one_core_gatehouse_over_nginx": {"rps": %s, "cpu_per_req": %s}},\n' \
      "$C2_RATIO_RPS" "$C2_RATIO_CPU" "$RATIO_RPS" "$RATIO_CPU"
    printf '    "targets_from_issue": {"two_core_rps_ratio_ge_one_core": %s}}' "$(jstr "$V_C2")"
  fi
  echo
  echo "}"
} >"${OUT}/results.json"
echo
echo "results: ${OUT}/results.json"

if [ "$INVALID" = "1" ]; then
  log "some targets had errors or non-2xx responses: figures not valid"
  exit 2
fi
if [ "$STRICT" = "1" ]; then
  for v in "$V_RPS" "$V_CPU" "$V_P99" "$V_TLS_HS" "$V_C2"; do
    [ "$v" = "PASS" ] || [ "$v" = "N/A" ] || exit 1
  done
fi
exit 0
