// The storage under kv::Store: key versions and the store's metadata, nothing of etcd's rules.
//
// kv::Store decides what a request does (revision rules, txn compares and branches, leases,
// alarms, quota, error strings); an Engine keeps what it decided and reads it back. Two engines
// implement this interface: MemoryEngine (memory_engine.h, every version in ordered maps; the
// simulator and most tests use it) and RocksDbEngine (rocksdb_engine.h, on disk).
//
// Writes and the applied index: the store applies one raft entry at a time. Every write it makes
// while applying the entry (AppendVersion, the lease, alarm and session calls, Compact, Clear)
// goes into
// the engine's open batch, and Commit(meta) ends the entry: the batch and `meta` (applied index,
// revisions, counters) become visible and, for an engine on disk, durable together or not at
// all. A reopened engine therefore holds the state after some whole entry, and its meta says
// which. An engine may add housekeeping of its own to the batch (RocksDbEngine removes versions
// an earlier Compact dropped), as long as no read and nothing in `meta` can tell. Reads see the
// open batch's writes (a txn reads its own writes), and nothing reads while another thread writes
// (the store's caller serializes them).
//
// Errors: an engine that cannot read or write its storage (I/O error, corruption) cannot go on
// applying entries without diverging from the other members, so such errors stop the process
// with a message naming the failure (see FatalEngineError); opening an engine returns a status.
//
// Thread-safety: thread-compatible, like kv::Store: const methods may run concurrently with each
// other when no batch is open; everything else needs exclusive access.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"

namespace raftkv::kv {

// One write to a key. A delete is kept as a tombstone so that reads at older revisions still
// find the value that was there.
struct Version {
  int64_t mod_revision = 0;
  int64_t create_revision = 0;  // 0 for a tombstone
  int64_t version = 0;          // 0 for a tombstone
  int64_t lease = 0;
  std::string value;
  bool tombstone = false;

  friend bool operator==(const Version&, const Version&) = default;
};

// What one stored version is charged in Store::size_bytes(): key and value plus a fixed
// overhead, so that history of empty values still counts. Engines report what Compact frees in
// this unit, so that the store's accounting does not depend on the engine.
inline int64_t VersionBytes(size_t key_size, size_t value_size) {
  return static_cast<int64_t>(key_size + value_size) + 48;
}

// The store's scalar state, written with every committed batch.
struct EngineMeta {
  // Raft index of the last applied entry; 0 for a fresh store.
  uint64_t applied_index = 0;
  int64_t revision = 1;
  int64_t compact_revision = 0;
  // The store's size accounting (VersionBytes per version, a charge per lease) and live keys.
  int64_t size_bytes = 0;
  int64_t live_keys = 0;
  // The store's log clock: the largest proposer time stamp (unix ms) applied so far, by which
  // client sessions expire (kv/session.h). 0 until the first request with a session.
  int64_t log_clock_ms = 0;

  friend bool operator==(const EngineMeta&, const EngineMeta&) = default;
};

// Keys in [begin, end); an empty `end` means no upper bound. A single key k is [k, k + '\0').
struct KeyRange {
  std::string_view begin;
  std::string_view end;

  bool Contains(std::string_view key) const { return key >= begin && (end.empty() || key < end); }
};

// (member id, alarm type) of every raised alarm, in that order.
using AlarmSet = std::set<std::pair<uint64_t, etcdserverpb::AlarmType>>;

class Engine {
 public:
  virtual ~Engine() = default;

  // ---- Reads. All see the open batch's writes. ----

  // The meta of the last Commit (EngineMeta{} for a fresh engine).
  virtual EngineMeta meta() const = 0;

  // Calls fn(version) with the newest version of `key` with mod_revision <= revision and returns
  // true; returns false without calling fn when there is none or it is a tombstone (the key is
  // absent at `revision`). The reference is valid during the call only.
  using ReadFn = absl::FunctionRef<void(const Version& version)>;
  virtual bool Read(std::string_view key, int64_t revision, ReadFn fn) const = 0;
  // Read, copied out.
  std::optional<Version> Get(std::string_view key, int64_t revision) const {
    std::optional<Version> out;
    Read(key, revision, [&](const Version& version) { out = version; });
    return out;
  }

  // Calls fn(key, version) in key order for every key in `range` that is live at `revision`,
  // with its newest version at or below `revision`, until fn returns false. The references are
  // valid during the call only. REQUIRES: fn does not write to the engine.
  using ScanFn = absl::FunctionRef<bool(const std::string& key, const Version& version)>;
  virtual void Scan(const KeyRange& range, int64_t revision, ScanFn fn) const = 0;

  // Calls fn(key, version, prev) for every version of a key in `range` with a mod_revision in
  // (from, through], in revision order and within one revision in key order, until fn returns
  // false. `prev` is the key's version just before `version` when the engine still has it
  // (tombstones included), else null. This is watch catch-up (Store::Events).
  using EventFn =
      absl::FunctionRef<bool(const std::string& key, const Version& version, const Version* prev)>;
  virtual void History(const KeyRange& range, int64_t from, int64_t through, EventFn fn) const = 0;

  // Calls fn(key, versions) for every key in key order, with all its kept versions in ascending
  // mod_revision (tombstones included). This is what HashKV and Snapshot read.
  using KeyHistoryFn = absl::FunctionRef<void(const std::string& key, std::span<const Version>)>;
  virtual void ForEachKeyHistory(KeyHistoryFn fn) const = 0;

  // Leases: the granted TTL of lease `id`, every lease in ascending id order, and the keys
  // attached to one lease in key order.
  virtual std::optional<int64_t> LeaseTtl(int64_t id) const = 0;
  virtual std::vector<std::pair<int64_t, int64_t>> Leases() const = 0;
  virtual std::vector<std::string> LeaseKeys(int64_t id) const = 0;
  virtual size_t lease_count() const = 0;

  virtual const AlarmSet& alarms() const = 0;

  // The record the layer above the store keeps with the state (the node's member list), opaque
  // here; empty when none was written. Kept in the engine so that it moves with the applied
  // index: a reopened engine holds the member list as of its applied entry.
  virtual const std::string& cluster_state() const = 0;
  // Client sessions (kv/session.h): one record per client id, opaque to the engine (the store
  // encodes and decodes it). FindSession: the record of `client`, nullopt when there is none.
  // ForEachSession: every record in ascending client id; the store reads them all once, when it
  // is made on the engine, to index them in memory.
  virtual std::optional<std::string> FindSession(uint64_t client) const = 0;
  using SessionFn = absl::FunctionRef<void(uint64_t client, std::string_view record)>;
  virtual void ForEachSession(SessionFn fn) const = 0;

  // ---- Writes into the open batch (one is open whenever the previous one was committed). ----

  // Adds `version` as the newest version of `key`. `live_value_bytes` is the size of the value
  // of the key's live version just before this write, as the caller read it (nullopt: the key is
  // absent, or its newest version is a tombstone): an engine that accounts what each write makes
  // obsolete (RocksDbEngine) takes it from here instead of reading the key a second time.
  // REQUIRES: version.mod_revision is above every stored version of `key`, and
  // `live_value_bytes` is true of the engine's state (debug builds check it).
  virtual void AppendVersion(std::string_view key, Version version,
                             std::optional<size_t> live_value_bytes) = 0;

  // Drops history below `revision`: for each key, the versions older than its newest version at
  // or below `revision`, and that version too when it is a tombstone (a history that only says
  // "absent" is dropped whole). Returns the VersionBytes of what it dropped.
  // Every read sees the history as dropped at once (ForEachKeyHistory and History included), and
  // the returned bytes are exact at once; the storage of an engine on disk may still hold the
  // dropped versions for a while and remove them in bounded steps inside later Commits (see
  // RocksDbEngine), so that no entry's apply does the work of a whole compaction.
  // REQUIRES: meta().compact_revision < revision <= meta().revision, and no other write in the
  // batch (the store compacts in an entry of its own).
  virtual int64_t Compact(int64_t revision) = 0;

  virtual void PutLease(int64_t id, int64_t ttl) = 0;
  // REQUIRES: no key is attached to the lease.
  virtual void DeleteLease(int64_t id) = 0;
  virtual void AttachKey(int64_t lease, std::string_view key) = 0;
  virtual void DetachKey(int64_t lease, std::string_view key) = 0;

  virtual void PutAlarm(uint64_t member, etcdserverpb::AlarmType type) = 0;
  virtual void DeleteAlarm(uint64_t member, etcdserverpb::AlarmType type) = 0;

  // Replaces the cluster state.
  virtual void PutClusterState(std::string_view state) = 0;

  // Sets (adds or replaces) the session record of `client`, or removes it.
  virtual void PutSession(uint64_t client, std::string_view record) = 0;
  virtual void DeleteSession(uint64_t client) = 0;

  // Removes everything, the cluster state included (a snapshot restore follows in the same
  // batch).
  virtual void Clear() = 0;

  // Makes the open batch and `meta` visible, atomically (and durable together, for an engine on
  // disk: see Sync), and opens the next batch.
  virtual void Commit(const EngineMeta& meta) = 0;

  // Makes every committed batch durable against a crash of the machine. An engine whose Commit
  // is already durable, or that keeps nothing on disk, returns OK at once.
  virtual absl::Status Sync() = 0;

  // ---- Housekeeping between entries. ----

  // Whether storage a compaction dropped is still to be freed (the engine frees it in steps
  // inside later Commits; see Compact). Always false for an engine that frees it at once.
  virtual bool compaction_in_progress() const { return false; }
  // One bounded step of that work, committed on its own with the current meta, so that storage
  // is freed on a member that applies no more entries too. Changes nothing that a read, meta()
  // or a snapshot can tell. Returns compaction_in_progress() afterwards.
  // REQUIRES: no write in the open batch.
  virtual bool ContinueCompaction() { return false; }

  // ---- Checkpoints: the state as files, which is how a snapshot of a state on disk travels. ----

  // Whether Checkpoint can copy this engine's state. False for an engine in memory.
  virtual bool can_checkpoint() const { return false; }
  // Writes the committed state (never the open batch) into `dir`, which must not exist yet, as
  // the files of an engine that reopens on `dir` at this engine's applied index. An engine on
  // disk hard-links what it can, so the cost is not the size of the state. Unimplemented when
  // !can_checkpoint(). Durability is the caller's business (fsync the files it keeps).
  virtual absl::Status Checkpoint(const std::string& dir) const;
  // Writes out what the engine buffers in memory, so that a Checkpoint soon after has little
  // left to write. Unlike every other call it may run while another thread commits (the caller
  // keeps the engine alive meanwhile); it changes nothing a read sees.
  virtual absl::Status PrepareCheckpoint() const { return absl::OkStatus(); }
};

// Stops the process after an engine failed to read or write its storage: the store cannot keep
// applying entries without diverging from the other members.
[[noreturn]] void FatalEngineError(std::string_view what, std::string_view detail);

}  // namespace raftkv::kv
