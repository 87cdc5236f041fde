#!/usr/bin/env bash
# Planted-bug (mutation) check of the consensus core: applies one known bug at a time to a
# fresh clone of this repository, rebuilds the core's tests and reports, per mutant, whether
# the suite caught it. Not part of the default test suite (it takes a while); see
# docs/testing.md, "Planted-bug check".
#
# Usage: scripts/mutation-check.sh [-k] [-s SEEDS] [MUTANT...]
#   MUTANT     ids from the table below (default: all)
#   -s SEEDS   mixed-fault simulator seeds per mutant the core tests missed (default 250)
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

# Each mutant: id @@ file under src/raft @@ exact text @@ replacement (\n: newline).
MUTANTS=$(cat <<'TABLE'
a-commit-old-term @@ raft_log.cc @@ if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) == term) { @@ if (max_index > committed_ && ZeroTermOnOutOfBounds(max_index) <= term) {
b-vote-no-uptodate @@ raft.cc @@ if (can_vote && log_.IsUpToDate(m.index(), m.log_term())) { @@ if (can_vote) {
c-uptodate-index-only @@ raft_log.cc @@ return term > my_term || (term == my_term && last_index >= LastIndex()); @@ (void)my_term;\n  return last_index >= LastIndex();
d-vote-twice @@ raft.cc @@ vote_ == m.from() || (vote_ == 0 && lead_ == 0) || @@ vote_ == m.from() || lead_ == 0 ||
e-no-stepdown-on-response @@ raft.cc @@ if (type == raftpb::MSG_REQUEST_PRE_VOTE) {\n      // Never change term @@ if (type == raftpb::MSG_REQUEST_PRE_VOTE || type == raftpb::MSG_APPEND_RESPONSE ||\n        type == raftpb::MSG_HEARTBEAT_RESPONSE || type == raftpb::MSG_REQUEST_VOTE_RESPONSE) {\n      // Never change term
f-append-prev-term-ignored @@ raft_log.cc @@ if (!MatchTerm(index, log_term)) return std::nullopt; @@ if (index > LastIndex()) return std::nullopt;
g-stale-append-truncates @@ raft_log.cc @@ const uint64_t conflict = FindConflict(entries); @@ const uint64_t conflict = entries.empty() ? 0 : index + 1;
h-commit-minority @@ quorum/majority.cc @@ return indexes[n - (n / 2 + 1)]; @@ return indexes[n - (n / 2)];
h2-vote-minority @@ quorum/majority.cc @@ const size_t quorum = voters_.size() / 2 + 1; @@ const size_t quorum = (voters_.size() + 1) / 2;
i-heartbeat-commit-uncapped @@ raft_leader.cc @@ const uint64_t commit = std::min(trk_.progress().at(to).match(), log_.committed()); @@ const uint64_t commit = log_.committed();
j-timeout-not-randomized @@ raft.cc @@ election_timeout_ + static_cast<int>(rand_.Uniform(static_cast<uint64_t>(election_timeout_))); @@ election_timeout_ + 0 * static_cast<int>(rand_.Uniform(1));
k-no-empty-entry @@ raft.cc @@ const bool appended = AppendEntry({empty}); @@ const bool appended = empty.index() == 0;
l-joint-commit-incoming-only @@ quorum/joint.cc @@ return std::min(halves_[0].CommittedIndex(acked), halves_[1].CommittedIndex(acked)); @@ return halves_[0].CommittedIndex(acked);
l2-joint-vote-incoming-only @@ quorum/joint.cc @@ if (r1 == r2) return r1; @@ if (r1 == r2 || r2 != r1) return r1;
m-learners-in-commit-quorum @@ tracker/tracker.cc @@ return config_.voters.CommittedIndex(ProgressAckIndexer(progress_)); @@ std::set<uint64_t> all;\n  for (const auto& [id, pr] : progress_) all.insert(id);\n  return quorum::MajorityConfig(all).CommittedIndex(ProgressAckIndexer(progress_));
m2-learners-in-vote-quorum @@ tracker/tracker.cc @@ return config_.voters.GetVoteResult(votes_); @@ std::set<uint64_t> all;\n  for (const auto& [id, pr] : progress_) all.insert(id);\n  return quorum::MajorityConfig(all).GetVoteResult(votes_);
n-prevote-bumps-term @@ raft.cc @@   trk_.ResetVotes();\n  lead_ = 0;\n  state_ = StateRole::kPreCandidate; @@   trk_.ResetVotes();\n  term_ += 1;\n  lead_ = 0;\n  state_ = StateRole::kPreCandidate;
o-readindex-no-heartbeat @@ raft_leader.cc @@       read_only_.AddRequest(log_.committed(), m);\n      read_only_.RecvAck(id_, ctx);\n      BcastHeartbeatWithCtx(ctx); @@       (void)ctx;\n      if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(*std::move(resp));
o2-readindex-before-own-commit @@ raft_leader.cc @@ if (!CommittedEntryInCurrentTerm()) {\n        pending_read_index_messages_.push_back(m); @@ if (false) {\n        pending_read_index_messages_.push_back(m);
p-leader-counts-unpersisted @@ raft_leader.cc @@   log_.Append(entries);\n @@   log_.Append(entries);\n  if (auto self = trk_.progress().find(id_); self != trk_.progress().end()) {\n    self->second.MaybeUpdate(log_.LastIndex());\n  }\n
q-commit-decreases @@ raft_log.cc @@   if (index <= committed_) return;\n  assert(index <= LastIndex() @@   if (index == committed_) return;\n  assert(index <= LastIndex()
r-backtrack-hint-off-by-one @@ tracker/progress.cc @@ next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1); @@ next_ = std::max(std::min(rejected, match_hint), match_ + 1);
s-inflight-limit-ignored @@ tracker/progress.cc @@       return inflights_.Full(); @@       return inflights_.Full() && false;
t-follower-commit-past-last-new @@ raft_log.cc @@ CommitTo(std::min(committed, last_new)); @@ CommitTo(std::min(committed, LastIndex()));
u-checkquorum-lease-ignored @@ raft.cc @@ if (!force && in_lease) { @@ if (!force && in_lease && false) {
v-stale-term-accepted @@ raft.cc @@   } else if (m.term() < term_) {\n @@   } else if (m.term() < term_ && false) {\n
w-old-snapshot-restored @@ raft_follower.cc @@ if (meta.index() <= log_.committed()) return false; @@ if (meta.index() == 0) return false;
x-transfer-target-not-caught-up @@ raft_leader.cc @@   if (pr.match() == log_.LastIndex()) {\n    SendTimeoutNow(transferee); @@   if (pr.match() + 1 >= log_.LastIndex()) {\n    SendTimeoutNow(transferee);
y-candidate-ignores-leader-append @@ raft_candidate.cc @@       BecomeFollower(m.term(), m.from());\n      HandleAppendEntries(m); @@       break;
z1-vote-request-before-persisted @@ raft.cc @@ if (t == raftpb::MSG_APPEND_RESPONSE || t == raftpb::MSG_REQUEST_VOTE || @@ if (t == raftpb::MSG_APPEND_RESPONSE ||
z2-append-ack-before-persisted @@ raft.cc @@ if (t == raftpb::MSG_APPEND_RESPONSE || t == raftpb::MSG_REQUEST_VOTE || @@ if (t == raftpb::MSG_REQUEST_VOTE ||
z3-check-quorum-activity-never-reset @@ raft_leader.cc @@ if (id != id_) pr.set_recent_active(false); @@ (void)id;
z4-vote-kept-across-terms @@ raft.cc @@    term_ = term;\n    vote_ = 0; @@    term_ = term;
z5-vote-granted-before-persisted @@ raft.cc @@       t == raftpb::MSG_REQUEST_VOTE_RESPONSE || t == raftpb::MSG_REQUEST_PRE_VOTE || @@       t == raftpb::MSG_REQUEST_PRE_VOTE ||
TABLE
)

CORE_TARGETS=(src/raft/raftkv_raft_unit_test src/raft/raftkv_raft_feature_test
  src/raft/testing/raft_paper_test src/raft/testing/raft_scenario_test)
CORE_BINS=(src/raft/raftkv_raft_unit_test src/raft/raftkv_raft_feature_test
  src/raft/testing/raft_paper_test src/raft/testing/raft_scenario_test)

mutant_ids() { sed 's/ @@ .*//' <<<"$MUTANTS"; }

apply_mutant() {  # ID
  MUTANTS="$MUTANTS" python3 - "$WORK/src/raft" "$1" <<'PY'
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

# Runs the core's test binaries; prints the first failing test, or nothing.
run_core_tests() {
  local bin out
  for bin in "${CORE_BINS[@]}"; do
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
  local out
  out=$(cd "$WORK/build" && timeout 900 ./tools/sim/raftkv-sim --scenario mixed --seeds "$SEEDS" \
        --first-seed 1 --quiet 2>&1) && return
  echo "sim mixed ($(grep -m1 -oE 'seed [0-9]+' <<<"$out" || echo "exit $?"))"
}

created=0
if [[ ! -d $WORK/.git ]]; then
  git clone -q "$REPO" "$WORK"
  created=1
  # GCC 12 at -O3 reports a false -Wrestrict inside std::string in some tests.
  cmake -S "$WORK" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DRAFTKV_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS=-Wno-restrict >/dev/null
fi
git -C "$WORK" checkout -q -- src/raft
ninja -C "$WORK/build" -j"$JOBS" "${CORE_TARGETS[@]}" >/dev/null
baseline=$(run_core_tests)
if [[ -n $baseline ]]; then
  echo "the unmutated tree fails: $baseline" >&2
  exit 1
fi

missed=0
ids=("$@")
[[ ${#ids[@]} -gt 0 ]] || mapfile -t ids < <(mutant_ids)
for id in "${ids[@]}"; do
  git -C "$WORK" checkout -q -- src/raft
  if ! apply_mutant "$id"; then
    missed=$((missed + 1))
    continue
  fi
  if ! ninja -C "$WORK/build" -j"$JOBS" "${CORE_TARGETS[@]}" >/dev/null 2>&1; then
    echo "$id: does not compile (update the mutant)"
    missed=$((missed + 1))
    continue
  fi
  by=$(run_core_tests)
  # The simulator only for what the core's own tests missed: it takes much longer.
  if [[ -z $by && $SEEDS -gt 0 ]]; then
    ninja -C "$WORK/build" -j"$JOBS" tools/sim/raftkv-sim >/dev/null 2>&1 && by=$(run_sim)
  fi
  if [[ -n $by ]]; then
    echo "$id: caught by $by"
  else
    echo "$id: MISSED"
    missed=$((missed + 1))
  fi
done
git -C "$WORK" checkout -q -- src/raft
[[ $KEEP -eq 1 || $created -eq 0 ]] || rm -rf "$WORK"
echo "missed: $missed"
[[ $missed -eq 0 ]]
