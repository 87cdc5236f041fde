// Raft's safety properties (paper §5.2–§5.4, Figure 3), checked continuously while a simulated
// cluster runs, plus two properties a replicated service adds: a node's commit index never goes
// back, and no write a client was told succeeded is ever lost.
//
// The checker sees a cluster only through what the nodes persist, apply and report, in the
// order it happens; it keeps its own mirror of each node's durable log, where each entry
// carries a hash chain (the hash of the entry and of every entry before it). Two logs agree up
// to an index exactly when their chain values there are equal, which turns Log Matching and
// Leader Completeness into O(1) comparisons. The first violation is kept; later calls are
// ignored, so the report names the earliest broken rule. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raftkv/raft/ready.h"
#include "raftkv/raftpb/raft.pb.h"

namespace raftkv::sim {

// Property names, as reported.
inline constexpr char kElectionSafety[] = "Election Safety";
inline constexpr char kLeaderAppendOnly[] = "Leader Append-Only";
inline constexpr char kLogMatching[] = "Log Matching";
inline constexpr char kLeaderCompleteness[] = "Leader Completeness";
inline constexpr char kStateMachineSafety[] = "State Machine Safety";
inline constexpr char kCommitMonotonic[] = "Commit Index Monotonic";
inline constexpr char kAckedWriteLost[] = "Acknowledged Write Lost";
inline constexpr char kLinearizability[] = "Linearizability";
inline constexpr char kLiveness[] = "Liveness";
inline constexpr char kScenario[] = "Scenario Expectation";

struct Violation {
  std::string property;
  std::string detail;
  std::vector<uint64_t> nodes;  // the nodes involved, to focus the trace
};

class SafetyChecker {
 public:
  // --- Observations, in the order a node handles a Ready. ---

  // The node's soft state and current term after it took a Ready. Election Safety: at most
  // one leader per term over the whole run (§5.2).
  void ObserveRole(uint64_t node, uint64_t term, raft::StateRole role);

  // The node made a snapshot durable, replacing its log up to the snapshot's index.
  void ObservePersistSnapshot(uint64_t node, const raftpb::SnapshotMetadata& metadata);

  // The node made `entries` durable, replacing any suffix of its log they conflict with.
  // Leader Append-Only (§5.3): a node that has been leader of `term` since its previous Ready
  // never replaces entries. Log Matching (§5.3): two entries with the same index and term have
  // the same chain value, in any log, at any time.
  void ObservePersistEntries(uint64_t node, uint64_t term, bool leader_since_previous_ready,
                             const std::vector<raftpb::Entry>& entries);

  // The node made a hard state durable. Its commit index never decreases, is covered by its
  // log, and every entry it covers agrees with what any other node committed there.
  // `synced` false: the hard state was written without a sync (a commit-only change, which a
  // storage may write lazily) and a crash may lose it until the node's next sync.
  void ObservePersistHardState(uint64_t node, const raftpb::HardState& hard_state,
                               bool synced = true);

  // Everything the node persisted so far is now synced and survives a crash. The restart
  // check below compares with the commit index as of the node's last sync.
  void ObserveSync(uint64_t node);

  // After the node's first Ready as leader of `term` is persisted. Leader Completeness
  // (§5.4.1): its log holds every entry that was committed in an earlier term.
  void ObserveLeaderLog(uint64_t node, uint64_t term);

  // State Machine Safety (§5.4.3): no two nodes apply different entries at one index, and all
  // replicas that applied up to the same index hold the same state (state_digest).
  void ObserveApply(uint64_t node, const raftpb::Entry& entry, uint64_t state_digest);
  void ObserveApplySnapshot(uint64_t node, const raftpb::SnapshotMetadata& metadata,
                            uint64_t state_digest);

  // A restarted node reports the commit index it recovered, which must not be below the commit
  // index it had synced before crashing (see ObserveSync), and the index and digest of the state
  // machine it restored from its own snapshot (0 and the empty state's digest if it had none).
  void ObserveRestart(uint64_t node, uint64_t recovered_commit, uint64_t restored_applied,
                      uint64_t state_digest);

  // A client was told that the write in `entry_data` succeeded, applied at (index, term).
  void ObserveAcknowledgedWrite(const std::string& what, uint64_t index, uint64_t term,
                                const std::string& entry_data);

  // At the end of a run: every acknowledged write is in the committed log, and in the log of
  // `final_leader` (0: no leader to check).
  void CheckAcknowledgedWrites(uint64_t final_leader);

  // Records a violation found elsewhere (the linearizability checker, a scenario).
  void Report(std::string property, std::string detail, std::vector<uint64_t> nodes = {});

  // --- Results. ---
  bool failed() const { return violation_.has_value(); }
  const std::optional<Violation>& violation() const { return violation_; }

  // Highest index known committed anywhere, and the leader recorded for a term (0 if none).
  uint64_t committed_index() const { return committed_.size(); }
  uint64_t LeaderOf(uint64_t term) const;
  size_t leader_terms() const { return leaders_.size(); }
  // Chain value of the committed entry at `index` (1-based), if known.
  std::optional<uint64_t> CommittedChain(uint64_t index) const;
  // Whether node's durable log has the committed entry at `index` (false if unknown).
  bool NodeHasCommitted(uint64_t node, uint64_t index) const;

 private:
  struct EntryId {
    uint64_t term = 0;
    uint64_t digest = 0;  // of type and data
    uint64_t chain = 0;   // of this entry and all before it
  };
  // A node's durable log: entries after `base_index`, whose chain value is `base_chain`.
  struct LogMirror {
    uint64_t base_index = 0;
    uint64_t base_term = 0;
    uint64_t base_chain = 0;
    std::vector<EntryId> entries;  // entries[k] has index base_index + 1 + k
    uint64_t last_index() const { return base_index + entries.size(); }
    // Chain value at i, for i in [base_index, last_index()].
    std::optional<uint64_t> ChainAt(uint64_t i) const;
    std::optional<uint64_t> TermAt(uint64_t i) const;
  };
  struct NodeState {
    LogMirror log;
    // Commit index of the node's latest persisted hard state; lowered on a restart that lost
    // an unsynced commit-only update.
    uint64_t persisted_commit = 0;
    // persisted_commit as of the node's last sync: what a crash can never lose.
    uint64_t synced_commit = 0;
    // Highest commit index the node ever persisted. Never lowered: entries up to it are
    // committed, and no node may ever replace them, whatever a crash made it forget.
    uint64_t highest_commit = 0;
    uint64_t applied = 0;
  };
  struct Ack {
    std::string what;
    uint64_t index;
    uint64_t term;
    uint64_t digest;
  };

  static uint64_t EntryDigest(raftpb::EntryType type, const std::string& data);
  static uint64_t Chain(uint64_t prev_chain, uint64_t index, uint64_t term, uint64_t digest);
  // Log Matching across all nodes: (index, term) determines the chain value.
  void CheckRegistry(uint64_t node, uint64_t index, uint64_t term, uint64_t chain);
  void Fail(const char* property, std::string detail, std::vector<uint64_t> nodes);

  std::map<uint64_t, NodeState> nodes_;
  std::map<uint64_t, uint64_t> leaders_;  // term -> leader
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>>
      registry_;                    // (index, term) -> (chain, first node that had it)
  std::vector<EntryId> committed_;  // committed_[i - 1] is the committed entry at index i
  // term -> highest index a node in that term knew to be committed. A node's term is never
  // below the term in which it learnt a commit, so this can only over-estimate commit terms and
  // make the Leader Completeness check weaker, never wrong.
  std::map<uint64_t, uint64_t> commit_terms_;
  std::map<uint64_t, std::pair<EntryId, uint64_t>> applied_;    // index -> (entry, node)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> state_at_;  // index -> (digest, node)
  std::vector<Ack> acks_;
  std::optional<Violation> violation_;
};

}  // namespace raftkv::sim
