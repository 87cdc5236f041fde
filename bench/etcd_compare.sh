#!/usr/bin/env bash
# Side by side: raftkv-server against etcd 3.4.23 (Debian 12's etcd-server), same machine, same
# client (etcd's own tools/benchmark), same cluster shape, same workloads; and under both, the
# floor: raftkv-null-server (tools/null-server), one process answering Put and Range from a map
# on one thread with gRPC's async API, no raft and no disk: what gRPC alone costs here.
#
# Run as root on Debian 12 from anywhere: bench/etcd_compare.sh
# Not part of the test suite (scripts/test.sh and CI never call it): it takes ~10 minutes, needs
# the network once for apt-get, and its figures depend on the machine and on its load.
#
# What it does:
#   1. installs etcd-server, golang-go, golang-etcd-server-dev and etcd's Debian source package
#      (apt-get; each step is skipped when already done);
#   2. builds etcd's tools/benchmark offline in GOPATH mode from the source package's
#      tools/benchmark and the Go sources Debian ships in /usr/share/gocode;
#   3. builds raftkv-server, raftkv and raftkv-null-server in Release (cmake --preset release);
#   4. ROUNDS times (default 3), for each system in turn (the order alternates between rounds):
#      probes the disk's flush cost, starts a fresh 3-member cluster on 127.0.0.1 (three
#      processes, the same etcd flags for both; the null server is one process), waits for
#      `etcdctl endpoint health`, runs the four workloads below, checks that every member is
#      alive and that the three agree (revision and `endpoint hashkv`; the null server: its
#      revision), stops the cluster, keeps the members' logs and removes their data;
#   5. prints the medians as a table. Every raw output (benchmark reports, results.tsv with
#      the time, load and counters of each run, perf's output, logs, checks) stays under
#      build/etcd-compare/runs/<UTC time>/.
#
# Workloads (256-byte values, 8-byte keys drawn from 100,000; every request goes to the leader,
# benchmark --target-leader, for every system; the null server answers Status and MemberList as
# a leader of one):
#   put-1      put,   1 client  over 1 connection:   latency bound (fsync + replication round trip)
#   put-64     put,  64 clients over 8 connections:  throughput with batching
#   range-l    linearizable range of one key, 64 clients over 8 connections
#   range-s    serializable range of one key (--consistency s), 64 clients over 8 connections
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
#                   user + system time of the benchmark process itself (bash's `time` around
#                   it: the rusage of the reaped child, microsecond resolution).
#   others          cores busy with anything but the servers and the benchmark (from
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

ROUNDS="${ROUNDS:-3}"
PUT1_TOTAL="${PUT1_TOTAL:-5000}"
PUT64_TOTAL="${PUT64_TOTAL:-30000}"
RANGEL_TOTAL="${RANGEL_TOTAL:-60000}"
RANGES_TOTAL="${RANGES_TOTAL:-200000}"
BASE_PORT="${BASE_PORT:-42379}"
SYSTEMS="${SYSTEMS:-null etcd raftkv}"
WORKLOADS="${WORKLOADS:-put-1 put-64 range-l range-s}"
PERF="${PERF:-auto}"
VALUE_BYTES=256
KEY_SPACE=100000
RANGE_KEY="bench-range-key"

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
  for p in etcd-server etcd-client golang-go golang-etcd-server-dev cmake ninja-build; do
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

workload_total() {
  case "$1" in
    put-1) echo "$PUT1_TOTAL" ;;
    put-64) echo "$PUT64_TOTAL" ;;
    range-l) echo "$RANGEL_TOTAL" ;;
    range-s) echo "$RANGES_TOTAL" ;;
  esac
}

run_workload() {  # $1 = workload, $2 = output file
  local args
  case "$1" in
    put-1) args=(--conns 1 --clients 1 put --total "$PUT1_TOTAL" --val-size "$VALUE_BYTES"
                 --key-space-size "$KEY_SPACE") ;;
    put-64) args=(--conns 8 --clients 64 put --total "$PUT64_TOTAL" --val-size "$VALUE_BYTES"
                  --key-space-size "$KEY_SPACE") ;;
    range-l) args=(--conns 8 --clients 64 range "$RANGE_KEY" --total "$RANGEL_TOTAL"
                   --consistency l) ;;
    range-s) args=(--conns 8 --clients 64 range "$RANGE_KEY" --total "$RANGES_TOTAL"
                   --consistency s) ;;
  esac
  # grpc-go's INFO lines (every connection state change) would bury the report.
  GRPC_GO_LOG_SEVERITY_LEVEL=error "$BENCH_BIN" --endpoints "$ENDPOINTS" --target-leader "${args[@]}" >"$2" 2>&1
}

# Requests/s, average and p99 latency (ms), the number of failed requests and the duration (s)
# from the benchmark's report.
parse_report() {
  awk '
    /^ *Total:/      { secs = $2 }
    /Requests\/sec:/ { rps = $2 }
    /^ *Average:/    { avg = $2 * 1000 }
    /^ *99% in/      { p99 = $3 * 1000 }
    /Error distribution:/ { inerr = 1; next }
    inerr && /^ *\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); errs += $1 }
    END { printf "%.0f %.2f %.2f %d %.2f\n", rps, avg, p99, errs, secs }' "$1"
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
  local tcp0 tcp1 in0 out0 in1 out1 syscalls_column
  check_perf
  # The syscall column says what it counts.
  syscalls_column=server_syscalls
  ((PERF_OK)) || syscalls_column=server_rw_syscalls
  run_dir="$WORK/runs/$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$run_dir"
  results="$run_dir/results.tsv"
  # Raw counts, then the same per request (CPU in microseconds). NA: not measured.
  printf '%s\t' round system workload start_utc load1 req_per_s avg_ms p99_ms errors \
    server_cpu_s requests secs client_cpu_s other_cpu_s server_ctxsw "$syscalls_column" \
    server_ctxsw_all tcp_in_segs tcp_out_segs server_cpu_us_per_req client_cpu_us_per_req \
    ctxsw_all_per_req syscalls_per_req >"$results"
  printf 'tcp_out_segs_per_req\n' >>"$results"
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "cpu: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores"
    echo "kernel: $(uname -r)"
    echo "etcd: $(/usr/bin/etcd --version | head -1)"
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
    ((round % 2 == 0)) && order="$(echo "$SYSTEMS" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')"
    for system in $order; do
      dir="$WORK/data/$system"
      printf '%s\t%s\t%s\n' "$round" "$system" "$(flush_probe_ms)" >>"$run_dir/flush.tsv"
      log "round $round: starting $system"
      start_cluster "$system" "$dir"
      # The key the range workloads read, with a value of the same size as the puts'.
      etcdctl --endpoints "$ENDPOINTS" put "$RANGE_KEY" "$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' v)" >/dev/null
      for w in $WORKLOADS; do
        out="$run_dir/r$round-$system-$w.txt"
        echo "uptime: $(uptime)" >"$out.uptime"
        log "round $round $system $w ($(uptime | sed 's/.*load average: //'))"
        start_utc=$(date -u +%H:%M:%S)
        load1=$(cut -d' ' -f1 /proc/loadavg)
        perf_start "$out.perf"
        sysc0=$(cluster_rw_syscalls); sw0=$(cluster_ctxsw); tcp0=$(tcp_segments)
        cpu0=$(cluster_cpu_s); busy0=$(machine_busy_s)
        # The benchmark's own CPU: bash's `time` reports the rusage of the child it reaped.
        TIMEFORMAT='%3U %3S'
        { time run_workload "$w" "$out"; } 2>"$out.client-cpu" ||
          log "benchmark exited with non-zero status (see $out)"
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
        stats=$(parse_report "$out")
        read -r rps avg_ms p99_ms errors secs <<<"$stats"
        requests=$(workload_total "$w")
        printf '%s\t' "$round" "$system" "$w" "$start_utc" "$load1" "$rps" "$avg_ms" "$p99_ms" \
          "$errors" "$server_cpu" "$requests" "$secs" "$client_cpu" "$other_cpu" \
          "$((sw1 - sw0))" "$syscalls" "$ctxsw_all" "$((in1 - in0))" "$((out1 - out0))" \
          >>"$results"
        awk -v n="$requests" -v s="$server_cpu" -v c="$client_cpu" -v x="$ctxsw_all" \
          -v y="$syscalls" -v o="$((out1 - out0))" '
          function per(v, scale) { return v == "NA" ? "NA" : sprintf("%.2f", v * scale / n) }
          BEGIN { printf "%s\t%s\t%s\t%s\t%s\n", per(s, 1e6), per(c, 1e6), per(x, 1), per(y, 1),
                         per(o, 1) }' >>"$results"
        if [[ "$errors" != 0 ]]; then
          log "$system $w: $errors failed requests, see $out and r$round-$system-logs/"
        fi
      done
      for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[$i]}" 2>/dev/null ||
          echo "$system member n$((i + 1)) died during round $round" | tee -a "$run_dir/r$round-$system-check.txt" >&2
      done
      # 1 (range key) + every put; etcd and raftkv both start at revision 1.
      expected=2
      [[ " $WORKLOADS " == *" put-1 "* ]] && expected=$((expected + PUT1_TOTAL))
      [[ " $WORKLOADS " == *" put-64 "* ]] && expected=$((expected + PUT64_TOTAL))
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
  echo "medians of $ROUNDS rounds (requests to the leader; $VALUE_BYTES-byte values)"
  print_medians "$results"
}

# The medians table, read from results.tsv by column name. x etcd = requests/s as a multiple of
# etcd's for the same workload. Per request: srv us = CPU
# microseconds of all the system's members together; x null = that as a multiple of the null
# server's for the same workload; gen us = the benchmark's own CPU; csw = the members' context
# switches (all threads, from perf; "live" after the number when only /proc's count of the
# threads alive at the end was available); sysc = their system calls (all, from perf; "rw" after
# the number: read+write-like ones from /proc/<pid>/io); segs = TCP segments sent on the machine
# (loopback: client and peer traffic, plus whatever else ran). others = cores busy with anything
# but the servers and the benchmark during the run (other users' load). "-": not measured.
print_medians() {  # $1 = results.tsv
  printf '%-8s %-8s %9s %7s %8s %8s %6s %8s %7s %7s %10s %9s %8s %6s\n' workload system \
    "req/s" "x etcd" "avg ms" "p99 ms" errors "srv us" "x null" "gen us" "csw" "sysc" "segs" others
  awk -F'\t' -v systems="$SYSTEMS" -v workloads="$WORKLOADS" '
    function median(key,   m, i, j, t, a) {
      m = 0
      for (i = 1; i <= n[key]; i++) if (v[key, i] != "NA") a[++m] = v[key, i] + 0
      if (!m) return "NA"
      for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function add(metric, value,   key) {
      key = sys SUBSEP wl SUBSEP metric
      v[key, ++n[key]] = value
    }
    function show(value, format, suffix) {
      return value == "NA" ? "-" : sprintf(format, value) suffix
    }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      sys = $col["system"]; wl = $col["workload"]; req = $col["requests"]
      add("rps", $col["req_per_s"]); add("avg", $col["avg_ms"]); add("p99", $col["p99_ms"])
      errors[sys, wl] += $col["errors"]
      add("srv", $col["server_cpu_s"] * 1e6 / req)
      add("gen", $col["client_cpu_s"] * 1e6 / req)
      if ($col["server_ctxsw_all"] != "NA") { add("csw", $col["server_ctxsw_all"] / req); csw_all = 1 }
      else add("csw", $col["server_ctxsw"] / req)
      if ("server_syscalls" in col) add("sysc", $col["server_syscalls"] / req)
      else { add("sysc", $col["server_rw_syscalls"] / req); rw = 1 }
      add("segs", $col["tcp_out_segs"] / req)
      add("others", $col["secs"] > 0 ? $col["other_cpu_s"] / $col["secs"] : 0)
      seen[sys, wl] = 1
    }
    END {
      ns = split(systems, S, " "); nw = split(workloads, W, " ")
      for (j = 1; j <= nw; j++) for (i = 1; i <= ns; i++) {
        sys = S[i]; wl = W[j]
        if (!((sys, wl) in seen)) continue
        k = sys SUBSEP wl SUBSEP
        srv = median(k "srv")
        base = (("null", wl) in seen) ? median("null" SUBSEP wl SUBSEP "srv") : "NA"
        ratio = (sys == "null" || srv == "NA" || base == "NA" || base == 0) ? "NA" : srv / base
        rps = median(k "rps")
        etcd = (("etcd", wl) in seen) ? median("etcd" SUBSEP wl SUBSEP "rps") : "NA"
        speed = (sys == "etcd" || etcd == "NA" || etcd == 0) ? "NA" : rps / etcd
        printf "%-8s %-8s %9.0f %7s %8.2f %8.2f %6d %8s %7s %7s %10s %9s %8s %6.2f\n", wl, sys,
               rps, show(speed, "%.2fx", ""), median(k "avg"), median(k "p99"), errors[sys, wl],
               show(srv, "%.0f", ""), show(ratio, "%.1fx", ""), show(median(k "gen"), "%.0f", ""),
               show(median(k "csw"), "%.1f", csw_all ? "" : " live"),
               show(median(k "sysc"), "%.1f", rw ? " rw" : ""), show(median(k "segs"), "%.2f", ""),
               median(k "others")
      }
    }' "$1"
}

main "$@"
