// The in-memory engine: every version of every key in ordered maps, as the store kept them before
// it had engines. Nothing survives the process; the raft log and snapshots rebuild it. The
// simulator and most tests run on it, and the differential test checks RocksDbEngine against it.
//
// A batch is applied as it is written (the store never writes what it may have to take back:
// it checks a request before its first write), so Commit only records the meta.
//
// Thread-safety: as Engine.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kv/engine.h"

namespace raftkv::kv {

class MemoryEngine final : public Engine {
 public:
  MemoryEngine() = default;

  EngineMeta meta() const override { return meta_; }
  bool Read(std::string_view key, int64_t revision, ReadFn fn) const override;
  void Scan(const KeyRange& range, int64_t revision, ScanFn fn) const override;
  void History(const KeyRange& range, int64_t from, int64_t through, EventFn fn) const override;
  void ForEachKeyHistory(KeyHistoryFn fn) const override;
  std::optional<int64_t> LeaseTtl(int64_t id) const override;
  std::vector<std::pair<int64_t, int64_t>> Leases() const override;
  std::vector<std::string> LeaseKeys(int64_t id) const override;
  size_t lease_count() const override { return leases_.size(); }
  const AlarmSet& alarms() const override { return alarms_; }
  const std::string& cluster_state() const override { return cluster_state_; }
  std::optional<std::string> FindSession(uint64_t client) const override;
  void ForEachSession(SessionFn fn) const override;

  void AppendVersion(std::string_view key, Version version,
                     std::optional<size_t> live_value_bytes) override;
  int64_t Compact(int64_t revision) override;
  void PutLease(int64_t id, int64_t ttl) override;
  void DeleteLease(int64_t id) override;
  void AttachKey(int64_t lease, std::string_view key) override;
  void DetachKey(int64_t lease, std::string_view key) override;
  void PutAlarm(uint64_t member, etcdserverpb::AlarmType type) override;
  void DeleteAlarm(uint64_t member, etcdserverpb::AlarmType type) override;
  void PutClusterState(std::string_view state) override { cluster_state_ = state; }
  void PutSession(uint64_t client, std::string_view record) override;
  void DeleteSession(uint64_t client) override;
  void Clear() override;
  void Commit(const EngineMeta& meta) override { meta_ = meta; }
  absl::Status Sync() override { return absl::OkStatus(); }

 private:
  // Invariant: mod_revision strictly increasing, never empty, never starts with a tombstone
  // (compaction drops history that only says "absent").
  using KeyHistory = std::vector<Version>;
  using KeyMap = std::map<std::string, KeyHistory, std::less<>>;
  struct Lease {
    int64_t ttl = 0;
    std::set<std::string, std::less<>> keys;
  };

  std::pair<KeyMap::const_iterator, KeyMap::const_iterator> Bounds(const KeyRange& range) const;

  KeyMap keys_;
  std::map<int64_t, Lease> leases_;
  AlarmSet alarms_;
  std::string cluster_state_;
  std::map<uint64_t, std::string> sessions_;
  EngineMeta meta_;
};

}  // namespace raftkv::kv
