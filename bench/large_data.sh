#!/usr/bin/env bash
# A state larger than etcd's recommended 8 GiB on raftkv's RocksDB engine: memory, restart and
# the catch-up of a member from a checkpoint of the whole state.
#
# 1. Probes the disk: sequential write bandwidth in the benchmark's directory (dd, 2 GiB, fsync
#    at the end), with O_DIRECT (the device) and through the page cache (as files are written).
# 2. Starts a fresh three-member raftkv cluster on loopback (bench/cluster.sh) with
#    --snapshot-count SNAPSHOT_COUNT, loads KEYS keys of VALUE_BYTES random bytes with
#    raftkv-bench (16 clients), and records each member's RSS and data directory size.
# 3. Restart: kills member n3 with SIGKILL, starts it again and times until
#    `etcdctl get --consistency=l` through n3 alone answers.
# 4. Catch-up (once per CATCH_UP_SERVERS entry): kills n3 again, overwrites CATCH_UP_WRITES keys
#    (same value size) through n1 and n2 so that the leader compacts its log past n3, starts n3
#    (on that entry's binary) and times until n3 logs that it
#    received the state as a checkpoint (the leader's checkpoint, the stream and n3's fsync of
#    the files) and until a linearizable read through n3 answers (the install and what follows).
#    The checkpoint's bytes over the first time is the catch-up rate, set against the disk's.
#
#   bench/large_data.sh                     # KEYS=163840 VALUE_BYTES=65536: 10 GiB per member
#   KEYS=16384 bench/large_data.sh          # 1 GiB, a quick look
#   CATCH_UP_SERVERS="old/raftkv-server new/raftkv-server old/... new/..." bench/large_data.sh
#                                           # catch-up rounds alternating two builds of n3
#
# Needs a release build (`cmake --preset release && ninja -C build/release raftkv-server
# raftkv-bench`), etcd-client (etcdctl) and about 3.5 times the data size free on the disk of
# build/ (three members plus the checkpoint in flight). Results: build/large-data/results.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/build/large-data"
RAFTKV_SERVER="${RAFTKV_SERVER:-$ROOT/build/release/tools/raftkv-server}"
RAFTKV_BENCH="${RAFTKV_BENCH:-$ROOT/build/release/tools/raftkv-bench}"
RAFTKV_NULL_SERVER=""
RAFTKV_BASE_SERVER=""
KEYS="${KEYS:-163840}"
VALUE_BYTES="${VALUE_BYTES:-65536}"
SNAPSHOT_COUNT="${SNAPSHOT_COUNT:-2000}"
CATCH_UP_WRITES="${CATCH_UP_WRITES:-4000}"
# The catch-up is repeated once per binary listed here, n3 running that binary (the others keep
# RAFTKV_SERVER): interleaved rounds of two builds of the receiving side in one sitting.
read -ra CATCH_UP_SERVERS <<<"${CATCH_UP_SERVERS:-$RAFTKV_SERVER}"
# The space quota (etcd's default, 2 GiB, would stop the load with "database space exceeded").
SERVER_FLAGS="${SERVER_FLAGS:---quota-backend-bytes 68719476736}"
BASE_PORT="${BASE_PORT:-45379}"
export ETCDCTL_API=3

source "$ROOT/bench/cluster.sh"
trap stop_cluster EXIT

[[ -x $RAFTKV_SERVER && -x $RAFTKV_BENCH ]] || die "build raftkv-server and raftkv-bench first"
command -v etcdctl >/dev/null || die "install etcd-client"
mkdir -p "$WORK"
RESULTS="$WORK/results.txt"
: >"$RESULTS"
report() { printf '%s\n' "$*" | tee -a "$RESULTS"; }

data_mib=$(((KEYS * VALUE_BYTES) >> 20))
report "keys $KEYS, value bytes $VALUE_BYTES: $data_mib MiB of values; --snapshot-count $SNAPSHOT_COUNT"

# Both ways a program writes a file: around the page cache (what the device takes) and through
# it (what a write(2) and an fsync cost, which is how a checkpoint is received).
for flags in "oflag=direct conv=fsync" "conv=fsync"; do
  log "disk: sequential write of 2 GiB, $flags"
  # shellcheck disable=SC2086  # the flags are two words on purpose
  dd_out=$(dd if=/dev/zero of="$WORK/dd.probe" bs=1M count=2048 $flags 2>&1 | tail -1)
  rm -f "$WORK/dd.probe"
  report "disk sequential write (dd bs=1M count=2048 $flags): $dd_out"
done

dir="$WORK/data"
start_cluster raftkv "$dir"
load_start=$(date +%s.%N)
"$RAFTKV_BENCH" put --endpoints "$ENDPOINTS" --clients 16 --conns 3 --key-size 16 \
  --val-size "$VALUE_BYTES" --key-space "$KEYS" --sequential-keys --total "$KEYS" \
  --no-progress --json "$dir/load.json" >"$dir/load.txt" 2>&1 || die "loading failed; see $dir/load.txt"
load_errors=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"])' "$dir/load.json")
((load_errors == 0)) || die "$load_errors puts of the load failed; see $dir/load.txt"
load_s=$(elapsed_since "$load_start")
report "load: $load_s s ($(awk -v m="$data_mib" -v s="$load_s" 'BEGIN {printf "%.1f", m / s}') MiB/s of values)"
for i in 0 1 2; do
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/${PIDS[$i]}/status")
  hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/${PIDS[$i]}/status")
  report "n$((i + 1)): RSS $rss MiB (peak $hwm MiB), data directory $(du -sm "$dir/n$((i + 1))" | cut -f1) MiB"
done

log "restart of n3"
kill -KILL "${PIDS[2]}"
wait "${PIDS[2]}" 2>/dev/null || true
start=$(date +%s.%N)
restart_member 2 "$dir"
wait_for_read 2 600 2s
report "restart of n3 to a linearizable read: $(elapsed_since "$start") s"

catch_up_round=0
for catch_up_server in "${CATCH_UP_SERVERS[@]}"; do
  catch_up_round=$((catch_up_round + 1))
  log "catch-up $catch_up_round of n3 from a checkpoint, n3 running $catch_up_server"
  kill -KILL "${PIDS[2]}"
  wait "${PIDS[2]}" 2>/dev/null || true
  "$RAFTKV_BENCH" put --endpoints "127.0.0.1:$(client_port 0),127.0.0.1:$(client_port 1)" \
    --clients 16 --conns 2 --key-size 16 --val-size "$VALUE_BYTES" --key-space "$KEYS" \
    --total "$CATCH_UP_WRITES" --seed "$((catch_up_round + 1))" --no-progress \
    --json "$dir/overwrite.json" >"$dir/overwrite.txt" 2>&1 ||
    die "overwriting failed; see $dir/overwrite.txt"
  python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["errors"] != 0)' \
    "$dir/overwrite.json" || die "puts of the overwrite failed; see $dir/overwrite.txt"
  received_before=$(grep -c "as a checkpoint of" "$dir/n3.log" || true)
  start=$(date +%s.%N)
  restart_member 2 "$dir" "$catch_up_server"
  deadline=$((SECONDS + 3600))
  until (($(grep -c "as a checkpoint of" "$dir/n3.log" || true) > received_before)); do
    kill -0 "${PIDS[2]}" 2>/dev/null || die "n3 exited; see $dir/n3.log"
    ((SECONDS < deadline)) || die "n3 received no checkpoint within an hour"
    sleep 0.2
  done
  received_s=$(elapsed_since "$start")
  wait_for_read 2 3600 2s
  serving_s=$(elapsed_since "$start")
  bytes=$(grep "as a checkpoint of" "$dir/n3.log" | tail -1 | sed -E 's/.*as a checkpoint of ([0-9]+) bytes.*/\1/')
  report "catch-up $catch_up_round of n3 ($catch_up_server): checkpoint of $((bytes >> 20)) MiB received in $received_s s ($(awk -v b="$bytes" -v s="$received_s" 'BEGIN {printf "%.1f", b / 1048576 / s}') MiB/s), serving linearizable reads after $serving_s s"
done
grep "checkpoint of the state at index" "$dir/n"[12]".log" | tail -1 | tee -a "$RESULTS" || true
for i in 0 1 2; do
  report "n$((i + 1)) at the end: RSS $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/${PIDS[$i]}/status") MiB, peak $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/${PIDS[$i]}/status") MiB"
done
stop_cluster
