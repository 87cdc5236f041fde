#include "sim/safety_checker.h"

#include "fmt/format.h"
#include "sim/hash_mix.h"

namespace raftkv::sim {

uint64_t SafetyChecker::EntryDigest(raftpb::EntryType type, const std::string& data) {
  uint64_t h = 0xcbf29ce484222325ULL ^ static_cast<uint64_t>(type);
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t SafetyChecker::Chain(uint64_t prev_chain, uint64_t index, uint64_t term, uint64_t digest) {
  return HashMix(HashMix(HashMix(prev_chain, index), term), digest);
}

std::optional<uint64_t> SafetyChecker::LogMirror::ChainAt(uint64_t i) const {
  if (i == base_index) return base_chain;
  if (i < base_index || i > last_index()) return std::nullopt;
  return entries[i - base_index - 1].chain;
}

std::optional<uint64_t> SafetyChecker::LogMirror::TermAt(uint64_t i) const {
  if (i == base_index) return base_term;
  if (i < base_index || i > last_index()) return std::nullopt;
  return entries[i - base_index - 1].term;
}

void SafetyChecker::Fail(const char* property, std::string detail, std::vector<uint64_t> nodes) {
  if (violation_.has_value()) return;
  violation_ = Violation{property, std::move(detail), std::move(nodes)};
}

void SafetyChecker::Report(std::string property, std::string detail, std::vector<uint64_t> nodes) {
  if (violation_.has_value()) return;
  violation_ = Violation{std::move(property), std::move(detail), std::move(nodes)};
}

uint64_t SafetyChecker::LeaderOf(uint64_t term) const {
  auto it = leaders_.find(term);
  return it == leaders_.end() ? 0 : it->second;
}

std::optional<uint64_t> SafetyChecker::CommittedChain(uint64_t index) const {
  if (index == 0 || index > committed_.size()) return std::nullopt;
  return committed_[index - 1].chain;
}

bool SafetyChecker::NodeHasCommitted(uint64_t node, uint64_t index) const {
  auto it = nodes_.find(node);
  auto want = CommittedChain(index);
  if (it == nodes_.end() || !want.has_value()) return false;
  const LogMirror& log = it->second.log;
  if (index <= log.base_index) {
    // Compacted into a snapshot: the snapshot agrees with the committed log at its index.
    return CommittedChain(log.base_index) == log.base_chain;
  }
  return log.ChainAt(index) == want;
}

void SafetyChecker::ObserveRole(uint64_t node, uint64_t term, raft::StateRole role) {
  if (role != raft::StateRole::kLeader) return;
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    Fail(kElectionSafety,
         fmt::format("nodes {} and {} were both leader in term {}", it->second, node, term),
         {it->second, node});
  }
}

void SafetyChecker::CheckRegistry(uint64_t node, uint64_t index, uint64_t term, uint64_t chain) {
  auto [it, inserted] = registry_.emplace(std::make_pair(index, term), std::make_pair(chain, node));
  if (!inserted && it->second.first != chain) {
    Fail(kLogMatching,
         fmt::format("nodes {} and {} hold entries with index {} and term {} whose logs differ "
                     "at or before that index",
                     it->second.second, node, index, term),
         {it->second.second, node});
  }
}

void SafetyChecker::ObservePersistSnapshot(uint64_t node,
                                           const raftpb::SnapshotMetadata& metadata) {
  NodeState& state = nodes_[node];
  const uint64_t index = metadata.index();
  // A snapshot holds committed state only; its chain value is the committed one. If the
  // checker never saw that index committed the snapshot is ahead of every commit, which
  // Raft forbids (§7: snapshots cover committed entries).
  auto chain = CommittedChain(index);
  if (!chain.has_value()) {
    Fail(kStateMachineSafety,
         fmt::format("node {} installed a snapshot at index {} beyond the highest committed "
                     "index {}",
                     node, index, committed_.size()),
         {node});
    return;
  }
  if (committed_[index - 1].term != metadata.term()) {
    Fail(kStateMachineSafety,
         fmt::format("node {} installed a snapshot at index {} term {} but the entry committed "
                     "there has term {}",
                     node, index, metadata.term(), committed_[index - 1].term),
         {node});
    return;
  }
  state.log = LogMirror{index, metadata.term(), *chain, {}};
  if (state.persisted_commit < index) state.persisted_commit = index;
  // A snapshot is durable once persisted, in every storage mode.
  state.synced_commit = std::max(state.synced_commit, index);
  state.highest_commit = std::max(state.highest_commit, index);
}

void SafetyChecker::ObservePersistEntries(uint64_t node, uint64_t term,
                                          bool leader_since_previous_ready,
                                          const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return;
  NodeState& state = nodes_[node];
  LogMirror& log = state.log;
  const uint64_t first = entries.front().index();
  if (first > log.last_index() + 1) {
    Fail(kLogMatching,
         fmt::format("node {} persisted entries from index {} leaving a gap after its last "
                     "index {}",
                     node, first, log.last_index()),
         {node});
    return;
  }
  // Storage semantics: the entries replace everything from their first index on.
  const uint64_t old_last = log.last_index();
  uint64_t changed_from = 0;  // first index whose entry changes or disappears; 0 if none
  for (const raftpb::Entry& entry : entries) {
    const uint64_t index = entry.index();
    if (index <= log.base_index) continue;  // already covered by the snapshot
    const uint64_t digest = EntryDigest(entry.entry_type(), entry.data());
    const uint64_t chain = Chain(*log.ChainAt(index - 1), index, entry.term(), digest);
    if (index <= log.last_index()) {
      if (log.ChainAt(index) == chain) continue;  // rewritten unchanged
      if (changed_from == 0) changed_from = index;
      log.entries.resize(index - log.base_index - 1);
    }
    log.entries.push_back(EntryId{entry.term(), digest, chain});
    CheckRegistry(node, index, entry.term(), chain);
    if (failed()) return;
  }
  if (entries.back().index() < log.last_index()) {
    if (changed_from == 0) changed_from = entries.back().index() + 1;
    log.entries.resize(entries.back().index() - log.base_index);
  }
  if (changed_from == 0) return;
  if (leader_since_previous_ready) {
    Fail(kLeaderAppendOnly,
         fmt::format("node {}, leader of term {}, replaced its entries from index {} (its log "
                     "ended at {})",
                     node, term, changed_from, old_last),
         {node});
  } else if (changed_from <= state.highest_commit) {
    Fail(kStateMachineSafety,
         fmt::format("node {} replaced its entries from index {} although its commit index is {}",
                     node, changed_from, state.highest_commit),
         {node});
  }
}

void SafetyChecker::ObservePersistHardState(uint64_t node, const raftpb::HardState& hs,
                                            bool synced) {
  NodeState& state = nodes_[node];
  if (hs.commit() < state.persisted_commit) {
    Fail(kCommitMonotonic,
         fmt::format("node {} persisted commit index {} after {}", node, hs.commit(),
                     state.persisted_commit),
         {node});
    return;
  }
  if (hs.commit() > state.log.last_index()) {
    Fail(kCommitMonotonic,
         fmt::format("node {} persisted commit index {} beyond its last durable entry {}", node,
                     hs.commit(), state.log.last_index()),
         {node});
    return;
  }
  for (uint64_t i = std::max(state.persisted_commit, state.log.base_index) + 1; i <= hs.commit();
       ++i) {
    const EntryId& mine = state.log.entries[i - state.log.base_index - 1];
    if (i <= committed_.size()) {
      if (committed_[i - 1].chain != mine.chain) {
        Fail(kStateMachineSafety,
             fmt::format("node {} committed index {} (term {}) but a different entry (term {}) "
                         "was committed there before",
                         node, i, mine.term, committed_[i - 1].term),
             {node});
        return;
      }
    } else if (i == committed_.size() + 1) {
      committed_.push_back(mine);
    } else {
      // The node's commit jumped past entries nobody was seen committing: possible only after
      // a snapshot, which ObservePersistSnapshot already validated. Record what we can.
      break;
    }
  }
  state.persisted_commit = hs.commit();
  state.highest_commit = std::max(state.highest_commit, hs.commit());
  if (synced) state.synced_commit = hs.commit();
  uint64_t& highest = commit_terms_[hs.term()];
  highest = std::max(highest, std::min<uint64_t>(hs.commit(), committed_.size()));
}

void SafetyChecker::ObserveLeaderLog(uint64_t node, uint64_t term) {
  uint64_t must_have = 0;
  for (auto it = commit_terms_.begin(); it != commit_terms_.end() && it->first < term; ++it) {
    must_have = std::max(must_have, it->second);
  }
  if (must_have == 0) return;
  if (!NodeHasCommitted(node, must_have)) {
    const LogMirror& log = nodes_[node].log;
    Fail(kLeaderCompleteness,
         fmt::format("node {} became leader of term {} without the entry committed at index {} "
                     "in an earlier term (its log: snapshot at {}, last index {}, term there {})",
                     node, term, must_have, log.base_index, log.last_index(),
                     log.TermAt(must_have).value_or(0)),
         {node});
  }
}

void SafetyChecker::ObserveApply(uint64_t node, const raftpb::Entry& entry, uint64_t state_digest) {
  NodeState& state = nodes_[node];
  const uint64_t index = entry.index();
  if (index != state.applied + 1) {
    Fail(kStateMachineSafety,
         fmt::format("node {} applied index {} right after index {}", node, index, state.applied),
         {node});
    return;
  }
  state.applied = index;
  const EntryId id{entry.term(), EntryDigest(entry.entry_type(), entry.data()), 0};
  auto [it, inserted] = applied_.emplace(index, std::make_pair(id, node));
  if (!inserted && (it->second.first.term != id.term || it->second.first.digest != id.digest)) {
    Fail(kStateMachineSafety,
         fmt::format("nodes {} and {} applied different entries at index {} (terms {} and {})",
                     it->second.second, node, index, it->second.first.term, id.term),
         {it->second.second, node});
    return;
  }
  if (index > committed_.size() || committed_[index - 1].term != id.term ||
      committed_[index - 1].digest != id.digest) {
    Fail(kStateMachineSafety,
         fmt::format("node {} applied index {} (term {}) which is not the committed entry there",
                     node, index, id.term),
         {node});
    return;
  }
  auto [st, fresh] = state_at_.emplace(index, std::make_pair(state_digest, node));
  if (!fresh && st->second.first != state_digest) {
    Fail(kStateMachineSafety,
         fmt::format("nodes {} and {} hold different states after applying index {}",
                     st->second.second, node, index),
         {st->second.second, node});
  }
}

void SafetyChecker::ObserveApplySnapshot(uint64_t node, const raftpb::SnapshotMetadata& metadata,
                                         uint64_t state_digest) {
  NodeState& state = nodes_[node];
  if (metadata.index() < state.applied) {
    Fail(kStateMachineSafety,
         fmt::format("node {} went back from applied index {} to a snapshot at {}", node,
                     state.applied, metadata.index()),
         {node});
    return;
  }
  state.applied = metadata.index();
  auto [st, fresh] = state_at_.emplace(metadata.index(), std::make_pair(state_digest, node));
  if (!fresh && st->second.first != state_digest) {
    Fail(kStateMachineSafety,
         fmt::format("node {} restored a snapshot at index {} whose state differs from node {}'s",
                     node, metadata.index(), st->second.second),
         {st->second.second, node});
  }
}

void SafetyChecker::ObserveSync(uint64_t node) {
  NodeState& state = nodes_[node];
  state.synced_commit = state.persisted_commit;
}

void SafetyChecker::ObserveRestart(uint64_t node, uint64_t recovered_commit,
                                   uint64_t restored_applied, uint64_t state_digest) {
  NodeState& state = nodes_[node];
  // Only the synced commit index must survive. Raft does not need the rest: the commit index is
  // recomputed from the leader's messages, and the entries it covered were synced when they
  // were appended (and acknowledged), so nothing committed is lost with it. With storage that
  // syncs every write, synced_commit == persisted_commit and this is the strict check.
  if (recovered_commit < state.synced_commit) {
    Fail(kCommitMonotonic,
         fmt::format("node {} restarted with commit index {} below its synced {}", node,
                     recovered_commit, state.synced_commit),
         {node});
  }
  // From here on the node's commit index must not decrease below what it recovered.
  state.persisted_commit = std::min(state.persisted_commit, recovered_commit);
  // Its state machine starts again from its latest snapshot (or from nothing), which must
  // hold the same state as every replica that applied up to that index.
  state.applied = restored_applied;
  if (restored_applied == 0) return;
  auto [st, fresh] = state_at_.emplace(restored_applied, std::make_pair(state_digest, node));
  if (!fresh && st->second.first != state_digest) {
    Fail(kStateMachineSafety,
         fmt::format("node {} restarted from a snapshot at index {} whose state differs from "
                     "node {}'s",
                     node, restored_applied, st->second.second),
         {st->second.second, node});
  }
}

void SafetyChecker::ObserveAcknowledgedWrite(const std::string& what, uint64_t index, uint64_t term,
                                             const std::string& entry_data) {
  acks_.push_back(Ack{what, index, term, EntryDigest(raftpb::ENTRY_NORMAL, entry_data)});
}

void SafetyChecker::CheckAcknowledgedWrites(uint64_t final_leader) {
  for (const Ack& ack : acks_) {
    const bool committed = ack.index >= 1 && ack.index <= committed_.size() &&
                           committed_[ack.index - 1].term == ack.term &&
                           committed_[ack.index - 1].digest == ack.digest;
    if (!committed) {
      Fail(kAckedWriteLost,
           fmt::format("{} was acknowledged at index {} term {}, but that is not the entry "
                       "committed there",
                       ack.what, ack.index, ack.term),
           {});
      return;
    }
    if (final_leader != 0 && !NodeHasCommitted(final_leader, ack.index)) {
      Fail(kAckedWriteLost,
           fmt::format("{} was acknowledged at index {}, but the final leader {} does not hold "
                       "it",
                       ack.what, ack.index, final_leader),
           {final_leader});
      return;
    }
  }
}

}  // namespace raftkv::sim
