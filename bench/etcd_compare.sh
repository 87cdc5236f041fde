#!/usr/bin/env bash
# Side by side: raftkv-server against etcd 3.4.23 (Debian 12's etcd-server), same machine, same
# client (etcd's own tools/benchmark), same cluster shape, same workloads.
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
#   3. builds raftkv-server and raftkv in Release (cmake --preset release);
#   4. ROUNDS times (default 3), for each system in turn (the order alternates between rounds):
#      probes the disk's flush cost, starts a fresh 3-member cluster on 127.0.0.1 (three
#      processes, the same etcd flags for both), waits for `etcdctl endpoint health`, runs the
#      four workloads below, checks that every member is alive and that the three agree
#      (revision and `endpoint hashkv`), stops the cluster, keeps the members' logs and removes
#      their data;
#   5. prints the medians as a table. Every raw output (benchmark reports, results.tsv with
#      the time, load, CPU and context switches of each run, logs, checks) stays under
#      build/etcd-compare/runs/<UTC time>/.
#
# Workloads (256-byte values, 8-byte keys drawn from 100,000; every request goes to the leader,
# benchmark --target-leader, for both systems):
#   put-1      put,   1 client  over 1 connection:   latency bound (fsync + replication round trip)
#   put-64     put,  64 clients over 8 connections:  throughput with batching
#   range-l    linearizable range of one key, 64 clients over 8 connections
#   range-s    serializable range of one key (--consistency s), 64 clients over 8 connections
#
# Durability is the default of each system: etcd writes and fsyncs its WAL once per raft Ready
# (a batch) before acknowledging, and commits its bbolt backend in batches (every 100 ms or
# 10,000 writes, also fsynced); raftkv-server fsyncs its WAL once per Ready and keeps the
# key-value store in memory (rebuilt from snapshot + log on start), so it has no second write.
#
# Knobs (environment):
#   ROUNDS=3 (0: install and build only)
#   PUT1_TOTAL=5000, PUT64_TOTAL=30000, RANGEL_TOTAL=60000, RANGES_TOTAL=200000 (requests per
#     run; ~5-20 s each on 2 shared cores)
#   BASE_PORT=42379 (client ports BASE, BASE+2, BASE+4; peer ports one above each)
#   SYSTEMS="etcd raftkv", WORKLOADS="put-1 put-64 range-l range-s"
#   RAFTKV_SERVER (another build of raftkv-server to measure; default
#     build/release/tools/raftkv-server, built by this script; a given one is not rebuilt)
#   RAFTKV_BASE_SERVER (a second raftkv-server build, e.g. an earlier commit's, measured as the
#     system "raftkv-base" when SYSTEMS names it: SYSTEMS="raftkv-base raftkv" interleaves the
#     two builds round by round, for before/after figures of a change)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/build/etcd-compare"
GOPATH_DIR="$WORK/benchgp"
BENCH_BIN="$GOPATH_DIR/benchmark"
RAFTKV_SERVER_GIVEN="${RAFTKV_SERVER:+1}"
RAFTKV_SERVER="${RAFTKV_SERVER:-$ROOT/build/release/tools/raftkv-server}"
RAFTKV_BASE_SERVER="${RAFTKV_BASE_SERVER:-}"

ROUNDS="${ROUNDS:-3}"
PUT1_TOTAL="${PUT1_TOTAL:-5000}"
PUT64_TOTAL="${PUT64_TOTAL:-30000}"
RANGEL_TOTAL="${RANGEL_TOTAL:-60000}"
RANGES_TOTAL="${RANGES_TOTAL:-200000}"
BASE_PORT="${BASE_PORT:-42379}"
SYSTEMS="${SYSTEMS:-etcd raftkv}"
WORKLOADS="${WORKLOADS:-put-1 put-64 range-l range-s}"
VALUE_BYTES=256
KEY_SPACE=100000
RANGE_KEY="bench-range-key"

export ETCDCTL_API=3

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

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
  if [[ -n $RAFTKV_SERVER_GIVEN ]]; then
    log "measuring the given $RAFTKV_SERVER (not rebuilt)"
    return
  fi
  log "building raftkv (Release)"
  (cd "$ROOT" && cmake --preset release >/dev/null &&
     cmake --build build/release -j2 --target raftkv-server raftkv >/dev/null)
}

# ---------------------------------------------------------------------------------------------
# 4. Clusters. Both systems get the same flags (raftkv-server takes etcd's), the same ports and
# data directories under build/etcd-compare/data/<system>/n<i>.
client_port() { echo $((BASE_PORT + 2 * $1)); }
peer_port() { echo $((BASE_PORT + 2 * $1 + 1)); }
ENDPOINTS="127.0.0.1:$(client_port 0),127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2)"
PIDS=()

start_cluster() {  # $1 = etcd | raftkv, $2 = directory for data and logs
  local system="$1" dir="$2" bin initial="" i
  case "$system" in
    etcd) bin=/usr/bin/etcd ;;
    raftkv) bin="$RAFTKV_SERVER" ;;
    raftkv-base)
      bin="$RAFTKV_BASE_SERVER"
      [[ -x $bin ]] || die "SYSTEMS names raftkv-base but RAFTKV_BASE_SERVER is not an executable"
      ;;
    *) die "unknown system $system" ;;
  esac
  rm -rf "$dir"
  mkdir -p "$dir"
  for i in 0 1 2; do initial+="${initial:+,}n$((i + 1))=http://127.0.0.1:$(peer_port "$i")"; done
  PIDS=()
  for i in 0 1 2; do
    "$bin" --name "n$((i + 1))" --data-dir "$dir/n$((i + 1))" \
      --listen-client-urls "http://127.0.0.1:$(client_port "$i")" \
      --advertise-client-urls "http://127.0.0.1:$(client_port "$i")" \
      --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
      --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
      --initial-cluster "$initial" --initial-cluster-token "compare-$system" \
      --initial-cluster-state new \
      --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 100000 \
      >"$dir/n$((i + 1)).log" 2>&1 &
    PIDS+=("$!")
  done
  # Healthy = every member answers etcdctl's health check (a linearizable read), i.e. a
  # leader is elected and reachable from each member.
  local deadline=$((SECONDS + 30))
  until etcdctl --endpoints "$ENDPOINTS" --command-timeout=2s endpoint health >/dev/null 2>&1; do
    for i in 0 1 2; do
      kill -0 "${PIDS[$i]}" 2>/dev/null || die "$system member n$((i + 1)) exited; see $dir/n$((i + 1)).log"
    done
    ((SECONDS < deadline)) || die "$system cluster not healthy after 30 s; logs in $dir"
    sleep 0.5
  done
}

stop_cluster() {  # stops only the processes this script started
  local pid deadline
  ((${#PIDS[@]})) || return 0
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 15))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap stop_cluster EXIT

# CPU seconds (user + system) used so far by the three members.
cluster_cpu_s() {
  local pid total=0 ticks
  for pid in "${PIDS[@]}"; do
    # Fields 14 and 15 of /proc/<pid>/stat, counted after the ")" that ends the command name.
    ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
    total=$((total + ticks))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'
}

# Context switches (voluntary and not) of every thread of the three members so far.
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

# CPU seconds used by this shell's reaped children (the benchmark runs). `times` must run in
# this shell, not in a $(...) subshell, whose children's counters start at zero; so this writes
# the figure to $WORK/children_cpu_s, to be read afterwards.
record_children_cpu() {
  times >"$WORK/times.txt"
  tail -1 "$WORK/times.txt" | awk '{
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%.2f", t }' >"$WORK/children_cpu_s"
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

# The members must agree after the writes: same revision, same KV hash at that revision.
check_agreement() {  # $1 = system, $2 = expected revision, $3 = file for the evidence
  local revs hashes
  etcdctl --endpoints "$ENDPOINTS" endpoint status -w json >"$3.status" 2>&1 || true
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
  local start_utc load1 busy0 busy1 client0 client1 server_cpu client_cpu other_cpu
  local rps avg_ms p99_ms errors secs sw0 sw1 dir i
  run_dir="$WORK/runs/$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$run_dir"
  results="$run_dir/results.tsv"
  printf 'round\tsystem\tworkload\tstart_utc\tload1\treq_per_s\tavg_ms\tp99_ms\terrors\tserver_cpu_s\trequests\tsecs\tclient_cpu_s\tother_cpu_s\tserver_ctxsw\n' >"$results"
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "cpu: $(lscpu | grep 'Model name' | sed 's/.*: *//'), $(nproc) cores"
    echo "etcd: $(/usr/bin/etcd --version | head -1)"
    echo "raftkv: $(git -C "$ROOT" rev-parse --short HEAD)"
    echo "disk: $(df -T "$WORK" | awk 'NR==2{print $1, $2}')"
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
        cpu0=$(cluster_cpu_s); busy0=$(machine_busy_s); sw0=$(cluster_ctxsw); record_children_cpu
        client0=$(cat "$WORK/children_cpu_s")
        run_workload "$w" "$out" || log "benchmark exited with $? (see $out)"
        cpu1=$(cluster_cpu_s); busy1=$(machine_busy_s); sw1=$(cluster_ctxsw); record_children_cpu
        client1=$(cat "$WORK/children_cpu_s")
        server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.1f", b - a}')
        client_cpu=$(awk -v a="$client0" -v b="$client1" 'BEGIN{printf "%.1f", b - a}')
        # What the rest of the machine (other users, kernel threads) used meanwhile.
        other_cpu=$(awk -v b0="$busy0" -v b1="$busy1" -v s="$server_cpu" -v c="$client_cpu" \
          'BEGIN{printf "%.1f", b1 - b0 - s - c}')
        stats=$(parse_report "$out")
        read -r rps avg_ms p99_ms errors secs <<<"$stats"
        printf '%s\t' "$round" "$system" "$w" "$start_utc" "$load1" "$rps" "$avg_ms" "$p99_ms" \
          "$errors" "$server_cpu" "$(workload_total "$w")" "$secs" "$client_cpu" >>"$results"
        printf '%s\t%s\n' "$other_cpu" "$((sw1 - sw0))" >>"$results"
        if [[ "$errors" != 0 ]]; then
          log "$system $w: $errors failed requests, see $out and r$round-$system-logs/"
        fi
      done
      for i in 0 1 2; do
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
  # cpu s/10k: CPU seconds the three members used (together) per 10,000 requests. csw/req:
  # their context switches per request. others: cores busy with anything but the servers and the
  # benchmark during the run (other users' load).
  printf '%-8s %-8s %10s %9s %9s %7s %12s %10s %8s\n' workload system "req/s" "avg ms" "p99 ms" \
    errors "cpu s/10k" "csw/req" others
  for w in $WORKLOADS; do
    for system in $SYSTEMS; do
      awk -F'\t' -v s="$system" -v w="$w" '
        function median(a, n,   i, j, t) {
          for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
          return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $2 == s && $3 == w { n++; r[n] = $6; a[n] = $7; p[n] = $8; errs += $9; c[n] = $10 / $11 * 10000
                             o[n] = $12 > 0 ? $14 / $12 : 0; x[n] = $15 / $11 }
        END {
          if (!n) exit
          printf "%-8s %-8s %10.0f %9.2f %9.2f %7d %12.2f %10.1f %8.2f\n", w, s, median(r, n),
                 median(a, n), median(p, n), errs, median(c, n), median(x, n), median(o, n)
        }' "$results"
    done
  done
}

main "$@"
