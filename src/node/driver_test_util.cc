#include "node/driver_test_util.h"

#include <utility>

#include "gtest/gtest.h"

namespace raftkv::node::testing {

TestCluster::TestCluster(int n, std::function<void(DriverOptions&)> adjust) {
  for (int i = 1; i <= n; ++i) {
    peerpb::Member& m = founders.emplace_back();
    m.set_id(i);
    m.add_peer_urls("http://127.0.0.1:" + std::to_string(2380 + i));
  }
  for (int i = 1; i <= n; ++i) {
    TestMember& member = members_[i];
    member.log = std::make_unique<CountingLogStore>(founders);
    member.applier = std::make_unique<StoreApplier>();
    DriverOptions options;
    options.id = i;
    options.random_seed = i;
    options.request_id_base = static_cast<uint64_t>(i) << 32;
    if (adjust) adjust(options);
    absl::StatusOr<std::unique_ptr<Driver>> driver =
        Driver::Create(options, member.log.get(), member.applier.get(), &member.network);
    EXPECT_TRUE(driver.ok()) << driver.status();
    member.driver = std::move(*driver);
  }
  ProcessAll();  // apply the founders' configuration
}

std::vector<uint64_t> TestCluster::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, m] : members_) out.push_back(id);
  return out;
}

void TestCluster::ProcessAll() {
  for (auto& [id, m] : members_) EXPECT_TRUE(m.driver->Process().ok());
}

void TestCluster::Stabilize() {
  for (int round = 0; round < 1000; ++round) {
    ProcessAll();
    bool delivered = false;
    for (auto& [id, m] : members_) {
      std::deque<raftpb::Message> sent = std::move(m.network.sent);
      m.network.sent.clear();
      for (const raftpb::Message& msg : sent) {
        if (cut.contains(msg.from()) || cut.contains(msg.to())) continue;
        auto to = members_.find(msg.to());
        if (to == members_.end()) continue;
        to->second.driver->Step(msg);
        delivered = true;
      }
    }
    if (!delivered) return;
  }
  ADD_FAILURE() << "the cluster did not stabilize";
}

void TestCluster::TickAll(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, m] : members_) m.driver->Tick();
  }
}

bool TestCluster::Elect(uint64_t id) {
  driver(id).Campaign();
  Stabilize();
  return driver(id).role() == raft::StateRole::kLeader;
}

void TestCluster::DropMessages() {
  for (auto& [id, m] : members_) m.network.sent.clear();
}

kvpb::Request PutRequest(const std::string& key, const std::string& value) {
  kvpb::Request request;
  request.mutable_put()->set_key(key);
  request.mutable_put()->set_value(value);
  return request;
}

}  // namespace raftkv::node::testing
