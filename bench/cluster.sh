# Shared by the benchmark scripts (sourced, not run): three-member clusters of etcd, raftkv or
# the null server on loopback, started with the same flags, and stopped again.
#
# Needs from the caller: BASE_PORT, RAFTKV_SERVER, RAFTKV_NULL_SERVER, RAFTKV_BASE_SERVER (may be
# empty); SNAPSHOT_COUNT may set --snapshot-count (default 100000) and SERVER_FLAGS adds flags
# (space-separated) to every member of every system. Also gives the scripts
# their shared helpers: log, die, median, elapsed_since, leader_endpoint. Systems: null | etcd | raftkv | raftkv-memory (raftkv with
# --engine memory) | raftkv-base (the build in RAFTKV_BASE_SERVER).
# Every system gets the same flags (raftkv-server takes etcd's), the same ports and
# data directories under build/etcd-compare/data/<system>/n<i>. The null server is one process
# on the first client port; its directory holds only its log.
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# Seconds since $1 (a `date +%s.%N` reading), to the millisecond.
elapsed_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN {printf "%.3f", now - start}'; }

client_port() { echo $((BASE_PORT + 2 * $1)); }
peer_port() { echo $((BASE_PORT + 2 * $1 + 1)); }
ENDPOINTS=""  # the started system's client endpoints, set by start_cluster
PIDS=()

start_cluster() {  # $1 = system (above), $2 = directory for data and logs
  local system="$1" dir="$2" bin initial="" i extra=()
  case "$system" in
    null)
      [[ -x $RAFTKV_NULL_SERVER ]] || die "no $RAFTKV_NULL_SERVER"
      rm -rf "$dir"
      mkdir -p "$dir"
      ENDPOINTS="127.0.0.1:$(client_port 0)"
      "$RAFTKV_NULL_SERVER" --listen "$ENDPOINTS" --name n1 >"$dir/n1.log" 2>&1 &
      PIDS=("$!")
      wait_healthy "$system" "$dir"
      return
      ;;
    etcd) bin=/usr/bin/etcd ;;
    raftkv) bin="$RAFTKV_SERVER" ;;
    raftkv-memory)
      bin="$RAFTKV_SERVER"
      extra=(--engine memory)
      ;;
    raftkv-base)
      bin="$RAFTKV_BASE_SERVER"
      [[ -x $bin ]] || die "SYSTEMS names raftkv-base but RAFTKV_BASE_SERVER is not an executable"
      ;;
    *) die "unknown system $system" ;;
  esac
  rm -rf "$dir"
  mkdir -p "$dir"
  ENDPOINTS="127.0.0.1:$(client_port 0),127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2)"
  for i in 0 1 2; do initial+="${initial:+,}n$((i + 1))=http://127.0.0.1:$(peer_port "$i")"; done
  PIDS=()
  local command=()
  for i in 0 1 2; do
    command=("$bin" --name "n$((i + 1))" --data-dir "$dir/n$((i + 1))"
      --listen-client-urls "http://127.0.0.1:$(client_port "$i")"
      --advertise-client-urls "http://127.0.0.1:$(client_port "$i")"
      --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")"
      --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")"
      --initial-cluster "$initial" --initial-cluster-token "compare-$system"
      --initial-cluster-state new
      --heartbeat-interval 100 --election-timeout 1000
      --snapshot-count "${SNAPSHOT_COUNT:-100000}" "${extra[@]}")
    # shellcheck disable=SC2206  # SERVER_FLAGS is a list of words
    command+=(${SERVER_FLAGS:-})
    # Kept for restart_member.
    printf '%s\0' "${command[@]}" >"$dir/n$((i + 1)).cmdline"
    "${command[@]}" >"$dir/n$((i + 1)).log" 2>&1 &
    PIDS+=("$!")
  done
  wait_healthy "$system" "$dir"
}

# Starts member $1 (0-based) of the cluster in $2 again, with the command line start_cluster
# gave it, its output appended to its log; PIDS[$1] becomes the new process.
restart_member() {  # $1 = member index, $2 = directory, $3 = another binary (optional)
  local args=()
  mapfile -d '' args <"$2/n$(($1 + 1)).cmdline"
  [[ -z ${3:-} ]] || args[0]=$3
  "${args[@]}" >>"$2/n$(($1 + 1)).log" 2>&1 &
  PIDS[$1]=$!
}

# Waits until a linearizable read through member $1 (0-based) alone answers, i.e. it has a
# leader and applied everything committed before the read; dies after $2 seconds. $3: the
# timeout of one attempt (default 1s).
wait_for_read() {  # $1 = member index, $2 = seconds, $3 = attempt timeout
  local deadline=$((SECONDS + $2))
  until etcdctl --endpoints "127.0.0.1:$(client_port "$1")" --command-timeout="${3:-1s}" \
    get --consistency=l bench-probe >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "member n$(($1 + 1)) did not serve a read within $2 s"
    sleep 0.05
  done
}

# Healthy = every member answers etcdctl's health check (a linearizable read), i.e. a leader is
# elected and reachable from each member.
wait_healthy() {  # $1 = system, $2 = directory of the members' logs
  local deadline=$((SECONDS + 30)) i
  until etcdctl --endpoints "$ENDPOINTS" --command-timeout=2s endpoint health >/dev/null 2>&1; do
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[$i]}" 2>/dev/null || die "$1 member n$((i + 1)) exited; see $2/n$((i + 1)).log"
    done
    ((SECONDS < deadline)) || die "$1 not healthy after 30 s; logs in $2"
    sleep 0.5
  done
}

# The client endpoint of the started cluster's leader.
leader_endpoint() {
  etcdctl --endpoints "$ENDPOINTS" endpoint status -w json | python3 -c 'import json,sys
for e in json.load(sys.stdin):
    s = e["Status"]
    if s["header"]["member_id"] == s["leader"]:
        print(e["Endpoint"])
        break
else:
    sys.exit("no leader")' || die "no leader among $ENDPOINTS"
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
