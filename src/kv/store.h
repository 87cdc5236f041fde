// The replicated key-value state machine: an MVCC store with etcd's revision rules.
//
// Every member applies the same kvpb::Requests in raft log order and must reach the same state,
// so the store is deterministic: no clock, no randomness, no threads, iteration in key order.
//
// Leases (lease.cc): a lease is an id and a granted TTL; a put with `lease` attaches its key,
// a put without one (or a delete) detaches it, and revoking a lease deletes every attached key
// at one revision through the ordinary delete path, so history and watch events see it. When a
// lease expires is not the store's business: the leader decides and proposes the revoke.
//
// Alarms (alarm.cc): etcd's alarms are replicated state, kept here with the keys (as etcd keeps
// them in its backend) and carried in the store's snapshot, because what they change is which
// store writes apply. While any member's NOSPACE alarm is raised, every write with a space cost
// (kv/quota.h: puts, txns with a put, lease grants) is refused with etcd's "database space
// exceeded", on every member alike; deletes, compactions and revokes still apply, so an operator
// can make room, and DEACTIVATE disarms the alarm.
//
// Client sessions (session_apply.cc, kv/session.h): a request that carries a client id and a
// sequence applies at most once; a copy of it applied later (a client's retry) gets the first
// copy's answer. Sessions are replicated state, in the engine and the snapshot, and expire by the
// log clock: time stamps the proposing member put in the requests, never a clock read here.
//
// Revisions (etcd's rules): the store revision starts at 1 and grows by exactly one per Put, per
// DeleteRange that deleted at least one key, and per Txn that performed at least one effective
// write (all of a txn's writes share that revision). Each key carries create_revision,
// mod_revision and version (writes since creation). Older versions of every key stay readable
// until a Compact removes history below the compaction revision.
//
// Storage (kv/engine.h): the store keeps its state in an Engine: key versions, leases, alarms,
// sessions and the scalar state (revisions, applied index, size, log clock), written as one batch
// per applied raft entry.
// A default-constructed store runs on the in-memory engine; a store over an engine on disk
// (kv/rocksdb_engine.h) starts from whatever state the engine holds.
//
// Thread-safety: thread-compatible. Const methods may run concurrently with each other; any
// mutation (Apply, MarkApplied, Restore) needs exclusive access. The server wraps it in a
// reader/writer lock.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcd/mvcc/mvccpb/kv.pb.h"
#include "kv/engine.h"
#include "kv/session.h"
#include "kv/session_table.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {

// A slice of the store's history for watchers: see Store::Events.
struct EventPage {
  // Events in revision order; within one revision, in key order.
  std::vector<mvccpb::Event> events;
  // Every event with a revision in (from, through] is in `events`, and no other. Equals the
  // requested `to` (clamped to the store revision) when the page is complete; a caller pages on
  // by asking again from `through`.
  int64_t through = 0;
};

// One lease as the replicated state knows it: no expiry time, which only the leader keeps
// (node::LeaseClock).
struct LeaseState {
  int64_t id = 0;
  // The granted TTL in seconds (etcd's GrantedTTL).
  int64_t ttl = 0;
  // The live keys attached to the lease, in key order (filled only when asked for).
  std::vector<std::string> keys;
};

struct HashKVResult {
  uint32_t hash = 0;
  int64_t compact_revision = 0;
  // The revision the hash covers.
  int64_t revision = 0;
};

// True when no branch of `txn` (nested txns included) puts or deletes.
bool TxnIsReadOnly(const etcdserverpb::TxnRequest& txn);
// True when every range of `txn` asks for a serializable read (etcd's rule for serving a
// read-only txn without a linearizability check).
bool TxnIsSerializable(const etcdserverpb::TxnRequest& txn);

class Store {
 public:
  // A store on a fresh MemoryEngine.
  Store();
  // A store on `engine`, in the state the engine holds (a reopened engine's last commit).
  explicit Store(std::unique_ptr<Engine> engine);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Applies the raft entry at `index` carrying `request`. Deterministic: the same request on the
  // same state gives the same state and answer on every member. A request the store rejects
  // (empty key, duplicate key in a txn, compacted revision, unknown lease, ...) changes nothing
  // but the applied index, and comes back as the etcd error it maps to. The response's headers
  // carry only the revision. A request with a client id goes through the client's session first
  // (kv/session.h): a sequence already applied is answered from the session, not applied again.
  // REQUIRES: index > applied_index().
  absl::StatusOr<kvpb::Response> Apply(const kvpb::Request& request, uint64_t index);

  // Records that the raft entry at `index` was applied without touching the keys (an empty entry
  // or a configuration change), so a restart does not hand it back; with `cluster_state`, also
  // replaces the cluster state in the same commit.
  // REQUIRES: index > applied_index().
  void MarkApplied(uint64_t index, std::optional<std::string_view> cluster_state = std::nullopt);

  // The record the node layer keeps with the store (its member list, opaque here): committed
  // with the applied index by MarkApplied and Restore, so that an engine on disk reopens with the
  // member list of its applied entry. Empty when never written.
  const std::string& cluster_state() const { return engine_->cluster_state(); }

  // Reads the range described by `request` at request.revision() (<= 0: the current revision).
  // header.revision is the current revision, as in etcd. Ignores request.serializable(): whether
  // the read is linearizable is the caller's business.
  absl::StatusOr<etcdserverpb::RangeResponse> Range(
      const etcdserverpb::RangeRequest& request) const;

  // Answers a txn that only reads (TxnIsReadOnly) without going through the log, the way etcd
  // serves read-only txns: same compares, same branch choice, same answers as Apply would give.
  absl::StatusOr<etcdserverpb::TxnResponse> ReadTxn(const etcdserverpb::TxnRequest& txn) const;

  // A hash of every key version in (compact_revision, revision], for cross-member consistency
  // checks (etcd's HashKV). revision <= 0 means the current revision.
  absl::StatusOr<HashKVResult> HashKV(int64_t revision) const;

  // The writes to the keys of etcd's range form (key, range_end) with revisions in (from, to],
  // read from the kept history (events.cc), so that every write path (put, delete, txn, and any
  // later one) shows up without the write side knowing about watchers. A PUT carries the key
  // after the write; a DELETE carries the key and the deletion's mod_revision, as in etcd. With
  // `prev_kv`, each event also carries the key's previous live version when history still has it.
  // Stops after the first revision at which `limit` events were reached (a revision is never
  // split); `to` is clamped to the store revision. Fails with CompactedError when
  // from < compact_revision(): compaction dropped writes at or below it (tombstones included).
  // Cost: O(k log h + e log k) for k keys in range, h versions per key and e events returned.
  absl::StatusOr<EventPage> Events(std::string_view key, std::string_view range_end, int64_t from,
                                   int64_t to, bool prev_kv, size_t limit) const;

  // The lease `id`, with its attached keys when `with_keys`; nullopt when there is none.
  std::optional<LeaseState> FindLease(int64_t id, bool with_keys) const;
  // Every lease, in ascending id order, without keys.
  std::vector<LeaseState> Leases() const;
  size_t lease_count() const { return engine_->lease_count(); }

  // The raised alarms of `type` (NONE: of every type), ordered by member id, then type.
  std::vector<etcdserverpb::AlarmMember> Alarms(
      etcdserverpb::AlarmType type = etcdserverpb::NONE) const;
  bool HasAlarm(uint64_t member_id, etcdserverpb::AlarmType type) const {
    return engine_->alarms().contains({member_id, type});
  }
  // True while some member's NOSPACE alarm is raised: writes with a space cost are refused.
  bool space_exceeded() const { return nospace_alarms_ > 0; }

  // Client sessions: how many are kept, and the last sequence applied for `client` (nullopt when
  // it has no session).
  size_t session_count() const { return sessions_.size(); }
  // What the sessions are charged (SessionBytes each), at most kMaxSessionBytes.
  int64_t session_bytes() const { return sessions_.bytes(); }
  std::optional<uint64_t> SessionSequence(uint64_t client) const {
    const SessionTable::Entry* entry = sessions_.Find(client);
    return entry == nullptr ? std::nullopt : std::optional<uint64_t>(entry->sequence);
  }
  // The largest proposer time stamp applied (unix ms); sessions expire by it.
  int64_t log_clock_ms() const { return meta_.log_clock_ms; }

  // Serializes the whole store, history and applied index included, in a versioned and
  // checksummed format (see snapshot.cc).
  std::string Snapshot() const;
  // Replaces the whole store with a Snapshot() output, and the cluster state with
  // `cluster_state`, in one commit. On error (corrupt or unknown format) the store is left
  // unchanged and the error names what is wrong.
  absl::Status Restore(std::string_view snapshot, std::string_view cluster_state = {});

  int64_t revision() const { return meta_.revision; }
  // Reads below this revision fail as compacted. 0 until the first Compact.
  int64_t compact_revision() const { return meta_.compact_revision; }
  // Raft index of the last applied entry; 0 for a fresh store.
  uint64_t applied_index() const { return meta_.applied_index; }
  // Approximate bytes held (keys, values, history, leases and client sessions), reported as
  // etcd's dbSize.
  int64_t size_bytes() const { return meta_.size_bytes; }
  // Keys live at the current revision.
  int64_t live_keys() const { return meta_.live_keys; }

  // Makes every applied entry durable in the engine (Engine::Sync). The raft log must not be
  // compacted past applied_index() until this returned OK after the entry was applied.
  absl::Status Sync() { return engine_->Sync(); }

  // Storage that a compaction dropped and the engine has yet to free, and one bounded step of
  // freeing it between entries (Engine::ContinueCompaction); the step returns whether work is
  // left. Neither changes anything a request can see.
  bool compaction_in_progress() const { return engine_->compaction_in_progress(); }
  bool ContinueCompaction() { return engine_->ContinueCompaction(); }

  // The state as files (Engine::Checkpoint): whether the engine can, the checkpoint of the state
  // at applied_index() into `dir`, and the preparation that may run on another thread while
  // entries are applied (the only call that may).
  bool can_checkpoint() const { return engine_->can_checkpoint(); }
  absl::Status Checkpoint(const std::string& dir) const { return engine_->Checkpoint(dir); }
  absl::Status PrepareCheckpoint() const { return engine_->PrepareCheckpoint(); }

  // Runs on `engine` from now on, in the state it holds (as the constructor does), and gives
  // back the engine it ran on: how a checkpoint received from another member is installed.
  std::unique_ptr<Engine> ReplaceEngine(std::unique_ptr<Engine> engine);

 private:
  // Reads at this revision see the newest version of every key.
  static constexpr int64_t kLatest = std::numeric_limits<int64_t>::max();

  // The state of one write request while it is applied: every write of the request is stamped
  // with `revision`, and the store revision moves to it only if something was written.
  struct WriteBatch {
    int64_t revision = 0;
    bool wrote = false;
    // The revision a read inside the request observes: its own writes once it made any.
    int64_t visible() const { return wrote ? revision : revision - 1; }
  };

  // The keys of etcd's range form (key, range_end) as an engine KeyRange: range_end empty
  // selects `key` alone, "\0" every key >= key, anything else the half-open interval
  // [key, range_end).
  class EtcdRange {
   public:
    EtcdRange(std::string_view key, std::string_view range_end);
    EtcdRange(const EtcdRange&) = delete;
    EtcdRange& operator=(const EtcdRange&) = delete;
    const KeyRange& range() const { return range_; }

   private:
    std::string single_end_;  // key + '\0' when selecting one key
    KeyRange range_;
  };

  // Everything but the applied index and the commit.
  absl::StatusOr<kvpb::Response> ApplyRequest(const kvpb::Request& request);

  // read.cc
  absl::Status CheckReadRevision(int64_t revision) const;
  etcdserverpb::RangeResponse RangeAt(const etcdserverpb::RangeRequest& request,
                                      int64_t revision) const;

  // write.cc
  void Put(WriteBatch& batch, const etcdserverpb::PutRequest& request,
           etcdserverpb::PutResponse* response);
  void DeleteRange(WriteBatch& batch, const etcdserverpb::DeleteRangeRequest& request,
                   etcdserverpb::DeleteRangeResponse* response);
  absl::Status Compact(int64_t revision);
  // The checks etcd makes against the store before a put takes effect (lease, ignore_*).
  absl::Status CheckPut(const etcdserverpb::PutRequest& request) const;

  // lease.cc
  absl::Status GrantLease(const etcdserverpb::LeaseGrantRequest& request,
                          etcdserverpb::LeaseGrantResponse* response);
  absl::Status RevokeLease(WriteBatch& batch, const etcdserverpb::LeaseRevokeRequest& request,
                           etcdserverpb::LeaseRevokeResponse* response);
  // Moves `key` from the lease `from` to the lease `to` (0: none).
  void MoveKeyLease(std::string_view key, int64_t from, int64_t to);
  // What a lease is charged in size_bytes().
  static constexpr int64_t kLeaseBytes = 64;

  // alarm.cc
  absl::Status ApplyAlarm(const etcdserverpb::AlarmRequest& request,
                          etcdserverpb::AlarmResponse* response);
  static int64_t CountNoSpace(const AlarmSet& alarms);

  // session_apply.cc
  // Apply for a request with a client id: replay, refusal, or ApplyRequest and remember.
  absl::StatusOr<kvpb::Response> ApplyInSession(const kvpb::Request& request);
  // Moves the log clock to `time_ms` if that is later, and drops the sessions it leaves idle for
  // longer than kSessionTtlMs.
  void AdvanceLogClock(int64_t time_ms);
  // The remembered answer of `client`, with `request_id`; refreshes the session's last use.
  absl::StatusOr<kvpb::Response> Replay(uint64_t client, uint64_t request_id);
  // Remembers `answer` as the answer to `sequence` of `client`, then evicts other sessions while
  // the sessions' bytes exceed kMaxSessionBytes.
  void Remember(uint64_t client, uint64_t sequence, const absl::StatusOr<kvpb::Response>& answer);
  // Writes the session of `client` to the engine, the index and the size accounting.
  void WriteSession(uint64_t client, const SessionRecord& record);
  void DropSession(uint64_t client);
  // Indexes the engine's sessions (a store made on an engine that has state).
  void LoadSessions();

  // txn.cc
  bool CompareHolds(const etcdserverpb::Compare& compare) const;
  // Evaluates the compares of `txn` and of every txn nested on the taken branches, depth first,
  // before any write (as etcd does): nested compares see the state before the outer txn.
  void ChoosePath(const etcdserverpb::TxnRequest& txn, std::vector<bool>* path) const;
  absl::Status CheckPath(const etcdserverpb::TxnRequest& txn, const std::vector<bool>& path,
                         size_t* step) const;
  void ReadBranch(const etcdserverpb::TxnRequest& txn, const std::vector<bool>& path, size_t* step,
                  etcdserverpb::TxnResponse* response) const;
  void ApplyTxn(WriteBatch& batch, const etcdserverpb::TxnRequest& txn,
                const std::vector<bool>& path, size_t* step, etcdserverpb::TxnResponse* response);

  std::unique_ptr<Engine> engine_;
  // The engine's meta, with the changes of the entry being applied until it is committed.
  EngineMeta meta_;
  // Raised NOSPACE alarms, counted from engine_->alarms().
  int64_t nospace_alarms_ = 0;
  // The engine's sessions, indexed.
  SessionTable sessions_;
};

}  // namespace raftkv::kv
