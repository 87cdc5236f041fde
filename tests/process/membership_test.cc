// Membership changes of a running cluster of real raftkv-server processes, driven by Debian's
// etcdctl: adding capacity (a voter, or a learner promoted once caught up), removing a member,
// and the errors etcd gives for changes it refuses.
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MembershipTest : public ClusterTest {
 protected:
  // The id etcdctl printed for an added member ("Member 8e9e05c52164694d added to cluster ...",
  // padded to 16 characters with spaces).
  static std::string AddedId(const std::string& output) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(R"(Member +([0-9a-f]+) added to cluster)"))) {
      return "";
    }
    return match[1];
  }

  // The hex id of member i, as `member list` prints it.
  std::string IdOf(int i) {
    CommandResult list = Etcdctl("member list", cluster_->endpoint(0));
    std::smatch match;
    const std::regex line("([0-9a-f]+), [a-z]+, " + cluster_->name(i) + ", ");
    if (!std::regex_search(list.output, match, line)) return "";
    return match[1];
  }

  bool PutVia(int i, const std::string& key, const std::string& value) {
    return Eventually(
        [&] {
          return Etcdctl(absl::StrCat("put ", key, " ", value), cluster_->endpoint(i)).exit_code ==
                 0;
        },
        absl::Seconds(30));
  }
};

TEST_F(MembershipTest, AVoterAddedLaterCatchesUpAndCountsTowardTheQuorum) {
  spares_ = 1;
  StartCluster();
  ASSERT_TRUE(PutVia(0, "before", "1"));

  // `member add` may go to any member; a follower forwards it to the leader.
  const int follower = (WaitForLeader() + 1) % 3;
  CommandResult add = Etcdctl(
      absl::StrCat("member add ", cluster_->name(3), " --peer-urls=", cluster_->peer_url(3)),
      cluster_->endpoint(follower));
  ASSERT_EQ(add.exit_code, 0) << add.output;
  const std::string id = AddedId(add.output);
  ASSERT_FALSE(id.empty()) << add.output;
  EXPECT_THAT(add.output, HasSubstr("ETCD_INITIAL_CLUSTER_STATE=\"existing\""));
  // Added but not started: etcd shows it as "unstarted" with no client URL.
  CommandResult list = Etcdctl("member list", cluster_->endpoint(0));
  EXPECT_THAT(list.output, HasSubstr(absl::StrCat(id, ", unstarted, , ", cluster_->peer_url(3))));

  ASSERT_TRUE(cluster_->Start(3).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(3, "before") == "1"; }, absl::Seconds(30)));
  ASSERT_TRUE(PutVia(3, "after", "2"));
  EXPECT_TRUE(Eventually([&] { return LocalValue(0, "after") == "2"; }));
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(Etcdctl("member list", cluster_->endpoint(3)).output,
                             absl::StrCat(id, ", started, ", cluster_->name(3), ", ",
                                          cluster_->peer_url(3), ", ", cluster_->client_url(3)));
  }));

  // Four voters make a quorum of three. With one founder down, writes go on only because the
  // new member votes; with the new member down too, they stop.
  const int leader = WaitForLeader();
  const int down = leader == 0 ? 1 : 0;
  cluster_->Kill(down);
  ASSERT_TRUE(PutVia(3, "three-of-four", "3"));
  cluster_->Kill(3);
  EXPECT_NE(Etcdctl("put two-of-four 4", cluster_->endpoint(leader)).exit_code, 0);
}

TEST_F(MembershipTest, AMemberAddedAfterCompactionStartsFromASnapshot) {
  spares_ = 1;
  StartCluster(/*snapshot_count=*/20);
  // The leader's log no longer reaches back to the founders' entries, so the new member must
  // learn the store and the membership from a snapshot.
  for (int k = 0; k < 120; ++k) ASSERT_TRUE(PutVia(0, absl::StrCat("s", k), "v"));
  CommandResult add = Etcdctl(
      absl::StrCat("member add ", cluster_->name(3), " --peer-urls=", cluster_->peer_url(3)));
  ASSERT_EQ(add.exit_code, 0) << add.output;
  ASSERT_TRUE(cluster_->Start(3).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(3, "s119") == "v"; }, absl::Seconds(30)));
  EXPECT_EQ(LocalValue(3, "s0"), "v");
  CommandResult log = RunCommand("cat " + cluster_->log_path(3));
  EXPECT_THAT(log.output, HasSubstr("restored the state from a snapshot"));
  // It knows every member, itself included, and the cluster goes on with it.
  const std::string list = Etcdctl("member list", cluster_->endpoint(3)).output;
  for (int i = 0; i < 4; ++i) EXPECT_THAT(list, HasSubstr(cluster_->peer_url(i)));
  ASSERT_TRUE(PutVia(3, "after-join", "1"));
  EXPECT_TRUE(Eventually([&] { return LocalValue(1, "after-join") == "1"; }));
}

TEST_F(MembershipTest, ALearnerIsPromotedOnceItHasCaughtUp) {
  spares_ = 1;
  StartCluster();
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(PutVia(0, absl::StrCat("k", k), "v"));

  CommandResult add = Etcdctl(absl::StrCat("member add ", cluster_->name(3), " --learner",
                                           " --peer-urls=", cluster_->peer_url(3)));
  ASSERT_EQ(add.exit_code, 0) << add.output;
  const std::string id = AddedId(add.output);
  ASSERT_FALSE(id.empty()) << add.output;
  // etcd refuses to promote a learner that has not caught up (here: not even started).
  CommandResult early = Etcdctl("member promote " + id);
  EXPECT_NE(early.exit_code, 0);
  EXPECT_THAT(early.output, HasSubstr("can only promote a learner member which is in sync"));

  ASSERT_TRUE(cluster_->Start(3).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(3, "k19") == "v"; }, absl::Seconds(30)));
  CommandResult status = Etcdctl("endpoint status -w json", cluster_->endpoint(3));
  EXPECT_THAT(status.output, HasSubstr("\"isLearner\":true"));

  CommandResult promote;
  EXPECT_TRUE(Eventually([&] {
    promote = Etcdctl("member promote " + id);
    return promote.exit_code == 0;
  }));
  EXPECT_THAT(promote.output, HasSubstr("promoted"));
  // A member lists what it has applied (etcd 3.4's member list is not linearizable): the
  // promoted member learns of its promotion once the entry's commit reaches it.
  CommandResult list;
  EXPECT_TRUE(Eventually([&] {
    list = Etcdctl("member list -w json", cluster_->endpoint(3));
    // etcd omits isLearner when it is false.
    return list.exit_code == 0 && !absl::StrContains(list.output, "isLearner");
  })) << list.output;
  // Promoting a voter is refused.
  CommandResult again = Etcdctl("member promote " + id);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("can only promote a learner member"));
}

TEST_F(MembershipTest, ARemovedMemberLeavesTheListAndStops) {
  StartCluster();
  const int leader = WaitForLeader();
  const int victim = (leader + 1) % 3;
  const std::string id = IdOf(victim);
  ASSERT_FALSE(id.empty());
  CommandResult remove = Etcdctl("member remove " + id, cluster_->endpoint(victim));
  ASSERT_EQ(remove.exit_code, 0) << remove.output;
  // etcdctl prints ids with Go's %16x: an id with fewer than 16 hex digits is space-padded.
  EXPECT_THAT(remove.output,
              HasSubstr(absl::StrFormat("Member %16s removed from cluster", id)));

  CommandResult list = Etcdctl("member list", cluster_->endpoint(leader));
  EXPECT_THAT(list.output, Not(HasSubstr(id)));
  EXPECT_TRUE(Eventually([&] { return cluster_->Exited(victim); }, absl::Seconds(30)))
      << "the removed member kept running";
  // Two voters remain; both are needed and both are up.
  ASSERT_TRUE(PutVia(leader, "after-remove", "1"));
  const int other = 3 - leader - victim;
  EXPECT_TRUE(Eventually([&] { return LocalValue(other, "after-remove") == "1"; }));
}

TEST_F(MembershipTest, RefusedChangesGiveEtcdsErrorsAndChangeNothing) {
  StartCluster();
  const std::string before = Etcdctl("member list", cluster_->endpoint(0)).output;

  CommandResult taken =
      Etcdctl(absl::StrCat("member add again --peer-urls=", cluster_->peer_url(1)));
  EXPECT_NE(taken.exit_code, 0);
  EXPECT_THAT(taken.output, HasSubstr("Peer URLs already exists"));

  CommandResult unknown = Etcdctl("member remove 1234abcd");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.output, HasSubstr("member not found"));

  CommandResult voter = Etcdctl("member promote " + IdOf(1));
  EXPECT_NE(voter.exit_code, 0);
  EXPECT_THAT(voter.output, HasSubstr("can only promote a learner member"));

  CommandResult bad_url = Etcdctl("member add bad --peer-urls=ftp://nowhere");
  EXPECT_NE(bad_url.exit_code, 0);

  EXPECT_EQ(Etcdctl("member list", cluster_->endpoint(0)).output, before);
}

TEST_F(MembershipTest, AddingVotersThatNeverStartStopsBeforeTheQuorumIsAtRisk) {
  spares_ = 3;
  StartCluster();
  // Three started voters stay a quorum of four and of five voters, but not of six (etcd's
  // strict reconfiguration check).
  for (int i = 3; i < 5; ++i) {
    CommandResult add = Etcdctl(
        absl::StrCat("member add ", cluster_->name(i), " --peer-urls=", cluster_->peer_url(i)));
    ASSERT_EQ(add.exit_code, 0) << add.output;
  }
  CommandResult sixth = Etcdctl(
      absl::StrCat("member add ", cluster_->name(5), " --peer-urls=", cluster_->peer_url(5)));
  EXPECT_NE(sixth.exit_code, 0);
  EXPECT_THAT(sixth.output, HasSubstr("not enough started members"));
  // A learner does not vote, so it can always be added.
  CommandResult learner = Etcdctl(absl::StrCat("member add ", cluster_->name(5),
                                               " --learner --peer-urls=", cluster_->peer_url(5)));
  EXPECT_EQ(learner.exit_code, 0) << learner.output;
  ASSERT_TRUE(PutVia(0, "still-writable", "1"));
}

TEST_F(MembershipTest, MoveLeaderHandsLeadershipToTheNamedMember) {
  StartCluster();
  const int leader = WaitForLeader();
  const int target = (leader + 2) % 3;
  const std::string target_id = IdOf(target);
  ASSERT_FALSE(target_id.empty());
  // etcdctl finds the leader among the endpoints and asks it.
  CommandResult move = Etcdctl("move-leader " + target_id);
  ASSERT_EQ(move.exit_code, 0) << move.output;
  EXPECT_THAT(move.output, HasSubstr("Leadership transferred from"));
  EXPECT_EQ(WaitForLeader(), target);
  ASSERT_TRUE(PutVia(target, "after-move", "1"));
  // Only the leader may transfer leadership, as in etcd.
  CommandResult from_follower = Etcdctl("move-leader " + IdOf(leader), cluster_->endpoint(leader));
  EXPECT_NE(from_follower.exit_code, 0);
}

TEST_F(MembershipTest, AMemberNotAddedFirstCannotJoin) {
  spares_ = 1;
  StartCluster();
  // Started with --initial-cluster-state existing but never added: it must refuse to start and
  // say what to do, instead of founding a cluster of its own.
  absl::Status started = cluster_->Start(3);
  EXPECT_TRUE(!started.ok() || Eventually([&] { return cluster_->Exited(3); }))
      << "a member that was never added kept running";
  CommandResult log = RunCommand("cat " + cluster_->log_path(3));
  EXPECT_THAT(log.output, HasSubstr("etcdctl member add"));
}

}  // namespace
}  // namespace raftkv::process_test
