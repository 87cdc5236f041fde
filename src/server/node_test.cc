// Node driver tests: three in-process members over the real gRPC transport on loopback, each
// with an in-memory log.
#include "server/node.h"

#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "transport/grpc_transport.h"

namespace raftkv::server {
namespace {

constexpr uint64_t kClusterId = 0xC1;

kvpb::Request Put(const std::string& key, const std::string& value) {
  kvpb::Request r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value(value);
  return r;
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(5); }

// Polls `done` every 10 ms until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

std::string LocalValue(Node& node, const std::string& key) {
  std::string value = "<absent>";
  node.Read([&](const kv::Store& store) {
    etcdserverpb::RangeRequest range;
    range.set_key(key);
    absl::StatusOr<etcdserverpb::RangeResponse> r = store.Range(range);
    if (r.ok() && r->kvs_size() == 1) value = r->kvs(0).value();
  });
  return value;
}

class Cluster {
 public:
  explicit Cluster(NodeOptions options, int size = 3) : options_(std::move(options)) {
    options_.tick_interval = absl::Milliseconds(10);
    options_.election_ticks = 10;
    founding_.set_cluster_id(kClusterId);
    for (int i = 0; i < size; ++i) {
      members_.push_back(std::make_unique<Member>());
      Member& m = *members_.back();
      m.id = static_cast<uint64_t>(i + 1);
      transport::GrpcTransportOptions t;
      t.cluster_id = kClusterId;
      t.local_id = m.id;
      m.transport = std::make_unique<transport::GrpcTransport>(t, &m.relay);
      absl::StatusOr<int> port = m.transport->Start("127.0.0.1:0");
      EXPECT_TRUE(port.ok()) << port.status();
      peerpb::Member* pm = founding_.add_members();
      pm->set_id(m.id);
      pm->set_name(absl::StrCat("n", m.id));
      pm->add_peer_urls(absl::StrCat("http://127.0.0.1:", port.value_or(0)));
    }
  }
  ~Cluster() {
    for (auto& m : members_) {
      if (m->node) m->node->Stop();
      m->transport->Stop();
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
    NodeOptions options = options_;
    options.name = absl::StrCat("n", m.id);
    options.client_urls = {absl::StrCat("http://127.0.0.1:", 30000 + m.id)};
    absl::StatusOr<std::unique_ptr<Node>> node =
        Node::Create(options, m.membership.get(), std::make_unique<MemoryLogStore>(founders));
    ASSERT_TRUE(node.ok()) << node.status();
    m.node = std::move(*node);
    m.relay.target = m.node.get();
    ASSERT_TRUE(AddPeers(*m.membership, *m.transport).ok());
    m.node->Start(m.transport.get());
  }
  void StartAll() {
    for (size_t i = 0; i < members_.size(); ++i) StartMember(static_cast<int>(i));
  }

  Node& node(int i) { return *members_[i]->node; }
  // The index of the member every started member agrees is the leader, or -1.
  int Leader() {
    uint64_t leader = 0;
    for (auto& m : members_) {
      if (!m->node) continue;
      if (m->node->leader_id() == 0 || (leader != 0 && m->node->leader_id() != leader)) {
        return -1;
      }
      leader = m->node->leader_id();
    }
    return leader == 0 ? -1 : static_cast<int>(leader - 1);
  }
  int WaitForLeader() {
    int leader = -1;
    EXPECT_TRUE(Eventually([&] { return (leader = Leader()) >= 0; }));
    return leader;
  }

 private:
  // Delivers to the node once it exists; the transport must exist first to learn its port.
  struct Relay final : transport::Receiver {
    std::atomic<Node*> target{nullptr};
    void Receive(std::vector<raftpb::Message> messages) override {
      if (Node* n = target.load()) n->Receive(std::move(messages));
    }
    void ReportUnreachable(uint64_t id) override {
      if (Node* n = target.load()) n->ReportUnreachable(id);
    }
    void ReportSnapshot(uint64_t id, bool delivered) override {
      if (Node* n = target.load()) n->ReportSnapshot(id, delivered);
    }
  };
  struct Member {
    uint64_t id = 0;
    Relay relay;
    std::unique_ptr<transport::GrpcTransport> transport;
    std::unique_ptr<Membership> membership;
    std::unique_ptr<Node> node;
  };

  NodeOptions options_;
  peerpb::ClusterFile founding_;
  std::vector<std::unique_ptr<Member>> members_;
};

TEST(NodeTest, AWriteOnTheLeaderIsAppliedOnEveryMember) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  absl::StatusOr<kvpb::Response> r = cluster.node(leader).Write(Put("k", "v"), Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->put().header().revision(), 2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.node(i), "k") == "v"; })) << i;
  }
}

TEST(NodeTest, AWriteOnAFollowerIsForwardedAndAnsweredOnceAppliedThere) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  int follower = (leader + 1) % 3;
  absl::StatusOr<kvpb::Response> r = cluster.node(follower).Write(Put("f", "1"), Deadline());
  ASSERT_TRUE(r.ok()) << r.status();
  // Answered after the follower applied it itself: its local store already has it.
  EXPECT_EQ(LocalValue(cluster.node(follower), "f"), "1");
}

TEST(NodeTest, ALinearizableReadOnAFollowerSeesEveryAcknowledgedWrite) {
  Cluster cluster({});
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(cluster.node(leader).Write(Put("x", std::to_string(i)), Deadline()).ok());
    int follower = (leader + 1 + i % 2) % 3;
    ASSERT_TRUE(cluster.node(follower).WaitLinearizable(Deadline()).ok());
    EXPECT_EQ(LocalValue(cluster.node(follower), "x"), std::to_string(i));
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
        if (cluster.node((leader + t) % 3)
                .Write(Put(absl::StrCat(t, "/", i), "v"), Deadline())
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
  absl::StatusOr<kvpb::Response> r = cluster.node(0).Write(Put("k", "v"), Deadline());
  EXPECT_EQ(r.status(), etcd::NoLeaderError());
  EXPECT_EQ(cluster.node(0).WaitLinearizable(Deadline()), etcd::NoLeaderError());
}

TEST(NodeTest, AMemberThatMissedACompactedLogCatchesUpBySnapshot) {
  NodeOptions options;
  options.snapshot_count = 10;
  options.snapshot_catchup_entries = 2;
  Cluster cluster(options);
  cluster.StartMember(0);
  cluster.StartMember(1);
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(cluster.node(leader).Write(Put(absl::StrCat("k", i), "v"), Deadline()).ok());
  }
  cluster.StartMember(2);
  EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.node(2), "k0") == "v"; }));
  EXPECT_TRUE(Eventually([&] { return LocalValue(cluster.node(2), "k49") == "v"; }));
}

TEST(NodeTest, MemberListShowsTheClientUrlsEachMemberPublished) {
  Cluster cluster({});
  cluster.StartAll();
  ASSERT_GE(cluster.WaitForLeader(), 0);
  EXPECT_TRUE(Eventually([&] {
    etcd::NodeInfo info = cluster.node(0).Info();
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
  NodeOptions options;
  options.max_pending_proposals = 0;
  Cluster cluster(options);
  cluster.StartAll();
  int leader = cluster.WaitForLeader();
  ASSERT_GE(leader, 0);
  EXPECT_EQ(cluster.node(leader).Write(Put("k", "v"), Deadline()).status(),
            etcd::TooManyRequestsError());
}

TEST(NodeTest, StoppingFailsWaitingCallsWithServerStopped) {
  Cluster cluster({});
  cluster.StartMember(0);
  cluster.node(0).Stop();
  EXPECT_EQ(cluster.node(0).WaitLinearizable(Deadline()), etcd::StoppedError());
  EXPECT_EQ(cluster.node(0).Write(Put("k", "v"), Deadline()).status(), etcd::StoppedError());
}

}  // namespace
}  // namespace raftkv::server
