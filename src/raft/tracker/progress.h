// Progress: what the leader knows about one follower's log, and how it replicates to it.
//
// States (etcd-io/raft's flow control, after thesis §10.2 pipelining):
//   probe     — the follower's position is unknown; one append at a time, each waiting for its
//               answer (or the next heartbeat) before the next one goes out;
//   replicate — the follower is known to match; appends are pipelined optimistically up to the
//               Inflights window;
//   snapshot  — the follower needs a snapshot; nothing is sent until it reports back.
// Invariant: match < next. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "raft/tracker/inflights.h"
#include "raftkv/raft/status.h"

namespace raftkv::raft::tracker {

class Progress {
 public:
  Progress(uint64_t next, size_t max_inflight, uint64_t max_inflight_bytes, bool is_learner);

  uint64_t match() const { return match_; }
  uint64_t next() const { return next_; }
  ProgressState state() const { return state_; }
  uint64_t pending_snapshot() const { return pending_snapshot_; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }
  // In probe state: an append was sent and its answer is awaited.
  bool probe_sent() const { return probe_sent_; }
  // Called on heartbeat response: the follower is alive, so the next probe may go out.
  void ResumeProbe() { probe_sent_ = false; }
  // Holds further probes until the follower answers (after a snapshot report).
  void PauseProbe() { probe_sent_ = true; }
  // The snapshot being sent failed: forget it, so probing restarts from match.
  void AbortSnapshot() { pending_snapshot_ = 0; }
  bool is_learner() const { return is_learner_; }
  void set_is_learner(bool learner) { is_learner_ = learner; }
  const Inflights& inflights() const { return inflights_; }
  Inflights& mutable_inflights() { return inflights_; }

  void BecomeProbe();
  void BecomeReplicate();
  // The follower is sent the snapshot at index snapshot_index.
  void BecomeSnapshot(uint64_t snapshot_index);

  // Records that an append carrying `entries` entries (`bytes` of payload) ending at
  // last_index was sent. In replicate state next moves past it optimistically.
  void SentEntries(uint64_t last_index, size_t entries, uint64_t bytes);

  // The follower acknowledged index n. Returns true if match advanced (a stale or duplicate
  // acknowledgement returns false). Also unpauses a probing follower.
  bool MaybeUpdate(uint64_t n);

  // The follower rejected an append whose previous index was `rejected`; match_hint is the
  // leader's computed guess of the highest index that may match. Returns false when the
  // rejection is stale (it answers an older append) and must be ignored.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);

  // True when the leader must not send more appends now.
  bool IsPaused() const;

  ProgressStatus ToStatus() const;
  std::string String() const;

 private:
  void ResetState(ProgressState state);

  uint64_t match_ = 0;
  uint64_t next_ = 1;
  ProgressState state_ = ProgressState::kProbe;
  // In snapshot state: index of the snapshot being sent.
  uint64_t pending_snapshot_ = 0;
  // Heard from since the last CheckQuorum round (thesis §6.2).
  bool recent_active_ = false;
  bool probe_sent_ = false;
  bool is_learner_ = false;
  Inflights inflights_;
};

}  // namespace raftkv::raft::tracker
