#!/usr/bin/env bash
# Reads through the server on each engine: raftkv with its state in RocksDB (the default)
# against raftkv --engine memory (and etcd, if SYSTEMS names it), with the same load generator,
# on the same data.
#
# Per round and system (the order alternates between rounds): a fresh three-member cluster on
# loopback (bench/cluster.sh), KEYS keys of VALUE_BYTES loaded with raftkv-bench, then range
# reads of one key drawn at random from them, each workload for DURATION seconds:
#   get-s-1    serializable, 1 client       latency of the read path alone
#   get-l-1    linearizable, 1 client       the same plus a ReadIndex round
#   get-s-64   serializable, 64 clients over 8 connections   throughput
#   get-l-64   linearizable, 64 clients over 8 connections
# The one-client workloads go to the leader (a follower's linearizable read costs one more hop,
# and which member leads differs from cluster to cluster); the 64-client ones spread their
# connections over the three members.
# The table gives the median over ROUNDS of requests/s, p50 and p99 (ms), and each system's p50
# and p99 as a multiple of raftkv --engine memory's.
#
#   bench/read_bench.sh                         # KEYS=100000 VALUE_BYTES=1024 ROUNDS=3 DURATION=5
#   SYSTEMS="raftkv-memory raftkv etcd" KEYS=1000000 bench/read_bench.sh
#
# Needs a release build (`cmake --preset release && ninja -C build/release raftkv-server
# raftkv-bench`) and Debian's etcd-client (etcdctl, for the health check). Raw JSON reports and
# results.tsv: build/read-bench/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/build/read-bench"
RAFTKV_SERVER="${RAFTKV_SERVER:-$ROOT/build/release/tools/raftkv-server}"
RAFTKV_BENCH="${RAFTKV_BENCH:-$ROOT/build/release/tools/raftkv-bench}"
RAFTKV_NULL_SERVER=""
RAFTKV_BASE_SERVER="${RAFTKV_BASE_SERVER:-}"
SYSTEMS="${SYSTEMS:-raftkv-memory raftkv}"
KEYS="${KEYS:-100000}"
VALUE_BYTES="${VALUE_BYTES:-1024}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
BASE_PORT="${BASE_PORT:-44379}"
WORKLOADS="get-s-1 get-l-1 get-s-64 get-l-64"
export ETCDCTL_API=3

source "$ROOT/bench/cluster.sh"
trap stop_cluster EXIT

[[ -x $RAFTKV_SERVER && -x $RAFTKV_BENCH ]] || die "build raftkv-server and raftkv-bench first"
command -v etcdctl >/dev/null || die "install etcd-client"
[[ $SYSTEMS != *etcd* ]] || command -v etcd >/dev/null || die "install etcd-server"

# Runs one workload against the started cluster; writes raftkv-bench's JSON report to $2.
run_workload() {  # $1 = workload, $2 = report file
  local consistency clients conns endpoints
  case "$1" in
    get-s-*) consistency=s ;;
    get-l-*) consistency=l ;;
    *) die "unknown workload $1" ;;
  esac
  clients="${1##*-}"
  conns=$((clients < 8 ? clients : 8))
  endpoints="$ENDPOINTS"
  ((clients > 1)) || endpoints=$(leader_endpoint)
  "$RAFTKV_BENCH" range --consistency "$consistency" --endpoints "$endpoints" \
    --clients "$clients" --conns "$conns" --key-size 16 --key-space "$KEYS" \
    --duration "$DURATION" --no-progress --json "$2" >/dev/null 2>&1 ||
    die "$1 failed; see $2"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["errors"] != 0)' "$2" ||
    die "$1 had errors; see $2"
}

# requests/s, p50 and p99 in ms, tab-separated, from a report.
report_figures() {
  python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print("%.0f\t%.3f\t%.3f" % (r["requests_per_second"], l["p50"], l["p99"]))' "$1"
}

mkdir -p "$WORK"
RESULTS="$WORK/results.tsv"
printf 'round\tsystem\tworkload\trequests_per_s\tp50_ms\tp99_ms\n' >"$RESULTS"
read -r -a systems <<<"$SYSTEMS"
for ((round = 1; round <= ROUNDS; round++)); do
  order=("${systems[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#systems[@]} - 1; i >= 0; i--)); do order+=("${systems[$i]}"); done
  fi
  for system in "${order[@]}"; do
    dir="$WORK/data/$system"
    log "round $round: $system, loading $KEYS keys of $VALUE_BYTES bytes"
    start_cluster "$system" "$dir"
    "$RAFTKV_BENCH" put --endpoints "$ENDPOINTS" --clients 64 --conns 3 --key-size 16 \
      --val-size "$VALUE_BYTES" --key-space "$KEYS" --sequential-keys --total "$KEYS" \
      --no-progress >"$dir/load.txt" 2>&1 || die "loading failed; see $dir/load.txt"
    for workload in $WORKLOADS; do
      report="$WORK/r$round-$system-$workload.json"
      run_workload "$workload" "$report"
      printf '%s\t%s\t%s\t%s\n' "$round" "$system" "$workload" "$(report_figures "$report")" \
        >>"$RESULTS"
      log "round $round: $system $workload: $(report_figures "$report" | tr '\t' ' ')"
    done
    stop_cluster
  done
done

# The medians table; "x memory" compares a p50 or p99 with raftkv-memory's for the workload.
python3 - "$RESULTS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for key in {(r["system"], r["workload"]) for r in rows}:
    sel = [r for r in rows if (r["system"], r["workload"]) == key]
    med[key] = {f: statistics.median(float(r[f]) for r in sel)
                for f in ("requests_per_s", "p50_ms", "p99_ms")}
systems = list(dict.fromkeys(r["system"] for r in rows))
workloads = list(dict.fromkeys(r["workload"] for r in rows))
print("| workload | system | requests/s | p50 ms | p99 ms | p50 x memory | p99 x memory |")
print("|---|---|---:|---:|---:|---:|---:|")
for w in workloads:
    base = med.get(("raftkv-memory", w))
    for s in systems:
        m = med[(s, w)]
        ratio = lambda f: "%.2f" % (m[f] / base[f]) if base and base[f] > 0 else "-"
        print("| %s | %s | %s | %.3f | %.3f | %s | %s |" % (
            w, s, format(round(m["requests_per_s"]), ","), m["p50_ms"], m["p99_ms"],
            ratio("p50_ms"), ratio("p99_ms")))
EOF
