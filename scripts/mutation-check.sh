#!/usr/bin/env bash
# Planted-bug (mutation) check: applies one known bug at a time to a fresh clone of this
# repository — in the consensus core, and above it in the node driver, the store and the
# services — rebuilds the tests and reports, per mutant, whether the default suite caught it.
# Not part of the default test suite (it takes a while); see docs/testing.md, "Planted-bug
# check".
#
# Usage: scripts/mutation-check.sh [-k] [-s SEEDS] [MUTANT...]
#   MUTANT     ids from the table below (default: all)
#   -s SEEDS   simulator seeds (mixed, then mixed_leases) per mutant the test binaries missed
#              (default 250)
#   -k         keep the clone (WORK, default /tmp/raftkv-mutation) for inspection or a rerun;
#              an existing WORK clone is reused (with its build) and never deleted
# Environment: JOBS (default 2), WORK, REPO (default: this repository).
set -euo pipefail

REPO=${REPO:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
WORK=${WORK:-/tmp/raftkv-mutation}
JOBS=${JOBS:-2}
SEEDS=250
KEEP=0
while getopts "ks:" opt; do
  case $opt in
    k) KEEP=1 ;;
    s) SEEDS=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))

# Each mutant: id @@ file under src/ @@ exact text @@ replacement (\n: newline). The core's
# mutants come first (a-z5), then those above the core (driver, applier, store, services).
MUTANTS=$(cat <<'TABLE'
a-commit-old-term @@ raft/raft_log.cc @@ if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) == term) { @@ if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) <= term) {
b-vote-no-uptodate @@ raft/raft.cc @@ if (can_vote && log_.IsUpToDate(m.index(), m.log_term())) { @@ if (can_vote) {
c-uptodate-index-only @@ raft/raft_log.cc @@ return term > my_term || (term == my_term && last_index >= LastIndex()); @@ (void)my_term;\n  return last_index >= LastIndex();
d-vote-twice @@ raft/raft.cc @@ vote_ == m.from() || (vote_ == 0 && lead_ == 0) || @@ vote_ == m.from() || lead_ == 0 ||
e-no-stepdown-on-response @@ raft/raft.cc @@ if (type == raftpb::MSG_REQUEST_PRE_VOTE) {\n      // Never change term @@ if (type == raftpb::MSG_REQUEST_PRE_VOTE || type == raftpb::MSG_APPEND_RESPONSE ||\n        type == raftpb::MSG_HEARTBEAT_RESPONSE || type == raftpb::MSG_REQUEST_VOTE_RESPONSE) {\n      // Never change term
f-append-prev-term-ignored @@ raft/raft_log.cc @@ if (!MatchTerm(index, log_term)) return std::nullopt; @@ if (index > LastIndex()) return std::nullopt;
g-stale-append-truncates @@ raft/raft_log.cc @@ const uint64_t conflict = FindConflict(entries); @@ const uint64_t conflict = entries.empty() ? 0 : index + 1;
h-commit-minority @@ raft/quorum/majority.cc @@ return indexes[n - (n / 2 + 1)]; @@ return indexes[n - (n / 2)];
h2-vote-minority @@ raft/quorum/majority.cc @@ const size_t quorum = voters_.size() / 2 + 1; @@ const size_t quorum = (voters_.size() + 1) / 2;
i-heartbeat-commit-uncapped @@ raft/raft_leader.cc @@ const uint64_t commit = std::min(trk_.progress().at(to).match(), log_.committed()); @@ const uint64_t commit = log_.committed();
j-timeout-not-randomized @@ raft/raft.cc @@ election_timeout_ + static_cast<int>(rand_.Uniform(static_cast<uint64_t>(election_timeout_))); @@ election_timeout_ + 0 * static_cast<int>(rand_.Uniform(1));
k-no-empty-entry @@ raft/raft.cc @@ const bool appended = AppendEntry({empty}); @@ const bool appended = empty.index() == 0;
l-joint-commit-incoming-only @@ raft/quorum/joint.cc @@ return std::min(halves_[0].CommittedIndex(acked), halves_[1].CommittedIndex(acked)); @@ return halves_[0].CommittedIndex(acked);
l2-joint-vote-incoming-only @@ raft/quorum/joint.cc @@ if (r1 == r2) return r1; @@ if (r1 == r2 || r2 != r1) return r1;
m-learners-in-commit-quorum @@ raft/tracker/tracker.cc @@ return config_.voters.CommittedIndex(ProgressAckIndexer(progress_)); @@ std::set<uint64_t> all;\n  for (const auto& [id, pr] : progress_) all.insert(id);\n  return quorum::MajorityConfig(all).CommittedIndex(ProgressAckIndexer(progress_));
m2-learners-in-vote-quorum @@ raft/tracker/tracker.cc @@ return config_.voters.GetVoteResult(votes_); @@ std::set<uint64_t> all;\n  for (const auto& [id, pr] : progress_) all.insert(id);\n  return quorum::MajorityConfig(all).GetVoteResult(votes_);
n-prevote-bumps-term @@ raft/raft.cc @@   trk_.ResetVotes();\n  lead_ = 0;\n  state_ = StateRole::kPreCandidate; @@   trk_.ResetVotes();\n  term_ += 1;\n  lead_ = 0;\n  state_ = StateRole::kPreCandidate;
o-readindex-no-heartbeat @@ raft/raft_leader.cc @@       read_only_.AddRequest(log_.committed(), m);\n      read_only_.RecvAck(id_, ctx);\n      BcastHeartbeatWithCtx(ctx); @@       (void)ctx;\n      if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(*std::move(resp));
o2-readindex-before-own-commit @@ raft/raft_leader.cc @@ if (!CommittedEntryInCurrentTerm()) {\n        pending_read_index_messages_.push_back(m); @@ if (false) {\n        pending_read_index_messages_.push_back(m);
p-leader-counts-unpersisted @@ raft/raft_leader.cc @@   log_.Append(entries);\n @@   log_.Append(entries);\n  if (auto self = trk_.progress().find(id_); self != trk_.progress().end()) {\n    self->second.MaybeUpdate(log_.LastIndex());\n  }\n
q-commit-decreases @@ raft/raft_log.cc @@   if (index <= committed_) return;\n  RAFTKV_CHECK(index <= LastIndex() @@   if (index == committed_) return;\n  RAFTKV_CHECK(index <= LastIndex()
r-backtrack-hint-off-by-one @@ raft/tracker/progress.cc @@ next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1); @@ next_ = std::max(std::min(rejected, match_hint), match_ + 1);
s-inflight-limit-ignored @@ raft/tracker/progress.cc @@       return inflights_.Full(); @@       return inflights_.Full() && false;
t-follower-commit-past-last-new @@ raft/raft_log.cc @@ CommitTo(std::min(committed, last_new)); @@ CommitTo(std::min(committed, LastIndex()));
u-checkquorum-lease-ignored @@ raft/raft.cc @@ if (!force && in_lease) { @@ if (!force && in_lease && false) {
v-stale-term-accepted @@ raft/raft.cc @@   } else if (m.term() < term_) {\n @@   } else if (m.term() < term_ && false) {\n
w-old-snapshot-restored @@ raft/raft_follower.cc @@ if (meta.index() <= log_.committed()) return false; @@ if (meta.index() == 0) return false;
x-transfer-target-not-caught-up @@ raft/raft_leader.cc @@   if (pr.match() == log_.LastIndex()) {\n    SendTimeoutNow(transferee); @@   if (pr.match() + 1 >= log_.LastIndex()) {\n    SendTimeoutNow(transferee);
y-candidate-ignores-leader-append @@ raft/raft_candidate.cc @@       BecomeFollower(m.term(), m.from());\n      HandleAppendEntries(m); @@       break;
z1-vote-request-before-persisted @@ raft/raft.cc @@ if (t == raftpb::MSG_APPEND_RESPONSE || t == raftpb::MSG_REQUEST_VOTE || @@ if (t == raftpb::MSG_APPEND_RESPONSE ||
z2-append-ack-before-persisted @@ raft/raft.cc @@ if (t == raftpb::MSG_APPEND_RESPONSE || t == raftpb::MSG_REQUEST_VOTE || @@ if (t == raftpb::MSG_REQUEST_VOTE ||
z3-check-quorum-activity-never-reset @@ raft/raft_leader.cc @@ if (id != id_) pr.set_recent_active(false); @@ (void)id;
z4-vote-kept-across-terms @@ raft/raft.cc @@    term_ = term;\n    vote_ = 0; @@    term_ = term;
z5-vote-granted-before-persisted @@ raft/raft.cc @@       t == raftpb::MSG_REQUEST_VOTE_RESPONSE || t == raftpb::MSG_REQUEST_PRE_VOTE || @@       t == raftpb::MSG_REQUEST_PRE_VOTE ||
drv-persisted-sent-before-save @@ raft/ready_loop.cc @@     if (absl::Status s = handler.Persist(ready); !s.ok()) return s;\n    if (!ready.persisted_messages.empty()) handler.Send(std::move(ready.persisted_messages)); @@     if (!ready.persisted_messages.empty()) handler.Send(std::move(ready.persisted_messages));\n    if (absl::Status s = handler.Persist(ready); !s.ok()) return s;
drv-durable-ignores-must-sync @@ node/durable_log_store.cc @@ const bool sync = ready.must_sync || ready.snapshot.has_value(); @@ const bool sync = false;
drv-snapshot-ready-not-synced @@ node/durable_log_store.cc @@ const bool sync = ready.must_sync || ready.snapshot.has_value(); @@ const bool sync = ready.must_sync;
wal-cold-cache-compaction @@ storage/durable_storage.cc @@ if (cache_.empty()) cache_first_ = LastIndex() + 1; @@ if (cache_.empty()) cache_first_ = offset_ + 1;
drv-read-served-before-applied @@ node/driver_reads.cc @@ auto end = reads_to_apply_.upper_bound(applied); @@ auto end = reads_to_apply_.upper_bound(applied + 1);
drv-stale-read-state-accepted @@ node/driver_reads.cc @@ if (!read_round_.has_value() || read_state.request_ctx != read_round_->ctx) return; @@ if (!read_round_.has_value()) return;
srv-range-skips-linearizable-wait @@ server/etcd/kv_service.cc @@ WhenReadable(context, request->serializable(), one_key, reactor, @@ WhenReadable(context, !request->serializable(), one_key, reactor,
drv-restart-skips-unapplied @@ node/driver.cc @@ config.applied = snapshot->metadata().index(); @@ config.applied = hard_state_.commit();
drv-conf-change-not-applied-to-core @@ node/driver.cc @@   conf_state_ = raw_->ApplyConfChange(change);\n  applier_->ApplyConfChange(entry.index(), change); @@   applier_->ApplyConfChange(entry.index(), change);
drv-conf-state-not-recorded @@ node/driver.cc @@   // The core hears of a change when it is applied, in log order (thesis §4.1).\n  conf_state_ = raw_->ApplyConfChange(change); @@   // The core hears of a change when it is applied, in log order (thesis §4.1).\n  (void)raw_->ApplyConfChange(change);
app-restore-drops-members @@ node/applier.cc @@ another index than the snapshot");\n  }\n  members_.Restore({state.members().begin(), state.members().end()},\n                   {state.removed_ids().begin(), state.removed_ids().end()});\n @@ another index than the snapshot");\n  }\n
drv-network-not-following-snapshot @@ node/driver.cc @@ (etcd rebuilds its peers here too).\n  network_->FollowMembers(applier_->members());\n @@ (etcd rebuilds its peers here too).\n
mem-add-keeps-learner-flag @@ node/member_list.cc @@   *it->second.mutable_peer_urls() = member.peer_urls();\n  it->second.set_is_learner(member.is_learner()); @@   *it->second.mutable_peer_urls() = member.peer_urls();
mem-removal-not-recorded @@ node/member_list.cc @@   members_.erase(id);\n  removed_.insert(id); @@   members_.erase(id);
drv-waiter-matched-by-id-only @@ node/driver.cc @@ const bool ours = proposal.proposer() == options_.id; @@ const bool ours = writes_.contains(proposal.request_id());
drv-write-timeout-says-no-leader @@ node/driver_requests.cc @@ CompleteWrite(id, leader_failed ? TimeoutDueToLeaderFailError() : TimeoutError()); @@ CompleteWrite(id, leader_failed ? NoLeaderError() : TimeoutError());
srv-not-leader-wrong-code @@ server/etcd/backend.cc @@ absl::Status NotLeaderError() { return absl::FailedPreconditionError("etcdserver: not leader"); } @@ absl::Status NotLeaderError() { return absl::UnavailableError("etcdserver: not leader"); }
kv-delete-revision-not-bumped @@ kv/write.cc @@ if (deleted > 0) batch.wrote = true; @@ if (deleted > 1) batch.wrote = true;
kv-version-not-incremented @@ kv/write.cc @@ next.version = prev.version + 1; @@ next.version = prev.version;
kv-txn-compare-greater-inverted @@ kv/txn.cc @@         return order > 0; @@         return order < 0;
kv-old-revision-reads-newest @@ kv/memory_engine.cc @@ if (history.back().mod_revision <= revision) return &history.back(); @@ if (history.back().mod_revision >= revision) return &history.back();
srv-compacted-wrong-code @@ kv/errors.cc @@ return absl::OutOfRangeError("etcdserver: mvcc: required revision has been compacted"); @@ return absl::InvalidArgumentError("etcdserver: mvcc: required revision has been compacted");
drv-lease-follower-expires @@ node/driver_leases.cc @@ if (role() != raft::StateRole::kLeader || entry.term() != term() || leases_.primary()) return; @@ if (entry.term() != term() || leases_.primary()) return;
drv-lease-renew-not-extended @@ node/lease_clock.cc @@   if (it == expiry_.end() || revoking_.contains(id) || it->second <= now) return false;\n  Set(id, now + TicksFor(ttl)); @@   if (it == expiry_.end() || revoking_.contains(id) || it->second <= now) return false;\n  (void)ttl;
drv-lease-new-leader-no-ttl-refresh @@ node/lease_clock.cc @@ Set(lease.id, now + extend_ticks + TicksFor(lease.ttl)); @@ Set(lease.id, now + extend_ticks);
kv-events-page-drops-last @@ kv/events.cc @@ page.through = page.events.back().kv().mod_revision();\n                       return false; @@ page.through = page.events.back().kv().mod_revision();\n                       page.events.pop_back();\n                       return false;
tsp-broken-stream-drops-buffer @@ transport/checkpoint_sink.cc @@     FlushDirect(/*to_the_end=*/true).IgnoreError(); @@     (void)0;
TABLE
)

# The default suite's test binaries, cheapest first; the first that fails names the catch.
TEST_BINS=(src/raft/raftkv_raft_unit_test src/raft/raftkv_raft_feature_test
  src/raft/testing/raft_paper_test src/raft/testing/raft_scenario_test
  src/kv/kv_store_test src/kv/kv_engine_test src/storage/raftkv_storage_test
  src/node/raftkv_node_test src/server/etcd/etcd_api_service_test
  src/server/etcd/etcd_api_lease_service_test src/server/etcd/etcd_api_watch_service_test
  src/server/etcd/etcd_api_watch_test src/server/etcd/etcd_api_concurrency_service_test
  src/server/raftkv_server_test src/sim/sim_unit_test src/sim/sim_scenario_test
  src/sim/sim_regression_test src/sim/sim_durable_test src/sim/sim_sweep_test
  src/server/etcd/etcd_api_etcdctl_test tests/process/raftkv_process_test)
TARGETS=("${TEST_BINS[@]}" tools/sim/raftkv-sim)

mutant_ids() { sed 's/ @@ .*//' <<<"$MUTANTS"; }

apply_mutant() {  # ID
  MUTANTS="$MUTANTS" python3 - "$WORK/src" "$1" <<'PY'
import os, sys
root, wanted = sys.argv[1], sys.argv[2]
for row in os.environ["MUTANTS"].splitlines():
    mid, path, old, new = [f.replace("\\n", "\n") for f in row.split(" @@ ")]
    if mid != wanted:
        continue
    path = os.path.join(root, path)
    text = open(path).read()
    if text.count(old) != 1:
        sys.exit(f"{mid}: text found {text.count(old)} times in {path}; update the mutant")
    open(path, "w").write(text.replace(old, new))
    sys.exit(0)
sys.exit(f"unknown mutant {wanted}")
PY
}

# Runs the test binaries; prints the first failing test, or nothing.
run_tests() {
  local bin out
  for bin in "${TEST_BINS[@]}"; do
    out=$(cd "$WORK/build" && timeout 300 "./$bin" 2>&1) && continue
    local failed
    failed=$(grep -m1 -E '^\[  FAILED  \] [A-Za-z]' <<<"$out" | sed 's/^\[  FAILED  \] //; s/ (.*//' || true)
    if [[ -z $failed ]]; then
      # An abort (the harness stops at a broken safety property) or a timeout: name the test
      # that was running.
      failed="$(grep -E '^\[ RUN      \] ' <<<"$out" | tail -1 | sed 's/^\[ RUN      \] //') (aborted)"
    fi
    echo "$failed"
    return
  done
}

run_sim() {
  local out scenario
  for scenario in mixed mixed_leases; do
    out=$(cd "$WORK/build" && timeout 900 ./tools/sim/raftkv-sim --scenario $scenario \
          --seeds "$SEEDS" --first-seed 1 --quiet 2>&1) && continue
    echo "sim $scenario ($(grep -m1 -oE 'seed [0-9]+' <<<"$out" || echo "exit $?"))"
    return
  done
}

created=0
if [[ ! -d $WORK/.git ]]; then
  git clone -q "$REPO" "$WORK"
  created=1
  # GCC 12 at -O3 reports a false -Wrestrict inside std::string in some tests.
  cmake -S "$WORK" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DRAFTKV_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS=-Wno-restrict >/dev/null
fi
git -C "$WORK" checkout -q -- src
ninja -C "$WORK/build" -j"$JOBS" "${TARGETS[@]}" >/dev/null
baseline=$(run_tests)
if [[ -n $baseline ]]; then
  echo "the unmutated tree fails: $baseline" >&2
  exit 1
fi

missed=0
ids=("$@")
[[ ${#ids[@]} -gt 0 ]] || mapfile -t ids < <(mutant_ids)
for id in "${ids[@]}"; do
  git -C "$WORK" checkout -q -- src
  if ! apply_mutant "$id"; then
    missed=$((missed + 1))
    continue
  fi
  if ! ninja -C "$WORK/build" -j"$JOBS" "${TARGETS[@]}" >/dev/null 2>&1; then
    echo "$id: does not compile (update the mutant)"
    missed=$((missed + 1))
    continue
  fi
  by=$(run_tests)
  # A longer simulator run only for what the test binaries missed.
  if [[ -z $by && $SEEDS -gt 0 ]]; then by=$(run_sim); fi
  if [[ -n $by ]]; then
    echo "$id: caught by $by"
  else
    echo "$id: MISSED"
    missed=$((missed + 1))
  fi
done
git -C "$WORK" checkout -q -- src
[[ $KEEP -eq 1 || $created -eq 0 ]] || rm -rf "$WORK"
echo "missed: $missed"
[[ $missed -eq 0 ]]
