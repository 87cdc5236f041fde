// The node driver: the one loop that runs a raft member, in the server and in the simulator.
//
// It owns the consensus core (RawNode) and does everything a member does around it, through
// three seams: the LogStore it persists to, the Network it sends through, and the Applier it
// applies committed entries to. Like the core it is a pure state machine: no threads, no
// clocks, no I/O of its own. Time arrives as Tick(); requests, peer messages and transport
// reports arrive as calls; Process() then handles every Ready they produced through the core's
// one Ready loop (raft::HandleReadies), in the order the core requires (thesis §10.2.1):
//
//   1. send `messages` (the leader's appends leave while it writes the same entries);
//   2. persist the snapshot, entries and hard state (one write, one sync when must_sync);
//   3. send `persisted_messages` (votes and append responses promise durable state);
//   4. apply the snapshot and committed entries to the Applier, in log order, completing the
//      waiting writes this member proposed and the reads whose read index is now applied;
//   5. Advance, then snapshot the state and compact the log every `snapshot_count` entries
//      (or `snapshot_bytes` of entry data).
//
// Proposals that arrive between two Process() calls go to the core as one batch: one append,
// one sync, one message per follower. Linearizable reads share ReadIndex rounds: one round is in
// flight at a time, and the reads that arrive meanwhile join the next (thesis §6.4).
//
// Callers are completed from inside the driver's calls (Process, Tick, or the call that
// refused them), on the caller's thread; a completion must not call back into the driver.
//
// Not thread-safe: one thread drives a Driver (the server's node thread, the simulator).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/applier.h"
#include "node/driver_metrics.h"
#include "node/lease_clock.h"
#include "node/log_store.h"
#include "node/network.h"
#include "raftkv/kvpb/kv.pb.h"
#include "raftkv/raft/logger.h"
#include "raftkv/raft/raw_node.h"
#include "raftkv/raft/ready_loop.h"

namespace raftkv::node {

struct DriverOptions {
  uint64_t id = 0;
  // This member's name and client URLs, replicated once it has a leader (etcd publishes a
  // member's attributes the same way). An empty name publishes nothing.
  std::string name;
  std::vector<std::string> client_urls;

  // Raft (see raft::Config).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t max_size_per_msg_bytes = 1 << 20;
  int max_inflight_msgs = 256;
  uint64_t max_uncommitted_entries_size_bytes = 64 << 20;
  uint64_t random_seed = 0;

  // Applied entries between two snapshots of the state (etcd's --snapshot-count); 0: never.
  uint64_t snapshot_count = 100000;
  // Also snapshot once the entries applied since the last snapshot carry this many bytes of
  // data, whatever their count; 0: only snapshot_count counts. A restart reads the log from its
  // snapshot on, so this bounds that read when entries are large (Txns of many puts). The count
  // starts again at 0 when a member starts, so the log after the snapshot may reach twice this.
  uint64_t snapshot_bytes = 0;
  // Entries kept in the log behind a snapshot, so that a follower just behind catches up from
  // the log rather than by a whole snapshot (§7).
  uint64_t snapshot_catchup_entries = 5000;

  // Writes and membership changes waiting for their entry, beyond which new ones are refused.
  size_t max_pending_writes = 16384;
  // Linearizable reads waiting, beyond which new ones are refused.
  size_t max_pending_reads = 16384;
  // Committed but unapplied entries beyond which new writes are refused (as etcd does).
  uint64_t max_apply_backlog = 5000;
  // A ReadIndex round unanswered for this many ticks is asked again (the leader may have
  // changed and dropped it).
  int read_retry_ticks = 5;
  // Ticks between two announcements of this member's attributes until one is applied.
  int publish_retry_ticks = 10;

  // Leases: the length of one tick in the host's clock, which turns lease TTLs (seconds) into
  // ticks. etcd's minimum TTL, 1.5 election timeouts, follows from it.
  uint64_t tick_millis = 100;
  // Expired leases whose revoke the leader proposes per tick at most (etcd revokes at most
  // 1000 per second), so a mass expiry does not flood the log.
  size_t max_lease_revokes_per_tick = 100;

  // The space quota in bytes of the store's size (etcd's --quota-backend-bytes, whose 0 means
  // 2 GiB: the host resolves that); 0 here: no quota. A write with a space cost (kv::QuotaCost)
  // that would take the store to the quota is refused with etcd's "database space exceeded",
  // and so is every such write while a NOSPACE alarm is raised (the store refuses it when
  // applied). When a write is refused here, or applying one takes the store to the quota, this
  // member raises its own NOSPACE alarm through the log, as etcd's members do.
  int64_t quota_bytes = 0;
  // A NOSPACE alarm this member proposed that has not applied after this many ticks (its
  // proposal was lost) may be proposed again.
  int alarm_retry_ticks = 10;

  // Request ids are request_id_base + 1, + 2, ...: the host chooses a base that differs
  // between incarnations of the member, so that an entry proposed before a restart never
  // completes a request made after it.
  uint64_t request_id_base = 0;

  // Not owned; null discards the driver's and the core's log lines.
  raft::Logger* logger = nullptr;
  // Series for the host's /metrics (not owned; each may be null).
  DriverMetrics metrics;
  // Called once when this member applies its own removal (etcd then stops the member).
  std::function<void()> on_removed;
};

using WriteResult = absl::StatusOr<kvpb::Response>;
using WriteDone = absl::AnyInvocable<void(WriteResult)>;
using ReadDone = absl::AnyInvocable<void(absl::Status)>;

// What LeaseTimeToLive answers: the leader's view of one lease.
struct LeaseTimeToLiveResult {
  int64_t id = 0;
  // Whole seconds until the leader expires it.
  int64_t remaining_seconds = 0;
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
};
// A keep-alive's answer: the lease's TTL, or 0 when there is no such lease (etcd's answer).
using LeaseRenewDone = absl::AnyInvocable<void(absl::StatusOr<int64_t>)>;
using LeaseTimeToLiveDone = absl::AnyInvocable<void(absl::StatusOr<LeaseTimeToLiveResult>)>;

// A membership change for the leader to propose (thesis §4.1: one member at a time). Its
// context carries the peerpb::Member it adds, promotes, updates or removes.
struct MembershipChange {
  raftpb::ConfChange change;
  // A promotion: refused unless the learner's log has caught up with the leader's (etcd's rule).
  bool require_learner_caught_up = false;
};

class Driver final : private raft::ReadyHandler {
 public:
  // Restores `applier` from the log's latest snapshot and creates the core over `log_store`.
  // The three seams must outlive the driver.
  static absl::StatusOr<std::unique_ptr<Driver>> Create(DriverOptions options, LogStore* log_store,
                                                        Applier* applier, Network* network);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // --- Inputs. None handles a Ready: call Process() after a batch of them. ---

  // One unit of time: elections, heartbeats, read retries and request deadlines count ticks.
  // Also one step of freeing what an applied compaction dropped (ContinueCompaction).
  void Tick();
  // A message from a peer. Stale or unknown senders are the core's business.
  void Step(const raftpb::Message& message);
  void ReportUnreachable(uint64_t peer);
  void ReportSnapshot(uint64_t peer, bool delivered);

  // Replicates `request` (a follower's core forwards it to the leader) and completes `done`
  // with the store's answer once this member applied it, or with an error. A lease grant with
  // id 0 gets an id chosen here (positive, from this member's request ids, as etcd does), and a
  // TTL below the minimum (MinLeaseTtlSeconds) is raised to it, before it is proposed, so every
  // member applies the same grant. Errors:
  //   NoLeaderError / LeaderChangedError: not proposed (safe to retry);
  //   TimeoutError / TimeoutDueToLeaderFailError: proposed, not applied within timeout_ticks
  //     (the outcome is unknown);
  //   TooManyRequestsError: refused, too much is waiting;
  //   kv::NoSpaceError: refused, the store would pass the space quota (options.quota_bytes).
  void Write(kvpb::Request request, int timeout_ticks, WriteDone done);
  // Completes `done` with OK once a read index confirmed by the leader after this call is
  // applied here: a read of the Applier's state then sees every write acknowledged before the
  // call (thesis §6.4). Errors: NoLeaderError, TimeoutError, TooManyRequestsError.
  void ReadIndex(int timeout_ticks, ReadDone done);
  // Proposes a membership change on the leader and completes `done` once it is applied here.
  // Errors as Write, plus LeaderChangedError when this member does not lead, the core's refusal
  // (FailedPrecondition: another change is pending) and LearnerNotReady (FailedPrecondition).
  void ChangeMembership(MembershipChange change, int timeout_ticks, WriteDone done);
  // --- Leases (driver_leases.cc). Expiry is the leader's alone (see LeaseClock); keep-alives
  // and TTL queries are answered from its clock, and are not replicated (as in etcd 3.4).
  // Both answer LeaderChangedError when this member does not lead (the caller forwards to the
  // leader, or the client asks the leader), and wait, up to timeout_ticks (then TimeoutError), while a
  // new leader has not yet applied its first entry and taken over lease expiry. ---

  // Renews lease `id` for its full TTL; answers the TTL, or 0 when the lease does not exist or
  // already expired.
  void RenewLease(int64_t id, int timeout_ticks, LeaseRenewDone done);
  // The remaining and granted TTL of lease `id` (with its keys when `with_keys`), or the
  // store's LeaseNotFoundError.
  void LeaseTimeToLive(int64_t id, bool with_keys, int timeout_ticks, LeaseTimeToLiveDone done);
  // etcd's minimum lease TTL: 1.5 election timeouts, in whole seconds rounded up.
  int64_t MinLeaseTtlSeconds() const;
  // Whether this member currently keeps lease expiry (it leads and has taken over).
  bool lease_primary() const { return leases_.primary(); }
  const LeaseClock& lease_clock() const { return leases_; }

  // Asks the leader to hand leadership to `target` (thesis §3.10).
  void TransferLeader(uint64_t target);
  // Starts an election now.
  void Campaign();
  // One bounded step of freeing the storage an applied compaction dropped (an engine on disk
  // frees it in steps, inside the entries applied after the compaction and here), for a caller
  // with nothing else to do. Returns whether work is left.
  bool ContinueCompaction();
  // A configuration change (joint consensus) with no member attached and no waiter.
  absl::Status ProposeConfChange(const raftpb::ConfChangeV2& change);

  // Handles every Ready the inputs produced. An error is fatal: the log could not be persisted
  // or a snapshot does not restore, and going on would break what votes, acknowledgements and
  // applied state promise. The member must stop; the driver refuses further work.
  absl::Status Process();

  // Completes every waiting write and read with `status` (the member is stopping).
  void FailAll(const absl::Status& status);

  // --- Observation. ---
  uint64_t id() const { return options_.id; }
  uint64_t leader() const { return soft_state_.leader; }
  raft::StateRole role() const { return soft_state_.role; }
  uint64_t term() const { return hard_state_.term(); }
  uint64_t commit() const { return hard_state_.commit(); }
  uint64_t applied() const { return applier_->applied_index(); }
  const raftpb::ConfState& conf_state() const { return conf_state_; }
  raft::Status status() const { return raw_->GetStatus(); }
  bool attributes_published() const { return attributes_published_; }
  size_t pending_writes() const { return writes_.size(); }
  size_t pending_reads() const;
  uint64_t snapshots_taken() const { return snapshots_taken_; }
  uint64_t snapshots_installed() const { return snapshots_installed_; }
  uint64_t read_rounds() const { return read_rounds_; }

 private:
  struct WriteWaiter {
    WriteDone done;
    uint64_t deadline_tick = 0;
    // The leader and term when it was proposed: a timeout after they changed is reported as
    // possibly due to the leader's failure.
    uint64_t leader = 0;
    uint64_t term = 0;
    // Membership changes: the member the change is about (0 for a write).
    uint64_t change_node = 0;
  };
  struct ReadWaiter {
    ReadDone done;
    uint64_t deadline_tick = 0;
  };
  // A lease query waiting for this leader to take over lease expiry.
  struct LessorWaiter {
    absl::AnyInvocable<void(absl::Status)> run;
    uint64_t deadline_tick = 0;
  };
  // One ReadIndex request to the leader and the reads it answers.
  struct ReadRound {
    std::string ctx;
    uint64_t issued_tick = 0;
    std::vector<ReadWaiter> waiters;
  };

  Driver(DriverOptions options, LogStore* log_store, Applier* applier, Network* network);
  absl::Status Init();

  uint64_t NextRequestId() { return options_.request_id_base + ++request_counter_; }
  void Log(raft::LogLevel level, std::string_view message) const;
  absl::Status Fail(absl::Status status);

  // driver.cc: the steps of the Ready loop (raft::ReadyHandler).
  void ObserveState(const raft::Ready& ready) override;
  void Send(std::vector<raftpb::Message> messages) override;
  absl::Status Persist(const raft::Ready& ready) override;
  absl::Status Apply(const raft::Ready& ready) override;
  void AfterAdvance() override;
  void ObserveSoftState(const raft::SoftState& soft_state);
  absl::Status ApplySnapshot(const raftpb::Snapshot& snapshot);
  void ApplyEntry(const raftpb::Entry& entry);
  // Hands the core a configuration change the state already holds.
  void ReplayConfChange(const raftpb::Entry& entry);
  void ApplyNormalEntry(const raftpb::Entry& entry);
  void ApplyConfChangeEntry(const raftpb::Entry& entry);
  void MaybeSnapshot();
  // A snapshot at `index` (taken, installed, found at start, or given up on): the next one is
  // counted from here, in entries and in bytes.
  void CountSnapshotFrom(uint64_t index);

  // driver_requests.cc: writes and membership changes.
  void ProposeBatch();
  void CompleteWrite(uint64_t id, WriteResult result);
  void ExpireWrites();
  void MaybePublishAttributes();

  // driver_leases.cc
  void PrepareLeaseGrant(kvpb::Request& request);
  void ProposeUnwaited(const kvpb::Request& request);
  // Runs `run` with OK once this member keeps lease expiry, or with the error that stops it.
  void WhenLessor(int timeout_ticks, absl::AnyInvocable<void(absl::Status)> run);
  void ObserveAppliedLeaseRequest(const kvpb::Request& request, const WriteResult& result);
  void MaybePromoteLessor(const raftpb::Entry& entry);
  void DemoteLessor();
  void ExpireLeases();

  // driver_quota.cc: the space quota and this member's NOSPACE alarm.
  bool ExceedsQuota(const kvpb::Request& request) const;
  void ObserveAppliedForQuota(const kvpb::Request& request, const WriteResult& result);
  void RaiseNoSpaceAlarm();

  // driver_reads.cc: linearizable reads (thesis §6.4).
  void MaybeIssueReadRound();
  void OnReadState(const raft::ReadState& read_state);
  void ServeAppliedReads();
  void ExpireReads();
  absl::Status ReadDeadlineError() const;

  DriverOptions options_;
  LogStore* const log_store_;
  Applier* const applier_;
  Network* const network_;
  std::unique_ptr<raft::RawNode> raw_;
  bool failed_ = false;

  raft::SoftState soft_state_;
  raftpb::HardState hard_state_;
  raftpb::ConfState conf_state_;
  uint64_t ticks_ = 0;
  uint64_t request_counter_ = 0;

  // Writes proposed since the last Process(), proposed there as one batch.
  std::vector<std::string> batch_;
  std::vector<uint64_t> batch_ids_;
  // Writes and membership changes this member proposed, by request id, until applied. Ordered,
  // so that expiring and failing them happens in the same order in every run.
  std::map<uint64_t, WriteWaiter> writes_;

  std::vector<ReadWaiter> next_reads_;                  // waiting for the next round
  std::optional<ReadRound> read_round_;                 // the round in flight
  std::multimap<uint64_t, ReadWaiter> reads_to_apply_;  // by read index
  uint64_t read_rounds_ = 0;

  LeaseClock leases_;
  // The term in which this member took over lease expiry: a later term, even with this member
  // leading again, starts over (another leader may have renewed leases meanwhile).
  uint64_t lessor_term_ = 0;
  std::vector<LessorWaiter> lessor_waiters_;

  // Before this tick, a NOSPACE alarm this member proposed is not proposed again.
  uint64_t next_nospace_alarm_tick_ = 0;

  bool attributes_published_ = false;
  uint64_t next_publish_tick_ = 0;

  uint64_t last_snapshot_index_ = 0;
  // Bytes of entry data applied since the last snapshot (see DriverOptions::snapshot_bytes).
  uint64_t bytes_since_snapshot_ = 0;
  // The index of the last snapshot or committed entry the core handed over (applied, or only
  // given to the core because the state held it already). conf_state_ is the configuration at
  // this index; the state's applied index may be ahead of it.
  uint64_t log_applied_ = 0;
  uint64_t snapshots_taken_ = 0;
  uint64_t snapshots_installed_ = 0;
};

}  // namespace raftkv::node
