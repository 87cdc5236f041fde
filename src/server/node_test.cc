// The server's node: in-process members, each a NodeThread running a node::Driver over the
// real gRPC transport on loopback (through PeerNetwork), an in-memory log and a LockedApplier,
// served through EtcdBackend as the client API sees it.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/log_store.h"
#include "server/etcd_backend.h"
#include "server/locked_applier.h"
#include "server/membership.h"
#include "server/node_thread.h"
#include "server/peer_network.h"
#include "transport/grpc_transport.h"

namespace raftkv::server {
namespace {

constexpr uint64_t kClusterId = 0xC1;
constexpr absl::Duration kTick = absl::Milliseconds(10);

kvpb::Request Put(const std::string& key, const std::string& value) {
  kvpb::Request r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value(value);
  return r;
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(5); }

// The backend answers through a callback; these wait for the answer, as a client does.
absl::StatusOr<kvpb::Response> WriteAndWait(etcd::Backend& backend, kvpb::Request request,
                                            absl::Time deadline) {
  std::promise<absl::StatusOr<kvpb::Response>> answer;
  std::future<absl::StatusOr<kvpb::Response>> result = answer.get_future();
  backend.Write(std::move(request), deadline,
                [&answer](absl::StatusOr<kvpb::Response> r) { answer.set_value(std::move(r)); });
  return result.get();
}

absl::Status WaitLinearizable(etcd::Backend& backend, absl::Time deadline) {
  std::promise<absl::Status> answer;
  std::future<absl::Status> result = answer.get_future();
  backend.WaitLinearizable(deadline, [&answer](absl::Status s) { answer.set_value(std::move(s)); });
  return result.get();
}

// Polls `done` every 10 ms until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

std::string LocalValue(etcd::Backend& backend, const std::string& key) {
  std::string value = "<absent>";
  backend.Read([&](const kv::Store& store) {
    etcdserverpb::RangeRequest range;
    range.set_key(key);
    absl::StatusOr<etcdserverpb::RangeResponse> r = store.Range(range);
    if (r.ok() && r->kvs_size() == 1) value = r->kvs(0).value();
  });
  return value;
}

// The transport as PeerNetwork drives it, remembering which peers it was told to reach.
class RecordingTransport final : public transport::Transport {
 public:
  explicit RecordingTransport(transport::Transport* inner) : inner_(inner) {}
  void Send(std::vector<raftpb::Message> messages) override { inner_->Send(std::move(messages)); }
  void AddPeer(uint64_t id, const std::string& address) override {
    {
      absl::MutexLock lock(&mu_);
      peers_.insert(id);
    }
    inner_->AddPeer(id, address);
  }
  void RemovePeer(uint64_t id) override {
    {
      absl::MutexLock lock(&mu_);
      peers_.erase(id);
    }
    inner_->RemovePeer(id);
  }
  void Stop() override { inner_->Stop(); }
  bool Knows(uint64_t id) {
    absl::MutexLock lock(&mu_);
    return peers_.contains(id);
  }

 private:
  transport::Transport* const inner_;
  absl::Mutex mu_;
  std::set<uint64_t> peers_;
};

class Cluster {
 public:
  explicit Cluster(node::DriverOptions options, int size = 3) : options_(std::move(options)) {
    founding_.set_cluster_id(kClusterId);
    for (int i = 0; i < size; ++i) {
      members_.push_back(std::make_unique<Member>());
      Member& m = *members_.back();
      m.id = static_cast<uint64_t>(i + 1);
      NodeThreadOptions thread_options;
      thread_options.tick_interval = kTick;
      m.thread = std::make_unique<NodeThread>(thread_options);
      transport::GrpcTransportOptions t;
      t.cluster_id = kClusterId;
      t.local_id = m.id;
      m.grpc = std::make_unique<transport::GrpcTransport>(t, m.thread.get());
      m.transport = std::make_unique<RecordingTransport>(m.grpc.get());
      absl::StatusOr<int> port = m.grpc->Start("127.0.0.1:0");
      EXPECT_TRUE(port.ok()) << port.status();
      peerpb::Member* pm = founding_.add_members();
      pm->set_id(m.id);
      pm->add_peer_urls(absl::StrCat("http://127.0.0.1:", port.value_or(0)));
    }
  }
  ~Cluster() {
    for (auto& m : members_) {
      m->thread->Stop();
      m->grpc->Stop();
    }
  }

  // Starts member i (0-based).
  void StartMember(int i) {
    Member& m = *members_[i];
    peerpb::ClusterFile file = founding_;
    file.set_member_id(m.id);
    m.membership = std::make_unique<Membership>(file);
    const std::vector<peerpb::Member> founders(founding_.members().begin(),
                                               founding_.members().end());
    m.log_store = std::make_unique<node::MemoryLogStore>(founders);
    m.network = std::make_unique<PeerNetwork>(m.transport.get(), m.membership.get(),
                                              spdlog::default_logger().get());
    ASSERT_TRUE(m.network->ConnectKnownMembers(m.membership->List()).ok());
    node::DriverOptions options = options_;
    options.id = m.id;
    options.name = absl::StrCat("n", m.id);
    options.client_urls = {absl::StrCat("http://127.0.0.1:", 30000 + m.id)};
    options.random_seed = m.id;
    absl::StatusOr<std::unique_ptr<node::Driver>> driver =
        node::Driver::Create(options, m.log_store.get(), &m.state, m.network.get());
    ASSERT_TRUE(driver.ok()) << driver.status();
    m.thread->Start(std::move(*driver));
    m.backend = std::make_unique<EtcdBackend>(m.thread.get(), &m.state, m.membership.get(),
                                              spdlog::default_logger());
  }
  void StartAll() {
    for (size_t i = 0; i < members_.size(); ++i) StartMember(static_cast<int>(i));
  }

  etcd::Backend& backend(int i) { return *members_[i]->backend; }
  NodeThread& thread(int i) { return *members_[i]->thread; }
  RecordingTransport& transport(int i) { return *members_[i]->transport; }
  // The index of the member every started member agrees is the leader, or -1.
  int Leader() {
    uint64_t leader = 0;
    for (auto& m : members_) {
      if (!m->backend || m->thread->stopped()) continue;
      if (m->thread->leader() == 0 || (leader != 0 && m->thread->leader() != leader)) return -1;
      leader = m->thread->leader();
    }
    return leader == 0 ? -1 : static_cast<int>(leader - 1);
  }
  int WaitForLeader() {
    int leader = -1;
    EXPECT_TRUE(Eventually([&] { return (leader = Leader()) >= 0; }));
    return leader;
  }

 private:
  struct Member {
    uint64_t id = 0;
    std::unique_ptr<NodeThread> thread;
    std::unique_ptr<transport::GrpcTransport> grpc;
    std::unique_ptr<RecordingTransport> transport;
    std::unique_ptr<Membership> membership;
    std::unique_ptr<node::MemoryLogStore> log_store;
    LockedApplier state{std::make_unique<node::StoreApplier>()};
    std::unique_ptr<PeerNetwork> network;
    std::unique_ptr<EtcdBackend> backend;
  };

  node::DriverOptions options_;
  peerpb::ClusterFile founding_;
  std::vector<std::unique_ptr<Member>> members_;
};

// A leader whose followers have just stopped: it still leads (until CheckQuorum makes it step
// down an election timeout later), so what it is asked now is proposed.
int LeaderCutOffFromItsFollowers(Cluster& cluster) {
  int leader = cluster.WaitForLeader();
  if (leader < 0) return leader;
  EXPECT_TRUE(WriteAndWait(cluster.backend(leader), Put("before", "1"), Deadline()).ok());
  for (int i = 0; i < 3; ++i) {
    if (i != leader) cluster.thread(i).Stop();
  }
  return leader;
}

node::DriverOptions SlowElections() {
  node::DriverOptions options;
  options.election_ticks = 30;
  return options;
}

TEST(NodeTest, ASingleMemberClusterElectsItselfAndServesWritesAndReads) {
  Cluster cluster({}, /*size=*/1);
  cluster.StartAll();
  ASSERT_EQ(cluster.WaitForLeader(), 0);
  absl::StatusOr<kvpb::Response> r = WriteAndWait(cluster.backend(0), Put("k", "v"), Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->put().header().revision(), 2);
  ASSERT_TRUE(WaitLinearizable(cluster.backend(0), Deadline()).ok());
  EXPECT_EQ(LocalValue(cluster.backend(0), "k"), "v");
}

TEST(NodeTest, AWriteOnTheLeaderIsAppliedOnEveryMember) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  absl::StatusOr<kvpb::Response> r =
      WriteAndWait(cluster.backend(leader), Put("k", "v"), Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->put().header().revision(), 2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.backend(i), "k") == "v"; })) << i;
  }
}

TEST(NodeTest, AWriteOnAFollowerIsForwardedAndAnsweredOnceAppliedThere) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  int follower = (leader + 1) % 3;
  absl::StatusOr<kvpb::Response> r =
      WriteAndWait(cluster.backend(follower), Put("f", "1"), Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  // Answered after the follower applied it itself: its local store already has it.
  EXPECT_EQ(LocalValue(cluster.backend(follower), "f"), "1");
}

TEST(NodeTest, ALinearizableReadOnAFollowerSeesEveryAcknowledgedWrite) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        WriteAndWait(cluster.backend(leader), Put("x", std::to_string(i)), Deadline()).ok());
    int follower = (leader + 1 + i % 2) % 3;
    ASSERT_TRUE(WaitLinearizable(cluster.backend(follower), Deadline()).ok());
    EXPECT_EQ(LocalValue(cluster.backend(follower), "x"), std::to_string(i));
  }
}

TEST(NodeTest, ConcurrentWritesAllComplete) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  std::vector<std::thread> writers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (WriteAndWait(cluster.backend((leader + t) % 3), Put(absl::StrCat(t, "/", i), "v"),
                         Deadline())
                .ok()) {
          ++ok;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST(NodeTest, WithoutAQuorumWritesAndReadsFailWithNoLeader) {
  Cluster cluster({});
  cluster.StartMember(0);
  absl::StatusOr<kvpb::Response> r = WriteAndWait(cluster.backend(0), Put("k", "v"), Deadline());
  EXPECT_EQ(r.status(), etcd::NoLeaderError());
  EXPECT_EQ(WaitLinearizable(cluster.backend(0), Deadline()), etcd::NoLeaderError());
}

TEST(NodeTest, AProposedWriteThatTimesOutSaysTimedOutNeverNoLeader) {
  Cluster cluster(SlowElections());
  cluster.StartAll();
  const int leader = LeaderCutOffFromItsFollowers(cluster);
  ASSERT_GE(leader, 0);
  // Proposed while it leads; it cannot commit, and the leader steps down before the deadline.
  absl::StatusOr<kvpb::Response> r =
      WriteAndWait(cluster.backend(leader), Put("k", "v"), absl::Now() + absl::Seconds(1));
  EXPECT_EQ(cluster.thread(leader).leader(), 0u);
  ASSERT_FALSE(r.ok());
  // The entry may still commit under a later leader: the client must not take it as never
  // proposed (etcd's clients retry "no leader").
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "etcdserver: request timed out"))
      << r.status();
  EXPECT_NE(r.status(), etcd::NoLeaderError());
}

TEST(NodeTest, ALinearizableReadWithNoLeaderIsAnsweredNoLeaderAtItsDeadlineThoughRoundsRetry) {
  Cluster cluster(SlowElections());
  cluster.StartAll();
  const int leader = LeaderCutOffFromItsFollowers(cluster);
  ASSERT_GE(leader, 0);
  // Asked of the driver directly: the answer must come from the driver at the deadline, while
  // its ReadIndex rounds keep being retried (every 5 ticks), not from a caller giving up.
  std::promise<absl::Status> answer;
  std::future<absl::Status> answered = answer.get_future();
  const absl::Time asked = absl::Now();
  constexpr int kTimeoutTicks = 100;
  ASSERT_TRUE(cluster.thread(leader).Post([&answer](node::Driver& driver) {
    driver.ReadIndex(kTimeoutTicks, [&answer](absl::Status s) { answer.set_value(s); });
  }));
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(answered.get(), etcd::NoLeaderError());
  EXPECT_GE(absl::Now() - asked, kTimeoutTicks * kTick * 0.9);
}

TEST(NodeTest, AMemberThatMissedACompactedLogCatchesUpBySnapshot) {
  node::DriverOptions options;
  options.snapshot_count = 10;
  options.snapshot_catchup_entries = 2;
  Cluster cluster(options);
  cluster.StartMember(0);
  cluster.StartMember(1);
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        WriteAndWait(cluster.backend(leader), Put(absl::StrCat("k", i), "v"), Deadline()).ok());
  }
  cluster.StartMember(2);
  EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.backend(2), "k0") == "v"; }));
  EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.backend(2), "k49") == "v"; }));
}

TEST(NodeTest, AMemberThatInstallsASnapshotTakenAfterAMemberWasAddedCanSendToIt) {
  node::DriverOptions options;
  options.snapshot_count = 10;
  options.snapshot_catchup_entries = 2;
  Cluster cluster(options);
  cluster.StartMember(0);
  cluster.StartMember(1);
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  absl::StatusOr<etcd::MemberInfo> added =
      cluster.backend(leader).AddMember({"http://127.0.0.1:1"}, /*is_learner=*/true, Deadline());
  ASSERT_TRUE(added.ok()) << added.status();
  // Enough writes that the leader's log no longer holds the change: member 3 can learn of the
  // new member only from the snapshot.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        WriteAndWait(cluster.backend(leader), Put(absl::StrCat("k", i), "v"), Deadline()).ok());
  }
  cluster.StartMember(2);
  EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.backend(2), "k49") == "v"; }));
  EXPECT_TRUE(Eventually([&] { return cluster.transport(2).Knows(added->id); }));
  EXPECT_TRUE(cluster.backend(2).Info().members.size() == 4u);
}

TEST(NodeTest, MemberListShowsTheClientUrlsEachMemberPublished) {
  Cluster cluster({});
  cluster.StartAll();
  ASSERT_GE(cluster.WaitForLeader(), 0);
  EXPECT_TRUE(Eventually([&] {
    etcd::NodeInfo info = cluster.backend(0).Info();
    if (info.members.size() != 3) return false;
    for (const etcd::MemberInfo& m : info.members) {
      if (m.client_urls !=
          std::vector<std::string>{absl::StrCat("http://127.0.0.1:", 30000 + m.id)})
        return false;
      if (m.name != absl::StrCat("n", m.id)) return false;
    }
    return true;
  }));
}

TEST(NodeTest, AFullProposalQueueAnswersTooManyRequests) {
  node::DriverOptions options;
  options.max_pending_writes = 0;
  Cluster cluster(options);
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  EXPECT_EQ(WriteAndWait(cluster.backend(leader), Put("k", "v"), Deadline()).status(),
            etcd::TooManyRequestsError());
}

TEST(NodeTest, StoppingFailsWaitingCallsWithServerStopped) {
  Cluster cluster(SlowElections());
  cluster.StartAll();
  const int leader = LeaderCutOffFromItsFollowers(cluster);
  ASSERT_GE(leader, 0);
  // Proposed, and unable to commit: it waits for its deadline until the member stops.
  std::future<absl::StatusOr<kvpb::Response>> waiting = std::async(std::launch::async, [&] {
    return WriteAndWait(cluster.backend(leader), Put("k", "v"), absl::Now() + absl::Seconds(30));
  });
  absl::SleepFor(absl::Milliseconds(100));
  cluster.thread(leader).Stop();
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(waiting.get().status(), etcd::StoppedError());
  EXPECT_EQ(WaitLinearizable(cluster.backend(leader), Deadline()), etcd::StoppedError());
  EXPECT_EQ(WriteAndWait(cluster.backend(leader), Put("k", "v"), Deadline()).status(),
            etcd::StoppedError());
}

}  // namespace
}  // namespace raftkv::server
