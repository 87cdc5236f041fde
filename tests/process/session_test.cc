// Exactly-once writes against real raftkv-server processes: a put whose first attempt timed out
// at the client while the cluster still applied it is retried with the same client id and
// sequence, and the retry gets the first attempt's answer without the store revision moving
// again. The same steps without the session metadata apply the put twice, which shows what the
// first test would catch.
//
// The first attempt times out at the client for certain and is applied for certain: both
// followers are paused (SIGSTOP), so the leader takes the proposal but cannot commit it; the
// leader is paused too once it has proposed the entry (well before its own deadline would answer
// "request timed out"), so the client's deadline is what ends the call, with DEADLINE_EXCEEDED.
// Once all resume (well within an election timeout, so the leader keeps leading) the entry
// commits and applies.
#include <signal.h>

#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

class SessionTest : public ClusterTest {
 protected:
  // The store revision, read linearizably through member i.
  int64_t Revision(int i) {
    cli::EtcdClient client(cluster_->endpoint(i));
    absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get("any");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->header().revision() : -1;
  }

  mvccpb::KeyValue Key(int i, const std::string& key) {
    cli::EtcdClient client(cluster_->endpoint(i));
    absl::StatusOr<etcdserverpb::RangeResponse> r = client.Get(key);
    EXPECT_TRUE(r.ok() && r->kvs_size() == 1) << key;
    return r.ok() && r->kvs_size() == 1 ? r->kvs(0) : mvccpb::KeyValue();
  }

  // Puts `key` through the leader with a client deadline that passes while the cluster is
  // paused; returns once the cluster has applied the put anyway.
  void PutThatTimesOutButApplies(int leader, const std::string& key,
                                 std::optional<cli::SessionTag> session) {
    {
      PausedFollowers paused(*cluster_, leader);
      // The leader's driver answers "request timed out" two to three ticks (of 100 ms) after it
      // took the proposal; it is paused after one.
      std::thread pause_leader([&] {
        absl::SleepFor(absl::Milliseconds(120));
        ::kill(cluster_->pid(leader), SIGSTOP);
      });
      cli::EtcdClient impatient(cluster_->endpoint(leader), absl::Milliseconds(300));
      absl::StatusOr<etcdserverpb::PutResponse> first =
          impatient.Put(key, "v", /*prev_kv=*/false, /*lease=*/0, session);
      pause_leader.join();
      ::kill(cluster_->pid(leader), SIGCONT);
      ASSERT_EQ(first.status().code(), absl::StatusCode::kDeadlineExceeded) << first.status();
    }
    ASSERT_TRUE(Eventually([&] { return LocalValue(leader, key) == "v"; }))
        << "the timed-out put was never applied";
  }
};

TEST_F(SessionTest, ARetryAfterAClientTimeoutGetsTheFirstAnswerAndTheWriteAppliesOnce) {
  StartCluster();
  const int leader = WaitForLeader();
  ASSERT_GE(leader, 0);
  const int64_t before = Revision(leader);
  const cli::SessionTag tag = cli::ClientSession().NextWrite();

  PutThatTimesOutButApplies(leader, "once", tag);
  if (HasFatalFailure()) return;
  const mvccpb::KeyValue applied = Key(leader, "once");
  EXPECT_EQ(applied.mod_revision(), before + 1);

  // The retry goes where a client fails over to: another member.
  const int other = (leader + 1) % cluster_->size();
  cli::EtcdClient patient(cluster_->endpoint(other));
  absl::StatusOr<etcdserverpb::PutResponse> retry = patient.Put("once", "v", false, 0, tag);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->header().revision(), applied.mod_revision());  // the first answer's
  EXPECT_EQ(Revision(other), before + 1);
  EXPECT_EQ(Key(other, "once").version(), 1);
}

TEST_F(SessionTest, WithoutASessionTheSameRetryAppliesTwice) {
  StartCluster();
  const int leader = WaitForLeader();
  ASSERT_GE(leader, 0);
  const int64_t before = Revision(leader);

  PutThatTimesOutButApplies(leader, "twice", std::nullopt);
  if (HasFatalFailure()) return;

  const int other = (leader + 1) % cluster_->size();
  cli::EtcdClient patient(cluster_->endpoint(other));
  absl::StatusOr<etcdserverpb::PutResponse> retry = patient.Put("twice", "v");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->header().revision(), before + 2);
  EXPECT_EQ(Revision(other), before + 2);
  EXPECT_EQ(Key(other, "twice").version(), 2);
}

// `raftkv put` retries an attempt that timed out with the same sequence: with the followers
// paused for longer than several attempts' timeouts, each attempt's proposal waits in the
// leader's log, and once they resume every copy commits; the first applies, the others (and the
// attempt that finally gets an answer) are answered from the session.
TEST_F(SessionTest, TheRaftkvToolRetriesATimedOutPutWithTheSameSequence) {
  StartCluster();
  const int leader = WaitForLeader();
  ASSERT_GE(leader, 0);
  const int64_t before = Revision(leader);
  std::optional<PausedFollowers> paused(std::in_place, *cluster_, leader);
  BackgroundCommand put(absl::StrCat(RAFTKV_CLI_PATH, " put retried v --command-timeout 0.3",
                                     " --endpoints ", cluster_->endpoint(leader)),
                        absl::StrCat(data_dir_, "/put.out"));
  // Long enough for three attempts to time out, short of an election timeout.
  absl::SleepFor(absl::Milliseconds(900));
  paused.reset();
  ASSERT_TRUE(Eventually([&] { return put.Output() == "OK\n"; }, absl::Seconds(15)))
      << put.Output();
  EXPECT_EQ(Revision(leader), before + 1);
  EXPECT_EQ(Key(leader, "retried").version(), 1);
}

}  // namespace
}  // namespace raftkv::process_test
