#!/usr/bin/env bash
# Side by side: raftkv-server against etcd 3.4.23 (Debian 12's etcd-server), same machine, same
# load generators (etcd's own tools/benchmark, and raftkv-bench from tools/bench), same cluster
# shape, same workloads; and under both, the
# floor: raftkv-null-server (tools/null-server), one process answering Put and Range from a map
# on one thread with gRPC's async API, no raft and no disk: what gRPC alone costs here.
#
# Run as root on Debian 12 from anywhere: bench/etcd_compare.sh
# Not part of the test suite (scripts/test.sh and CI never call it): it takes ~20 minutes with
# the defaults, needs the network once for apt-get, and its figures depend on the machine and on
# its load.
#
# What it does:
#   1. installs etcd-server, golang-go, golang-etcd-server-dev, gnuplot-nox and etcd's Debian
#      source package (apt-get; each step is skipped when already done);
#   2. builds etcd's tools/benchmark offline in GOPATH mode from the source package's
#      tools/benchmark and the Go sources Debian ships in /usr/share/gocode;
#   3. builds raftkv-server, raftkv, raftkv-bench and raftkv-null-server in Release (cmake
#      --preset release);
#   4. ROUNDS times (default 3), for each system in turn (the order alternates between rounds):
#      probes the disk's flush cost, starts a fresh 3-member cluster on 127.0.0.1 (three
#      processes, the same etcd flags for both; the null server is one process), waits for
#      `etcdctl endpoint health`, runs the workloads below, each with every load generator in
#      turn, checks that every member is
#      alive and that the three agree (revision and `endpoint hashkv`; the null server: its
#      revision), stops the cluster, keeps the members' logs and removes their data;
#   5. prints the medians as one table per load generator, and plots them with gnuplot into
#      plot.png (throughput against clients; latency percentiles). Every raw output (benchmark
#      reports, results.tsv with the time, load and counters of each run, medians.tsv, perf's
#      output, logs, checks) stays under build/etcd-compare/runs/<UTC time>/.
#
# Workloads (256-byte values, 8-byte keys drawn from 100,000; every request goes to the leader,
# benchmark --target-leader, raftkv-bench --endpoints <the leader's>, for every system; the null
# server answers Status and MemberList as a leader of one):
#   put-1      put,   1 client  over 1 connection:   latency bound (fsync + replication round trip)
#   put-64     put,  64 clients over 8 connections:  throughput with batching
#   range-l    linearizable range of one key, 64 clients over 8 connections
#   range-s    serializable range of one key (--consistency s), 64 clients over 8 connections
# Any other client count N works the same way: put-N, range-l-N, range-s-N (N clients over
# min(N, 8) connections), e.g. WORKLOADS="put-1 put-16 put-64 put-128 range-l range-s" for a
# throughput curve in the plot.
#
# Load generators (GENERATORS, each runs every workload on the same cluster):
#   benchmark     etcd 3.4.23's tools/benchmark (Go, clientv3), the reference of both issues'
#                 targets
#   raftkv-bench  raftkv's own (C++, gRPC's async API; tools/bench), run with --no-sessions so
#                 that its writes are the same plain Puts as etcd's tool sends. Its ranges read
#                 the key 00000000 (--key-space 1), written before the runs like the range key.
#
# Durability is the default of each system: etcd writes and fsyncs its WAL once per raft Ready
# (a batch) before acknowledging, and commits its bbolt backend in batches (every 100 ms or
# 10,000 writes, also fsynced); raftkv-server fsyncs its WAL once per Ready and commits each
# applied entry to its RocksDB engine's own log without an fsync (synced before the raft log is
# compacted behind it); with --engine memory (system raftkv-memory) it has no second write.
# The null server writes nothing.
#
# Counters, per run (one workload against one system), in results.tsv and, per request, in the
# table. "Server" means every member process of the system together.
#   server CPU      utime + stime of each member from /proc/<pid>/stat, before and after. The
#                   process's line sums its live threads and the threads that have exited
#                   (the kernel folds an exiting thread's times into its process's), so gRPC's
#                   short-lived sync-server threads are counted; children are not (members
#                   start none). Clock ticks (10 ms each): a run should use seconds of CPU.
#   context switches, all threads
#                   perf's context-switches event attached to the members (perf stat -p, whose
#                   counters are inherited by threads created during the run and folded back
#                   when they exit). Without perf: the column is NA and the table falls back to
#   server_ctxsw    voluntary + involuntary switches of the threads alive at the end
#                   (/proc/<pid>/task/*/status), which misses exited threads.
#   syscalls        perf's raw_syscalls:sys_enter tracepoint over the same threads: every
#                   system call. Without perf (or PERF=off) the column is server_rw_syscalls
#                   instead: syscr + syscw of /proc/<pid>/io, which count only the read(2) and
#                   write(2) families (read, readv, pread64, write, writev, pwrite64, sendfile):
#                   not sendmsg/recvmsg, which gRPC's sockets use, nor epoll_wait, futex or
#                   fsync. A poor stand-in (near 0 per request for the null server), shown
#                   with "rw" in the table.
#                   perf counts only between "enable" and "disable" sent on its control fifo,
#                   around the benchmark. Counting a tracepoint costs the members a little per
#                   system call, the same for every system; PERF=off measures without it.
#   TCP segments    deltas of Tcp InSegs and OutSegs in /proc/net/snmp around the run: the whole
#                   network namespace, i.e. client and peer traffic on loopback (each loopback
#                   segment counts once out and once in) plus anything else the machine sends
#                   meanwhile. The table shows OutSegs per request.
#   load generator CPU
#                   user + system time of the load generator process itself (bash's `time` around
#                   it: the rusage of the reaped child, microsecond resolution).
#   others          cores busy with anything but the servers and the load generator (from
#                   /proc/stat), i.e. other users' load during the run.
# The table also gives each system's requests/s as a multiple of etcd's (x etcd) and its server
# CPU per request as a multiple of the null server's (x null), workload by workload: the latter
# is what raft, storage and the server's threading add to gRPC alone.
#
# Knobs (environment):
#   ROUNDS=3 (0: install and build only)
#   PUT1_TOTAL=5000, PUT64_TOTAL=30000, RANGEL_TOTAL=60000, RANGES_TOTAL=200000 (requests per
#     run; ~5-20 s each on 2 shared cores; the null server's runs take a fraction of that)
#   BASE_PORT=42379 (client ports BASE, BASE+2, BASE+4; peer ports one above each)
#   SYSTEMS="null etcd raftkv", WORKLOADS="put-1 put-64 range-l range-s"
#   GENERATORS="benchmark raftkv-bench"
#   RAFTKV_BENCH (another raftkv-bench build; default build/release/tools/raftkv-bench, built by
#     this script when GENERATORS names it)
#   PERF=auto (perf stat for syscalls and context switches when it works here; on: required;
#     off: /proc counters only)
#   RAFTKV_SERVER (another build of raftkv-server to measure; default
#     build/release/tools/raftkv-server, built by this script; a given one is not rebuilt)
#   RAFTKV_NULL_SERVER (likewise for raftkv-null-server; default
#     build/release/tools/raftkv-null-server, built by this script when SYSTEMS names null)
#   RAFTKV_BASE_SERVER (a second raftkv-server build, e.g. an earlier commit's, measured as the
#     system "raftkv-base" when SYSTEMS names it: SYSTEMS="raftkv-base raftkv" interleaves the
#     two builds round by round, for before/after figures of a change)
#   SYSTEMS may also name "raftkv-memory": raftkv-server with --engine memory (the default
#     engine is rocksdb), e.g. SYSTEMS="raftkv-memory raftkv" to compare the two engines
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/build/etcd-compare"
GOPATH_DIR="$WORK/benchgp"
BENCH_BIN="$GOPATH_DIR/benchmark"
RAFTKV_SERVER_GIVEN="${RAFTKV_SERVER:+1}"
RAFTKV_SERVER="${RAFTKV_SERVER:-$ROOT/build/release/tools/raftkv-server}"
RAFTKV_BASE_SERVER="${RAFTKV_BASE_SERVER:-}"
RAFTKV_NULL_SERVER_GIVEN="${RAFTKV_NULL_SERVER:+1}"
RAFTKV_NULL_SERVER="${RAFTKV_NULL_SERVER:-$ROOT/build/release/tools/raftkv-null-server}"
RAFTKV_BENCH_GIVEN="${RAFTKV_BENCH:+1}"
RAFTKV_BENCH="${RAFTKV_BENCH:-$ROOT/build/release/tools/raftkv-bench}"

ROUNDS="${ROUNDS:-3}"
PUT1_TOTAL="${PUT1_TOTAL:-5000}"
PUT64_TOTAL="${PUT64_TOTAL:-30000}"
RANGEL_TOTAL="${RANGEL_TOTAL:-60000}"
RANGES_TOTAL="${RANGES_TOTAL:-200000}"
BASE_PORT="${BASE_PORT:-42379}"
SYSTEMS="${SYSTEMS:-null etcd raftkv}"
WORKLOADS="${WORKLOADS:-put-1 put-64 range-l range-s}"
GENERATORS="${GENERATORS:-benchmark raftkv-bench}"
PERF="${PERF:-auto}"
VALUE_BYTES=256
KEY_SPACE=100000
RANGE_KEY="bench-range-key"
RAFTKV_BENCH_RANGE_KEY="00000000"  # raftkv-bench's key 0 at --key-size 8
LEADER=""  # the started cluster's leader's client endpoint

export ETCDCTL_API=3

# Clusters and the shared helpers (log, die): bench/cluster.sh (start_cluster, stop_cluster,
# wait_healthy, ports).
source "$ROOT/bench/cluster.sh"

[[ "$(id -u)" == 0 ]] || die "run as root (apt-get)"

# ---------------------------------------------------------------------------------------------
# 1. Packages. Each install is skipped when the package is already there.
install_packages() {
  local missing=()
  local p
  for p in etcd-server etcd-client golang-go golang-etcd-server-dev cmake ninja-build gnuplot-nox; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The package may start a system etcd on the default ports; it does not use ours, but it
  # would take CPU and disk during the runs.
  if pgrep -x etcd >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
    log "stopping the system etcd service for the duration of the benchmark"
    systemctl stop etcd
  fi
}

# The source package holds tools/benchmark, which golang-etcd-server-dev leaves out
# (DH_GOLANG_EXCLUDES := tools). deb-src stanza = first stanza of debian.sources, Types changed.
fetch_etcd_source() {
  mkdir -p "$WORK/src"
  if compgen -G "$WORK/src/etcd_3.4.23*.orig.tar.gz" >/dev/null; then return; fi
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
     ! grep -qs '^deb-src' /etc/apt/sources.list; then
    log "adding a deb-src stanza (/etc/apt/sources.list.d/src.sources)"
    awk 'NR==1,/^$/' /etc/apt/sources.list.d/debian.sources |
      sed '1s/^Types: deb$/Types: deb-src/' >/etc/apt/sources.list.d/src.sources
    apt-get update -qq
  fi
  log "downloading etcd's Debian source package"
  (cd "$WORK/src" && apt-get source --download-only etcd >/dev/null)
}

# ---------------------------------------------------------------------------------------------
# 2. etcd's benchmark tool, offline: GOPATH mode resolves each import on its own, so only
# tools/benchmark comes from the tarball; clientv3 and the rest from /usr/share/gocode.
build_benchmark() {
  if [[ -x "$BENCH_BIN" ]]; then return; fi
  local tarball
  tarball="$(compgen -G "$WORK/src/etcd_3.4.23*.orig.tar.gz" | head -1)"
  mkdir -p "$GOPATH_DIR/src/go.etcd.io/etcd/tools/benchmark"
  tar xzf "$tarball" -C "$GOPATH_DIR/src/go.etcd.io/etcd/tools" --strip-components=2 \
    etcd-3.4.23/tools/benchmark
  log "building etcd's tools/benchmark (GOPATH mode, offline)"
  (cd "$GOPATH_DIR/src/go.etcd.io/etcd/tools/benchmark" &&
     GO111MODULE=off GOPROXY=off GOFLAGS='' GOCACHE="$WORK/gocache" \
     GOPATH="$GOPATH_DIR:/usr/share/gocode" go build -o "$BENCH_BIN" .)
}

# ---------------------------------------------------------------------------------------------
# 3. raftkv, Release.
build_raftkv() {
  local targets=()
  if [[ -n $RAFTKV_SERVER_GIVEN ]]; then
    log "measuring the given $RAFTKV_SERVER (not rebuilt)"
  else
    targets+=(raftkv-server raftkv)
  fi
  if [[ " $GENERATORS " == *" raftkv-bench "* ]]; then
    if [[ -n $RAFTKV_BENCH_GIVEN ]]; then
      log "measuring with the given $RAFTKV_BENCH (not rebuilt)"
    else
      targets+=(raftkv-bench)
    fi
  fi
  if [[ " $SYSTEMS " == *" null "* ]]; then
    if [[ -n $RAFTKV_NULL_SERVER_GIVEN ]]; then
      log "measuring the given $RAFTKV_NULL_SERVER (not rebuilt)"
    else
      targets+=(raftkv-null-server)
    fi
  fi
  ((${#targets[@]})) || return 0
  log "building ${targets[*]} (Release)"
  (cd "$ROOT" && cmake --preset release >/dev/null &&
     cmake --build build/release -j2 --target "${targets[@]}" >/dev/null)
}

# ---------------------------------------------------------------------------------------------
# 4. Clusters: bench/cluster.sh, sourced above.
trap 'perf_abort; stop_cluster' EXIT

# CPU seconds (user + system) used so far by the members. The process's line of /proc/<pid>/stat
# covers all its threads, exited ones included: when a thread exits, the kernel adds its times
# to the process's (signal_struct), which that line sums with the live threads'. Checked on
# Linux 6.18: a process whose two worker threads had exited still showed their CPU there.
cluster_cpu_s() {
  local pid total=0 ticks
  for pid in "${PIDS[@]}"; do
    # Fields 14 and 15 of /proc/<pid>/stat, counted after the ")" that ends the command name.
    ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
    total=$((total + ticks))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'
}

# Context switches (voluntary and not) of the members' threads alive now; exited threads' are
# lost (/proc/<pid>/status is the main thread's alone, and no /proc file sums them). perf's
# count below has them.
cluster_ctxsw() {
  local pid
  for pid in "${PIDS[@]}"; do cat "/proc/$pid/task/"*/status 2>/dev/null; done |
    awk '/ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# CPU seconds the whole machine has been busy (user, nice, system, irq, softirq; not idle,
# iowait or steal), from /proc/stat.
machine_busy_s() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat
}

# read(2)- and write(2)-family system calls (syscr + syscw) of the members so far: the fallback
# when perf cannot count every system call. sendmsg and recvmsg (gRPC's) are not among them.
# /proc/<pid>/io of a process includes its exited threads.
cluster_rw_syscalls() {
  local pid
  for pid in "${PIDS[@]}"; do cat "/proc/$pid/io"; done |
    awk '/^sysc[rw]:/ { n += $2 } END { print n + 0 }'
}

# "InSegs OutSegs": TCP segments received and sent so far by the whole network namespace.
tcp_segments() {
  awk '/^Tcp:/ {
    if (!named) { for (i = 2; i <= NF; i++) col[$i] = i; named = 1; next }
    print $col["InSegs"], $col["OutSegs"] }' /proc/net/snmp
}

# perf stat on the members: every system call (raw_syscalls:sys_enter) and every context switch,
# all threads, those created during the run included (perf's counters are inherited by new
# threads and folded back into the process's when they exit). perf starts with its counters
# disabled and counts between the "enable" and "disable" sent on its control fifo, each
# acknowledged, so that its start-up and exit fall outside the run.
PERF_OK=0
PERF_EVENTS=raw_syscalls:sys_enter,context-switches
check_perf() {
  [[ $PERF == off ]] && return
  if command -v perf >/dev/null &&
     perf stat -x, -e "$PERF_EVENTS" -o "$WORK/perf-check.txt" -- true >/dev/null 2>&1 &&
     grep -q ',raw_syscalls:sys_enter,' "$WORK/perf-check.txt"; then
    PERF_OK=1
  elif [[ $PERF == on ]]; then
    die "PERF=on, but perf stat -e $PERF_EVENTS does not work here (linux-perf installed? tracefs?)"
  else
    log "perf cannot count system calls here: syscr + syscw of /proc/<pid>/io instead"
  fi
}

PERF_PID=""
perf_start() {  # $1 = perf's output file
  ((PERF_OK)) || return 0
  local fifos="$WORK/perf-control"
  rm -rf "$fifos"
  mkdir -p "$fifos"
  mkfifo "$fifos/ctl" "$fifos/ack"
  perf stat -x, -e "$PERF_EVENTS" -p "$(IFS=,; echo "${PIDS[*]}")" -D -1 \
    --control "fifo:$fifos/ctl,$fifos/ack" -o "$1" >/dev/null 2>&1 &
  PERF_PID=$!
  # Read-write opens of a fifo do not wait for the other end.
  exec {PERF_CTL}<>"$fifos/ctl" {PERF_ACK}<>"$fifos/ack"
  perf_command enable
}

perf_command() {  # enable | disable; waits for perf's acknowledgement
  local reply=""
  echo "$1" >&"$PERF_CTL"
  read -r -t 10 -u "$PERF_ACK" reply || true
  [[ $reply == ack* ]] || log "warning: perf did not acknowledge '$1'; its counts may be off"
}

perf_stop() {
  ((PERF_OK)) || return 0
  perf_command disable
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
  exec {PERF_CTL}>&- {PERF_ACK}>&-
  rm -rf "$WORK/perf-control"
}

perf_abort() {  # on an early exit: the perf this script started, if it still runs
  [[ -n $PERF_PID ]] && kill -INT "$PERF_PID" 2>/dev/null || true
}

perf_count() {  # $1 = perf's output file, $2 = event; NA when perf did not count it
  [[ -f $1 ]] || { echo NA; return; }
  awk -F, -v e="$2" '$3 == e && $1 ~ /^[0-9]+$/ { v = $1 } END { print (v == "" ? "NA" : v) }' "$1"
}

# The disk's flush cost right now: ms per 4 KiB overwrite + fdatasync (dd oflag=dsync), the
# cheapest durable write; it changes from minute to minute on a shared virtual disk, and a
# single client's put waits for at least one.
flush_probe_ms() {
  local f="$WORK/flush-probe"
  dd if=/dev/zero of="$f" bs=4k count=200 conv=fsync 2>/dev/null
  dd if=/dev/zero of="$f" bs=4k count=200 oflag=dsync conv=notrunc 2>&1 |
    awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.2f", $(i - 1) * 1000 / 200 }'
  rm -f "$f"
}

# Warnings and errors in the members' logs (raftkv: spdlog levels; etcd 3.4: capnslog letters).
count_log_warnings() {  # $1 = directory holding n1.log .. n3.log
  cat "$1"/n*.log | grep -cE ' (warn|warning|error|critical) +\[| [WEC] \| |"level":"(warn|error|fatal|panic)"' || true
}

# A workload's kind (put, range-l, range-s) and its number of clients: "put-64" -> "put 64",
# "range-l" -> "range-l 64" (ranges default to 64 clients).
workload_shape() {
  case "$1" in
    put-[0-9]*) echo "put ${1#put-}" ;;
    range-[ls]) echo "$1 64" ;;
    range-[ls]-[0-9]*) echo "${1%-*} ${1##*-}" ;;
    *) die "unknown workload $1 (put-N, range-l[-N] or range-s[-N])" ;;
  esac
}

# The words of $1 in reverse order.
reversed() { awk '{for (i = NF; i > 0; i--) printf "%s ", $i}' <<<"$1"; }

workload_total() {
  local kind clients
  read -r kind clients <<<"$(workload_shape "$1")"
  case "$kind" in
    put) ((clients == 1)) && echo "$PUT1_TOTAL" || echo "$PUT64_TOTAL" ;;
    range-l) echo "$RANGEL_TOTAL" ;;
    range-s) echo "$RANGES_TOTAL" ;;
  esac
}

run_workload() {  # $1 = load generator, $2 = workload, $3 = output file
  local kind clients conns total args consistency
  read -r kind clients <<<"$(workload_shape "$2")"
  conns=$((clients < 8 ? clients : 8))
  total=$(workload_total "$2")
  consistency=${kind#range-}
  if [[ $1 == benchmark ]]; then
    case "$kind" in
      put) args=(put --total "$total" --val-size "$VALUE_BYTES" --key-space-size "$KEY_SPACE") ;;
      range-*) args=(range "$RANGE_KEY" --total "$total" --consistency "$consistency") ;;
    esac
    # grpc-go's INFO lines (every connection state change) would bury the report.
    GRPC_GO_LOG_SEVERITY_LEVEL=error "$BENCH_BIN" --endpoints "$ENDPOINTS" --target-leader \
      --conns "$conns" --clients "$clients" "${args[@]}" >"$3" 2>&1
  else
    case "$kind" in
      put) args=(put --key-space "$KEY_SPACE" --val-size "$VALUE_BYTES") ;;
      range-*) args=(range --consistency "$consistency" --key-space 1) ;;
    esac
    "$RAFTKV_BENCH" "${args[@]}" --endpoints "$LEADER" --conns "$conns" --clients "$clients" \
      --key-size 8 --total "$total" --no-sessions --no-progress --json "$3.json" >"$3" 2>&1
  fi
}

# Requests/s, average, p50, p90, p99 and p99.9 latency (ms), the number of failed requests and
# the duration (s) from a load generator's report.
parse_report() {  # $1 = load generator, $2 = its output file
  if [[ $1 == raftkv-bench ]]; then
    python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print("%.0f %.2f %.2f %.2f %.2f %.2f %d %.2f" % (r["requests_per_second"], l["mean"], l["p50"],
      l["p90"], l["p99"], l["p99_9"], r["errors"], r["duration_s"]))' "$2.json" 2>/dev/null ||
      echo "0 0 0 0 0 0 -1 0"
    return
  fi
  awk '
    /^ *Total:/      { secs = $2 }
    /Requests\/sec:/ { rps = $2 }
    /^ *Average:/    { avg = $2 * 1000 }
    /^ *50% in/      { p50 = $3 * 1000 }
    /^ *90% in/      { p90 = $3 * 1000 }
    /^ *99% in/      { p99 = $3 * 1000 }
    /^ *99\.9% in/   { p999 = $3 * 1000 }
    /Error distribution:/ { inerr = 1; next }
    inerr && /^ *\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); errs += $1 }
    END { printf "%.0f %.2f %.2f %.2f %.2f %.2f %d %.2f\n", rps, avg, p50, p90, p99, p999, errs, secs }' "$2"
}

# The members must agree after the writes: same revision, same KV hash at that revision. The null
# server, alone and without HashKV, must have taken every write: its revision.
check_agreement() {  # $1 = system, $2 = expected revision, $3 = file for the evidence
  local revs hashes
  etcdctl --endpoints "$ENDPOINTS" endpoint status -w json >"$3.status" 2>&1 || true
  if [[ $1 == null ]]; then
    revs=$( (grep -o '"revision":[0-9]*' "$3.status" || true) | cut -d: -f2 | tr '\n' ' ')
    if [[ "$revs" != "$2 " ]]; then
      echo "MISMATCH $1: revision [$revs] (expected $2)" | tee -a "$3"
      return 1
    fi
    echo "ok $1: revision $2" >>"$3"
    return
  fi
  etcdctl --endpoints "$ENDPOINTS" endpoint hashkv -w json >"$3.hashkv" 2>&1 || true
  revs=$( (grep -o '"revision":[0-9]*' "$3.status" || true) | cut -d: -f2 | sort -u | tr '\n' ' ')
  hashes=$( (grep -o '"hash":[0-9]*' "$3.hashkv" || true) | cut -d: -f2 | sort -u | wc -l)
  if [[ "$revs" != "$2 " || "$hashes" != 1 ]]; then
    echo "MISMATCH $1: revisions [$revs] (expected $2), $hashes distinct hashes" | tee -a "$3"
    return 1
  fi
  echo "ok $1: revision $2 on all members, one hash" >>"$3"
}

# ---------------------------------------------------------------------------------------------
main() {
  install_packages
  fetch_etcd_source
  build_benchmark
  build_raftkv
  [[ -x "$RAFTKV_SERVER" ]] || die "no $RAFTKV_SERVER after the build"
  if ((ROUNDS == 0)); then
    log "ROUNDS=0: installed and built, nothing measured"
    return
  fi

  local run_dir results round order system w out stats cpu0 cpu1 expected
  local start_utc load1 busy0 busy1 server_cpu client_cpu other_cpu requests
  local rps avg_ms p99_ms errors secs sw0 sw1 dir i sysc0 sysc1 syscalls ctxsw_all
  local tcp0 tcp1 in0 out0 in1 out1 syscalls_column generator generators p50_ms p90_ms p999_ms
  local value
  check_perf
  # The syscall column says what it counts.
  syscalls_column=server_syscalls
  ((PERF_OK)) || syscalls_column=server_rw_syscalls
  run_dir="$WORK/runs/$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$run_dir"
  results="$run_dir/results.tsv"
  # Raw counts, then the same per request (CPU in microseconds). NA: not measured.
  printf '%s\t' round system generator workload start_utc load1 req_per_s avg_ms p50_ms p90_ms \
    p99_ms p999_ms errors \
    server_cpu_s requests secs client_cpu_s other_cpu_s server_ctxsw "$syscalls_column" \
    server_ctxsw_all tcp_in_segs tcp_out_segs server_cpu_us_per_req client_cpu_us_per_req \
    ctxsw_all_per_req syscalls_per_req >"$results"
  printf 'tcp_out_segs_per_req\n' >>"$results"
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "cpu: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores"
    echo "kernel: $(uname -r)"
    echo "etcd: $(/usr/bin/etcd --version | head -1)"
    echo "load generators: $GENERATORS"
    echo "raftkv: $(git -C "$ROOT" rev-parse --short HEAD)"
    echo "disk: $(df -T "$WORK" | awk 'NR==2{print $1, $2}')"
    if ((PERF_OK)); then
      echo "counters: $(perf --version), events $PERF_EVENTS"
    else
      echo "counters: no perf; read+write syscalls from /proc/<pid>/io, switches of live threads"
    fi
  } | tee "$run_dir/machine.txt" >&2

  for ((round = 1; round <= ROUNDS; round++)); do
    # Alternate which system goes first, so that a drift in the machine's load or the disk's
    # flush cost does not always favour the same one.
    order="$SYSTEMS"
    generators="$GENERATORS"
    if ((round % 2 == 0)); then
      order="$(reversed "$SYSTEMS")"
      generators="$(reversed "$GENERATORS")"
    fi
    for system in $order; do
      dir="$WORK/data/$system"
      printf '%s\t%s\t%s\n' "$round" "$system" "$(flush_probe_ms)" >>"$run_dir/flush.tsv"
      log "round $round: starting $system"
      start_cluster "$system" "$dir"
      # The key the range workloads read, with a value of the same size as the puts'.
      # raftkv-bench reads its key 0 instead.
      value="$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' v)"
      etcdctl --endpoints "$ENDPOINTS" put "$RANGE_KEY" "$value" >/dev/null
      etcdctl --endpoints "$ENDPOINTS" put "$RAFTKV_BENCH_RANGE_KEY" "$value" >/dev/null
      # raftkv-bench's target (etcd's benchmark finds it itself), looked up here so that
      # etcdctl's CPU is not counted as the load generator's.
      LEADER=$(leader_endpoint)
      for w in $WORKLOADS; do
        for generator in $generators; do
          out="$run_dir/r$round-$system-$generator-$w.txt"
          echo "uptime: $(uptime)" >"$out.uptime"
          log "round $round $system $generator $w ($(uptime | sed 's/.*load average: //'))"
          start_utc=$(date -u +%H:%M:%S)
          load1=$(cut -d' ' -f1 /proc/loadavg)
          perf_start "$out.perf"
          sysc0=$(cluster_rw_syscalls); sw0=$(cluster_ctxsw); tcp0=$(tcp_segments)
          cpu0=$(cluster_cpu_s); busy0=$(machine_busy_s)
          # The load generator's own CPU: bash's `time` reports the rusage of the child it reaped.
          TIMEFORMAT='%3U %3S'
          { time run_workload "$generator" "$w" "$out"; } 2>"$out.client-cpu" ||
            log "$generator exited with non-zero status (see $out)"
          cpu1=$(cluster_cpu_s); busy1=$(machine_busy_s)
          sysc1=$(cluster_rw_syscalls); sw1=$(cluster_ctxsw); tcp1=$(tcp_segments)
          perf_stop
          server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.2f", b - a}')
          client_cpu=$(awk '{printf "%.3f", $1 + $2}' "$out.client-cpu")
          # What the rest of the machine (other users, kernel threads) used meanwhile.
          other_cpu=$(awk -v b0="$busy0" -v b1="$busy1" -v s="$server_cpu" -v c="$client_cpu" \
            'BEGIN{printf "%.2f", b1 - b0 - s - c}')
          if ((PERF_OK)); then
            syscalls=$(perf_count "$out.perf" raw_syscalls:sys_enter)
            ctxsw_all=$(perf_count "$out.perf" context-switches)
          else
            syscalls=$((sysc1 - sysc0))
            ctxsw_all=NA
          fi
          read -r in0 out0 <<<"$tcp0"
          read -r in1 out1 <<<"$tcp1"
          stats=$(parse_report "$generator" "$out")
          read -r rps avg_ms p50_ms p90_ms p99_ms p999_ms errors secs <<<"$stats"
          requests=$(workload_total "$w")
          printf '%s\t' "$round" "$system" "$generator" "$w" "$start_utc" "$load1" "$rps" "$avg_ms" \
            "$p50_ms" "$p90_ms" "$p99_ms" "$p999_ms" \
            "$errors" "$server_cpu" "$requests" "$secs" "$client_cpu" "$other_cpu" \
            "$((sw1 - sw0))" "$syscalls" "$ctxsw_all" "$((in1 - in0))" "$((out1 - out0))" \
            >>"$results"
          awk -v n="$requests" -v s="$server_cpu" -v c="$client_cpu" -v x="$ctxsw_all" \
            -v y="$syscalls" -v o="$((out1 - out0))" '
            function per(v, scale) { return v == "NA" ? "NA" : sprintf("%.2f", v * scale / n) }
            BEGIN { printf "%s\t%s\t%s\t%s\t%s\n", per(s, 1e6), per(c, 1e6), per(x, 1), per(y, 1),
                           per(o, 1) }' >>"$results"
          if [[ "$errors" != 0 ]]; then
            log "$system $generator $w: $errors failed requests, see $out and r$round-$system-logs/"
          fi
        done
      done
      for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$i]}" 2>/dev/null ||
          echo "$system member n$((i + 1)) died during round $round" | tee -a "$run_dir/r$round-$system-check.txt" >&2
      done
      # 2 (the range keys) + every put of every generator; etcd and raftkv both start at
      # revision 1.
      expected=3
      for w in $WORKLOADS; do
        [[ $w == put-* ]] && expected=$((expected + $(workload_total "$w") * $(wc -w <<<"$GENERATORS")))
      done
      if ! check_agreement "$system" "$expected" "$run_dir/r$round-$system-check.txt"; then
        cp -r "$dir" "$run_dir/r$round-$system-data"
      fi
      stop_cluster
      # Keep the members' logs (a few hundred KiB); the data goes.
      mkdir -p "$run_dir/r$round-$system-logs"
      cp "$dir"/n*.log "$run_dir/r$round-$system-logs/"
      echo "$system round $round: $(count_log_warnings "$dir") warning/error lines in the members' logs" |
        tee -a "$run_dir/r$round-$system-check.txt" >&2
      rm -rf "$dir"
    done
  done

  # Medians over the rounds of each (system, workload).
  log "raw results: $results"
  awk -F'\t' 'NR > 1 { if (!n++ || $5 < lo) lo = $5; if ($5 > hi) hi = $5 }
    END { printf "load average (1 min) before the runs: %s to %s\n", lo, hi }' "$results"
  awk -F'\t' '{ f[$2] = f[$2] " " $3 } END { for (s in f) printf "flush probe, ms per 4 KiB fdatasync before each %s round:%s\n", s, f[s] }' "$run_dir/flush.tsv"
  cat "$run_dir"/r*-check.txt
  echo
  write_medians "$results" >"$run_dir/medians.tsv"
  for generator in $GENERATORS; do
    echo
    echo "load generator $generator: medians of $ROUNDS rounds (requests to the leader; $VALUE_BYTES-byte values)"
    print_medians "$run_dir/medians.tsv" "$generator"
  done
  plot_medians "$run_dir/medians.tsv" "$run_dir/plot.png"
  log "medians: $run_dir/medians.tsv; plot: $run_dir/plot.png"
}

# The median over the rounds of every measure of each (load generator, system, workload), read
# from results.tsv by column name; one line each, in the order of GENERATORS, WORKLOADS and
# SYSTEMS. Per request: srv_us = CPU microseconds of all the system's members together; gen_us =
# the load generator's own CPU; csw = the members' context switches (all threads, from perf;
# csw_live = 1 when only /proc's count of the threads alive at the end was available); sysc =
# their system calls (all, from perf; sysc_rw = 1: only read+write-like ones from
# /proc/<pid>/io); segs = TCP segments sent on the machine (loopback: client and peer traffic,
# plus whatever else ran). others = cores busy with anything but the servers and the load
# generator during the run (other users' load). NA: not measured.
write_medians() {  # $1 = results.tsv
  awk -F'\t' -v systems="$SYSTEMS" -v workloads="$WORKLOADS" -v generators="$GENERATORS" '
    function median(key,   m, i, j, t, a) {
      m = 0
      for (i = 1; i <= n[key]; i++) if (v[key, i] != "NA") a[++m] = v[key, i] + 0
      if (!m) return "NA"
      for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function add(metric, value,   key) {
      key = gen SUBSEP sys SUBSEP wl SUBSEP metric
      v[key, ++n[key]] = value
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      gen = $col["generator"]; sys = $col["system"]; wl = $col["workload"]; req = $col["requests"]
      add("rps", $col["req_per_s"]); add("avg", $col["avg_ms"])
      add("p50", $col["p50_ms"]); add("p90", $col["p90_ms"])
      add("p99", $col["p99_ms"]); add("p999", $col["p999_ms"])
      errors[gen, sys, wl] += $col["errors"]
      add("srv", $col["server_cpu_s"] * 1e6 / req)
      add("gen", $col["client_cpu_s"] * 1e6 / req)
      if ($col["server_ctxsw_all"] != "NA") add("csw", $col["server_ctxsw_all"] / req)
      else { add("csw", $col["server_ctxsw"] / req); live = 1 }
      if ("server_syscalls" in col) add("sysc", $col["server_syscalls"] / req)
      else { add("sysc", $col["server_rw_syscalls"] / req); rw = 1 }
      add("segs", $col["tcp_out_segs"] / req)
      add("others", $col["secs"] > 0 ? $col["other_cpu_s"] / $col["secs"] : 0)
      seen[gen, sys, wl] = 1
    }
    END {
      print "generator\tsystem\tworkload\treq_per_s\tavg_ms\tp50_ms\tp90_ms\tp99_ms\tp999_ms\terrors\tsrv_us\tgen_us\tcsw\tcsw_live\tsysc\tsysc_rw\tsegs\tothers"
      ng = split(generators, G, " "); ns = split(systems, S, " "); nw = split(workloads, W, " ")
      for (g = 1; g <= ng; g++) for (j = 1; j <= nw; j++) for (i = 1; i <= ns; i++) {
        gen = G[g]; sys = S[i]; wl = W[j]
        if (!((gen, sys, wl) in seen)) continue
        k = gen SUBSEP sys SUBSEP wl SUBSEP
        printf "%s\t%s\t%s", gen, sys, wl
        printf "\t%s\t%s\t%s\t%s\t%s\t%s", median(k "rps"), median(k "avg"), median(k "p50"),
               median(k "p90"), median(k "p99"), median(k "p999")
        printf "\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", errors[gen, sys, wl], median(k "srv"),
               median(k "gen"), median(k "csw"), live, median(k "sysc"), rw, median(k "segs"),
               median(k "others")
      }
    }' "$1"
}

# One load generator's table, from medians.tsv. x etcd = requests/s as a multiple of etcd's for
# the same workload; x null = server CPU per request as a multiple of the null server's for the
# same workload; gen us = the load generator's CPU per request; "live" after csw and "rw" after
# sysc: the /proc stand-ins (see write_medians). "-": not measured.
print_medians() {  # $1 = medians.tsv, $2 = load generator
  printf '%-11s %-13s %9s %7s %8s %8s %8s %6s %8s %7s %7s %10s %9s %8s %6s\n' workload system \
    "req/s" "x etcd" "avg ms" "p50 ms" "p99 ms" errors "srv us" "x null" "gen us" "csw" "sysc" \
    "segs" others
  awk -F'\t' -v generator="$2" '
    function show(value, format, suffix) {
      return value == "NA" ? "-" : sprintf(format, value) suffix
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["generator"] == generator {
      line[++rows] = $0
      if ($col["system"] == "etcd") etcd[$col["workload"]] = $col["req_per_s"]
      if ($col["system"] == "null") null[$col["workload"]] = $col["srv_us"]
    }
    END {
      for (r = 1; r <= rows; r++) {
        split(line[r], f, "\t")
        sys = f[col["system"]]; wl = f[col["workload"]]; rps = f[col["req_per_s"]]
        srv = f[col["srv_us"]]
        speed = (sys == "etcd" || !(wl in etcd) || etcd[wl] == 0) ? "NA" : rps / etcd[wl]
        ratio = (sys == "null" || srv == "NA" || !(wl in null) || null[wl] == 0) ? "NA" : srv / null[wl]
        printf "%-11s %-13s %9.0f %7s %8.2f %8.2f %8.2f %6d %8s %7s %7s %10s %9s %8s %6.2f\n", wl, sys,
               rps, show(speed, "%.2fx", ""), f[col["avg_ms"]], f[col["p50_ms"]], f[col["p99_ms"]],
               f[col["errors"]], show(srv, "%.0f", ""), show(ratio, "%.1fx", ""),
               show(f[col["gen_us"]], "%.0f", ""),
               show(f[col["csw"]], "%.1f", f[col["csw_live"]] ? " live" : ""),
               show(f[col["sysc"]], "%.1f", f[col["sysc_rw"]] ? " rw" : ""),
               show(f[col["segs"]], "%.2f", ""), f[col["others"]]
      }
    }' "$1"
}

# gnuplot's command for one panel: a line per system that has a data file <$1>.<system>.<$2>,
# plotting the columns $3; an empty panel when none has.
panel_plot() {  # $1 = path prefix (directory/generator), $2 = file suffix, $3 = columns (using)
  local s plots=()
  for s in $SYSTEMS; do
    [[ -s "$1.$s.$2" ]] && plots+=("'$1.$s.$2' using $3 with linespoints title '$s'")
  done
  if ((${#plots[@]})); then (IFS=,; echo "plot ${plots[*]}"); else echo "set multiplot next"; fi
}

# plot.png from medians.tsv, one row of panels per load generator: requests/s against clients
# for each kind of workload (put, range-l, range-s: one line per system), and the latency
# percentiles (p50, p90, p99, p99.9) of the put workload with the fewest and with the most
# clients (one line per system, log scale).
plot_medians() {  # $1 = medians.tsv, $2 = the image
  command -v gnuplot >/dev/null || { log "no gnuplot: no plot"; return 0; }
  local data gp g kind w generators fewest most percentile_workloads max_clients
  data="$(dirname "$2")/plot-data"
  mkdir -p "$data"
  generators=$(wc -w <<<"$GENERATORS")
  # Per load generator and system: throughput.tsv (kind, clients, req/s) and, for the put
  # workloads with the fewest and the most clients, percentiles-<workload>.tsv.
  awk -F'\t' -v dir="$data" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      g = $col["generator"]; s = $col["system"]; w = $col["workload"]
      kind = w; clients = 64
      if (w ~ /-[0-9]+$/) { clients = w; sub(/.*-/, "", clients); kind = w; sub(/-[0-9]+$/, "", kind) }
      printf "%d\t%s\n", clients, $col["req_per_s"] >> (dir "/" g "." s "." kind ".tsv")
      f = dir "/" g "." s "." w ".pct"
      printf "50\t%s\n90\t%s\n99\t%s\n99.9\t%s\n", $col["p50_ms"], $col["p90_ms"], $col["p99_ms"],
             $col["p999_ms"] > f
    }' "$1"
  for g in "$data"/*.tsv; do sort -n -o "$g" "$g"; done
  fewest=$(tr ' ' '\n' <<<"$WORKLOADS" | grep '^put-[0-9]*$' | sort -t- -k2 -n | head -1)
  most=$(tr ' ' '\n' <<<"$WORKLOADS" | grep '^put-[0-9]*$' | sort -t- -k2 -n | tail -1)
  # One x range for every throughput panel, so that lines and lone points line up.
  max_clients=$(for w in $WORKLOADS; do workload_shape "$w"; done | awk '$2 > m { m = $2 } END { print m }')
  percentile_workloads="$fewest"
  [[ $most != "$fewest" ]] && percentile_workloads+=" $most"
  gp="$data/plot.gp"
  {
    echo "set terminal pngcairo size 1500,$((420 * generators)) font ',9'"
    echo "set output '$2'"
    echo "set multiplot layout $generators,5 title 'raftkv and etcd, 3 members on one machine (medians of $ROUNDS rounds)'"
    echo "set key top left font ',8'"
    echo "set grid"
    for g in $GENERATORS; do
      for kind in put range-l range-s; do
        echo "set title '$g: $kind, requests/s'"
        echo "set xlabel 'clients'; set ylabel 'req/s'; set logscale x 2; unset logscale y"
        echo "set xrange [0.8:$((max_clients * 5 / 4))]"
        echo "set yrange [0:*]"
        panel_plot "$data/$g" "$kind.tsv" 1:2
      done
      for w in $percentile_workloads; do
        echo "set title '$g: $w, latency percentiles'"
        echo "set xlabel 'percentile'; set ylabel 'ms'; unset logscale x; set logscale y"
        echo "set xrange [-0.2:3.2]; set yrange [*:*]; set xtics ('p50' 0, 'p90' 1, 'p99' 2, 'p99.9' 3)"
        panel_plot "$data/$g" "$w.pct" 0:2
        echo "set xtics autofreq"
      done
      # Five panels a row whatever the number of put workloads.
      for ((w = $(wc -w <<<"$percentile_workloads"); w < 2; w++)); do echo "set multiplot next"; done
    done
    echo "unset multiplot"
  } >"$gp"
  gnuplot "$gp" 2>"$data/gnuplot.err" || log "gnuplot failed, see $data/gnuplot.err"
}

main "$@"
