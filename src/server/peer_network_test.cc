#include "server/peer_network.h"

#include <gtest/gtest.h>

#include <map>

namespace raftkv::server {
namespace {

class FakeTransport final : public transport::Transport {
 public:
  void Send(std::vector<raftpb::Message> messages) override {
    for (raftpb::Message& m : messages) sent.push_back(std::move(m));
  }
  void AddPeer(uint64_t id, const std::string& address) override {
    peers[id] = address;
    ++adds;
  }
  void RemovePeer(uint64_t id) override { peers.erase(id); }
  void Stop() override {}

  std::map<uint64_t, std::string> peers;
  std::vector<raftpb::Message> sent;
  int adds = 0;
};

peerpb::Member Member(uint64_t id, const std::string& peer_url) {
  peerpb::Member m;
  m.set_id(id);
  m.add_peer_urls(peer_url);
  return m;
}

peerpb::ClusterFile Founding(uint64_t local_id) {
  peerpb::ClusterFile file;
  file.set_cluster_id(1);
  file.set_member_id(local_id);
  *file.add_members() = Member(1, "http://127.0.0.1:2381");
  *file.add_members() = Member(2, "http://127.0.0.1:2382");
  return file;
}

struct PeerNetworkTest : ::testing::Test {
  FakeTransport transport;
  Membership membership{Founding(1)};
  PeerNetwork network{&transport, &membership, spdlog::default_logger().get()};
};

TEST_F(PeerNetworkTest, ConnectsEveryOtherMemberButNeverItself) {
  ASSERT_TRUE(network.ConnectKnownMembers(membership.List()).ok());
  EXPECT_EQ(transport.peers, (std::map<uint64_t, std::string>{{2, "127.0.0.1:2382"}}));
}

TEST_F(PeerNetworkTest, FollowsAddedMovedAndRemovedMembersAndPublishesTheList) {
  node::MemberList list({Member(1, "http://127.0.0.1:2381"), Member(2, "http://127.0.0.1:2382")});
  network.FollowMembers(list);
  list.Add(Member(3, "http://127.0.0.1:2383"));
  network.FollowMembers(list);
  EXPECT_EQ(transport.peers.at(3), "127.0.0.1:2383");
  list.Add(Member(3, "http://127.0.0.1:2393"));
  network.FollowMembers(list);
  EXPECT_EQ(transport.peers.at(3), "127.0.0.1:2393");
  list.Remove(2);
  network.FollowMembers(list);
  EXPECT_FALSE(transport.peers.contains(2));
  EXPECT_TRUE(membership.WasRemoved(2));
  EXPECT_EQ(membership.List().size(), 2u);
}

TEST_F(PeerNetworkTest, AnUnchangedListDoesNotReconnect) {
  node::MemberList list({Member(1, "http://127.0.0.1:2381"), Member(2, "http://127.0.0.1:2382")});
  network.FollowMembers(list);
  network.FollowMembers(list);
  EXPECT_EQ(transport.adds, 1);
}

TEST_F(PeerNetworkTest, AListFromASnapshotConnectsMembersNeverSeenJoining) {
  ASSERT_TRUE(network.ConnectKnownMembers(membership.List()).ok());
  node::MemberList snapshot({Member(1, "http://127.0.0.1:2381"), Member(2, "http://127.0.0.1:2382"),
                             Member(4, "http://127.0.0.1:2384")});
  network.FollowMembers(snapshot);
  EXPECT_EQ(transport.peers.at(4), "127.0.0.1:2384");
}

TEST_F(PeerNetworkTest, AReplayedLogDoesNotDropKnownMembersItHasNotReachedYet) {
  ASSERT_TRUE(network.ConnectKnownMembers(membership.List()).ok());
  // The founders' first entry adds member 1 only; member 2 follows in the next entry.
  network.FollowMembers(node::MemberList({Member(1, "http://127.0.0.1:2381")}));
  EXPECT_TRUE(transport.peers.contains(2));
}

TEST_F(PeerNetworkTest, SendForwardsToTheTransport) {
  raftpb::Message m;
  m.set_to(2);
  network.Send({m});
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].to(), 2u);
}

}  // namespace
}  // namespace raftkv::server
