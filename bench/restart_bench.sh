#!/usr/bin/env bash
# How long a member takes from a crash to serving a linearizable read again, as the data grows,
# and what the data costs in memory and on disk: etcd against raftkv on each engine.
#
# For each system and each key count: a fresh three-member cluster on loopback
# (bench/cluster.sh, the same flags for every system), KEYS keys of VALUE_BYTES each loaded with
# raftkv-bench in Txns of TXN_OPS puts (32 clients over every member; TXN_OPS=1 loads with one
# Put per request and 64 clients), timed as the load rate; then per member RSS and data
# directory size;
# then member n3 is killed with SIGKILL, started again, and the script times, from the start
# command, until `etcdctl get --consistency=l` through n3 alone answers (n3 has a leader and has
# applied everything committed before the read). ROUNDS repeats the kill and restart on the same
# data; the table shows the median.
#
#   bench/restart_bench.sh                       # SYSTEMS="etcd raftkv raftkv-memory", KEYS=100000
#   KEYS="100000 1000000" VALUE_BYTES=1024 ROUNDS=3 bench/restart_bench.sh
#   SYSTEMS="etcd raftkv" KEYS=10000000 VALUE_BYTES=100 \
#     SERVER_FLAGS="--quota-backend-bytes 8589934592" bench/restart_bench.sh
#     (etcd's 2 GiB default quota stops a 10-million-key load: its database reaches 3 GB)
#
# Needs a release build (build/release/tools/raftkv-server and raftkv-bench: `cmake --preset
# release && ninja -C build/release raftkv-server raftkv-bench`) and Debian's etcd-server and
# etcd-client packages. Results: build/restart-bench/results.tsv and a table on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/build/restart-bench"
RAFTKV_SERVER="${RAFTKV_SERVER:-$ROOT/build/release/tools/raftkv-server}"
RAFTKV_BENCH="${RAFTKV_BENCH:-$ROOT/build/release/tools/raftkv-bench}"
RAFTKV_NULL_SERVER=""
RAFTKV_BASE_SERVER="${RAFTKV_BASE_SERVER:-}"
SYSTEMS="${SYSTEMS:-etcd raftkv raftkv-memory}"
KEYS="${KEYS:-100000}"
VALUE_BYTES="${VALUE_BYTES:-1024}"
ROUNDS="${ROUNDS:-3}"
TXN_OPS="${TXN_OPS:-128}"
BASE_PORT="${BASE_PORT:-43379}"
export ETCDCTL_API=3

source "$ROOT/bench/cluster.sh"
trap stop_cluster EXIT

[[ -x $RAFTKV_SERVER && -x $RAFTKV_BENCH ]] || die "build raftkv-server and raftkv-bench first"
command -v etcd >/dev/null && command -v etcdctl >/dev/null || die "install etcd-server etcd-client"

mkdir -p "$WORK"
RESULTS="$WORK/results.tsv"
printf 'system\tkeys\tvalue_bytes\tload_s\tload_keys_per_s\trss_mib_max\tdisk_mib_max\trestart_s\n' >"$RESULTS"
for keys in $KEYS; do
  for system in $SYSTEMS; do
    dir="$WORK/data/$system"
    log "$system: $keys keys of $VALUE_BYTES bytes"
    start_cluster "$system" "$dir"
    if ((TXN_OPS > 1)); then
      load=(txn-put --txn-ops "$TXN_OPS" --clients 32 --total $(((keys + TXN_OPS - 1) / TXN_OPS)))
    else
      load=(put --clients 64 --total "$keys")
    fi
    load_start=$(date +%s.%N)
    "$RAFTKV_BENCH" "${load[@]}" --endpoints "$ENDPOINTS" --conns 3 --key-size 16 \
      --val-size "$VALUE_BYTES" --key-space "$keys" --sequential-keys --no-progress \
      --json "$dir/load.json" >"$dir/load.txt" 2>&1 || die "loading failed; see $dir/load.txt"
    load_s=$(elapsed_since "$load_start")
    grep -q '"errors": 0,' "$dir/load.json" || die "some loading requests failed; see $dir/load.txt"
    rss_max=0
    disk_max=0
    for i in 0 1 2; do
      rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/${PIDS[$i]}/status")
      disk=$(du -sm "$dir/n$((i + 1))" | cut -f1)
      ((rss > rss_max)) && rss_max=$rss
      ((disk > disk_max)) && disk_max=$disk
    done
    times=()
    for ((round = 1; round <= ROUNDS; round++)); do
      kill -KILL "${PIDS[2]}"
      wait "${PIDS[2]}" 2>/dev/null || true
      start=$(date +%s.%N)
      restart_member 2 "$dir"
      wait_for_read 2 600
      times+=("$(elapsed_since "$start")")
      log "$system: restart $round took ${times[-1]} s"
    done
    restart_s=$(printf '%s\n' "${times[@]}" | median)
    printf '%s\t%s\t%s\t%.1f\t%.0f\t%s\t%s\t%.2f\n' "$system" "$keys" "$VALUE_BYTES" "$load_s" \
      "$(awk -v k="$keys" -v s="$load_s" 'BEGIN { print k / s }')" "$rss_max" "$disk_max" "$restart_s" >>"$RESULTS"
    stop_cluster
  done
done

printf '\n| system | keys | value bytes | load s | load keys/s | RSS MiB (max member) | disk MiB (max member) | restart to a linearizable read, s (median of %s) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n' "$ROUNDS"
tail -n +2 "$RESULTS" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8}'
