// A small in-process cluster of node drivers for tests: each member has its own log store
// (in memory) and applier, and the network is a queue the test delivers from explicitly, so
// every test controls exactly what reaches whom.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/applier.h"
#include "node/driver.h"
#include "node/log_store.h"
#include "node/network.h"

namespace raftkv::node::testing {

// Records what the driver sent, in order, and what it was told about the members.
class QueueNetwork final : public Network {
 public:
  void Send(std::vector<raftpb::Message> messages) override {
    for (raftpb::Message& m : messages) sent.push_back(std::move(m));
  }
  void FollowMembers(const MemberList& members) override { followed = members; }

  std::deque<raftpb::Message> sent;
  MemberList followed;
};

// Counts the Ready writes, and can be made to fail.
class CountingLogStore final : public LogStore {
 public:
  explicit CountingLogStore(const std::vector<peerpb::Member>& founders) : inner_(founders) {}

  raft::Storage& storage() override { return inner_.storage(); }
  absl::Status Save(const raft::Ready& ready) override {
    if (!fail_with.ok()) return fail_with;
    ++saves;
    if (!ready.entries.empty()) entry_batches.push_back(ready.entries.size());
    if (on_save) on_save(ready);
    return inner_.Save(ready);
  }
  absl::Status CreateSnapshot(uint64_t index, const raftpb::ConfState& conf_state,
                              std::string data) override {
    return inner_.CreateSnapshot(index, conf_state, std::move(data));
  }
  absl::Status Compact(uint64_t index) override { return inner_.Compact(index); }

  int saves = 0;
  std::vector<size_t> entry_batches;
  absl::Status fail_with;
  std::function<void(const raft::Ready&)> on_save;

 private:
  MemoryLogStore inner_;
};

struct TestMember {
  std::unique_ptr<CountingLogStore> log;
  std::unique_ptr<StoreApplier> applier;
  QueueNetwork network;
  std::unique_ptr<Driver> driver;
};

class TestCluster {
 public:
  // Members 1..n, all founding voters. `adjust` may change each member's options.
  explicit TestCluster(int n, std::function<void(DriverOptions&)> adjust = nullptr);

  Driver& driver(uint64_t id) { return *members_.at(id).driver; }
  TestMember& member(uint64_t id) { return members_.at(id); }
  const kv::Store& store(uint64_t id) { return members_.at(id).applier->store(); }
  std::vector<uint64_t> ids() const;

  // Process() on every member.
  void ProcessAll();
  // Delivers every queued message (and the ones they cause) until the network is quiet, except
  // to and from members in `cut`.
  void Stabilize();
  void TickAll(int ticks = 1);
  // Campaigns at `id` and stabilizes; returns whether it leads.
  bool Elect(uint64_t id);
  // Drops everything in flight.
  void DropMessages();

  std::set<uint64_t> cut;
  std::vector<peerpb::Member> founders;

 private:
  std::map<uint64_t, TestMember> members_;
};

kvpb::Request PutRequest(const std::string& key, const std::string& value);

// Captures the answer a driver gives a writer.
struct WriteAnswer {
  std::optional<WriteResult> result;
  WriteDone Callback() {
    return [this](WriteResult r) { result = std::move(r); };
  }
};

}  // namespace raftkv::node::testing
