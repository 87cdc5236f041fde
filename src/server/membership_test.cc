#include "server/membership.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace raftkv::server {
namespace {

TEST(MemberIdTest, IsDeterministicAndIgnoresUrlOrder) {
  EXPECT_EQ(ComputeMemberId({"http://a:1", "http://b:2"}, "t"),
            ComputeMemberId({"http://b:2", "http://a:1"}, "t"));
}

TEST(MemberIdTest, DependsOnUrlsAndToken) {
  const uint64_t id = ComputeMemberId({"http://a:1"}, "t");
  EXPECT_NE(id, ComputeMemberId({"http://a:2"}, "t"));
  EXPECT_NE(id, ComputeMemberId({"http://a:1"}, "u"));
  EXPECT_NE(id, 0u);
}

TEST(ClusterIdTest, DependsOnTheMembersNotTheirOrder) {
  EXPECT_EQ(ComputeClusterId({1, 2, 3}, "t"), ComputeClusterId({3, 1, 2}, "t"));
  EXPECT_NE(ComputeClusterId({1, 2, 3}, "t"), ComputeClusterId({1, 2}, "t"));
  EXPECT_NE(ComputeClusterId({1, 2, 3}, "t"), ComputeClusterId({1, 2, 3}, "u"));
}

TEST(ClusterFileTest, RoundTripsThroughTheDisk) {
  char dir[] = "/tmp/raftkv-membership-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/cluster";
  peerpb::ClusterFile file;
  file.set_cluster_id(11);
  file.set_member_id(22);
  peerpb::Member* m = file.add_members();
  m->set_id(22);
  m->set_name("n1");
  m->add_peer_urls("http://127.0.0.1:2380");
  ASSERT_TRUE(WriteClusterFile(path, file).ok());
  absl::StatusOr<peerpb::ClusterFile> read = ReadClusterFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->SerializeAsString(), file.SerializeAsString());
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(ClusterFileTest, AMissingFileIsNotFound) {
  EXPECT_EQ(ReadClusterFile("/nonexistent/raftkv/cluster").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MemberListTest, AttributesFillInNameAndClientUrlsOfKnownMembersOnly) {
  peerpb::Member founder;
  founder.set_id(5);
  node::MemberList membership({founder});
  peerpb::Member attributes;
  attributes.set_id(5);
  attributes.set_name("n5");
  attributes.add_client_urls("http://127.0.0.1:2379");
  membership.UpdateAttributes(attributes);
  attributes.set_id(6);
  membership.UpdateAttributes(attributes);
  std::vector<peerpb::Member> members = membership.List();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name(), "n5");
  EXPECT_EQ(members[0].client_urls(0), "http://127.0.0.1:2379");
  EXPECT_FALSE(membership.Contains(6));
}

peerpb::Member MakeMember(uint64_t id, const std::string& peer_url, bool learner = false) {
  peerpb::Member m;
  m.set_id(id);
  m.add_peer_urls(peer_url);
  m.set_is_learner(learner);
  return m;
}

TEST(MemberListTest, AddingAKnownMemberKeepsItsAnnouncedNameAndClientUrls) {
  node::MemberList membership;
  membership.Add(MakeMember(7, "http://10.0.0.7:2380", /*learner=*/true));
  peerpb::Member attributes;
  attributes.set_id(7);
  attributes.set_name("n7");
  attributes.add_client_urls("http://10.0.0.7:2379");
  membership.UpdateAttributes(attributes);
  // The promotion (or a replayed add) changes the learner flag and the peer URLs only.
  membership.Add(MakeMember(7, "http://10.0.0.8:2380", /*learner=*/false));
  std::optional<peerpb::Member> m = membership.Find(7);
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->is_learner());
  EXPECT_EQ(m->peer_urls(0), "http://10.0.0.8:2380");
  EXPECT_EQ(m->name(), "n7");
  EXPECT_EQ(m->client_urls(0), "http://10.0.0.7:2379");
  EXPECT_EQ(membership.FindByPeerUrl({"http://10.0.0.8:2380"})->id(), 7u);
  EXPECT_FALSE(membership.FindByPeerUrl({"http://10.0.0.7:2380"}).has_value());
}

TEST(MemberListTest, ARemovedMemberIsForgottenButRememberedAsRemoved) {
  node::MemberList membership;
  membership.Add(MakeMember(7, "http://10.0.0.7:2380"));
  membership.Remove(7);
  membership.Remove(7);  // a replayed removal changes nothing
  EXPECT_FALSE(membership.Contains(7));
  EXPECT_TRUE(membership.WasRemoved(7));
  EXPECT_FALSE(membership.WasRemoved(8));  // never a member: unknown, not removed
  // A snapshot carries the removed ids, so a restored member still refuses them as removed.
  node::MemberList restored;
  restored.Restore(membership.List(), membership.RemovedIds());
  EXPECT_TRUE(restored.WasRemoved(7));
  EXPECT_FALSE(restored.Contains(7));
}

TEST(MembershipTest, StartsWithTheFoundersAndThenShowsTheListItIsGiven) {
  peerpb::ClusterFile founding;
  founding.set_cluster_id(1);
  founding.set_member_id(5);
  *founding.add_members() = MakeMember(5, "http://10.0.0.5:2380");
  Membership membership(founding);
  EXPECT_EQ(membership.cluster_id(), 1u);
  EXPECT_EQ(membership.local_id(), 5u);
  EXPECT_TRUE(membership.Contains(5));
  node::MemberList applied({MakeMember(5, "http://10.0.0.5:2380")});
  applied.Add(MakeMember(7, "http://10.0.0.7:2380"));
  applied.Remove(7);
  applied.Add(MakeMember(8, "http://10.0.0.8:2380"));
  membership.Set(applied);
  EXPECT_EQ(membership.List().size(), 2u);
  EXPECT_EQ(membership.FindByPeerUrl({"http://10.0.0.8:2380"})->id(), 8u);
  EXPECT_TRUE(membership.WasRemoved(7));
  EXPECT_EQ(membership.RemovedIds(), std::vector<uint64_t>{7});
  EXPECT_TRUE(membership.Get() == applied);
}

}  // namespace
}  // namespace raftkv::server
