// The key-value state on disk (--engine rocksdb, the default) across crashes: a member killed
// with SIGKILL reopens its state at the entry it applied last instead of replaying it, loses no
// acknowledged write, and ends up with the same state as the others, also when it is killed
// while installing a checkpoint the leader sent it; --engine memory still rebuilds its state
// from the log and catches up by snapshots that carry the state.
#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

class EngineTest : public ClusterTest {
 protected:
  std::string ReadLog(int i) {
    std::ifstream in(cluster_->log_path(i));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // The applied index member i's last start reported for its engine ("at applied index N"),
  // or -1 when it reported none.
  int64_t ReopenedAt(int i) {
    const std::string log = ReadLog(i);
    const size_t at = log.rfind("at applied index ");
    if (at == std::string::npos) return -1;
    const size_t begin = at + std::string_view("at applied index ").size();
    int64_t index = -1;
    if (!absl::SimpleAtoi(log.substr(begin, log.find(' ', begin) - begin), &index)) return -1;
    return index;
  }

  bool PutSomewhere(const std::string& key, const std::string& value) {
    return Eventually(
        [&] {
          for (int i = 0; i < cluster_->size(); ++i) {
            if (!cluster_->running(i)) continue;
            cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
            if (client.Put(key, value).ok()) return true;
          }
          return false;
        },
        absl::Seconds(30));
  }

  // Member i's HashKV at `revision`, or an error.
  absl::StatusOr<uint32_t> HashAt(int i, int64_t revision) {
    cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
    absl::StatusOr<etcdserverpb::HashKVResponse> hash = client.HashKV(revision);
    if (!hash.ok()) return hash.status();
    return hash->hash();
  }

  // How many lines of member i's log contain `text`.
  int CountInLog(int i, std::string_view text) {
    const std::string log = ReadLog(i);
    int count = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
      ++count;
    }
    return count;
  }

  // How many times member i's log says it received a snapshot as a checkpoint.
  int CheckpointsReceived(int i) { return CountInLog(i, "as a checkpoint of"); }

  // Every member at the same revision, with the same history there (HashKV).
  void ExpectTheMembersAgree() {
    int64_t revision = 0;
    ASSERT_TRUE(Eventually(
        [&] {
          std::vector<int64_t> revisions;
          for (int i = 0; i < 3; ++i) {
            cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
            absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
            if (!status.ok()) return false;
            revisions.push_back(status->header().revision());
          }
          revision = revisions[0];
          return revisions[1] == revision && revisions[2] == revision;
        },
        absl::Seconds(60)))
        << "the members did not converge on one revision";
    absl::StatusOr<uint32_t> first = HashAt(0, revision);
    ASSERT_TRUE(first.ok()) << first.status();
    for (int i = 1; i < 3; ++i) {
      absl::StatusOr<uint32_t> hash = HashAt(i, revision);
      ASSERT_TRUE(hash.ok()) << hash.status();
      EXPECT_EQ(*hash, *first) << "member " << i << " holds another history at revision "
                               << revision;
    }
  }
};

TEST_F(EngineTest, AKilledMemberReopensItsStateAtItsAppliedIndexInsteadOfReplayingIt) {
  StartCluster(/*snapshot_count=*/20);
  const int victim = (WaitForLeader() + 1) % 3;
  for (int k = 0; k < 60; ++k) ASSERT_TRUE(PutSomewhere(absl::StrCat("k", k), "v"));
  ASSERT_TRUE(Eventually([&] { return LocalValue(victim, "k59") == "v"; }));
  EXPECT_EQ(ReopenedAt(victim), 0) << "a fresh member's engine starts at index 0";
  cluster_->Kill(victim);
  ASSERT_TRUE(cluster_->Start(victim).ok());
  ASSERT_TRUE(Eventually([&] { return ReopenedAt(victim) > 0; }));
  // 60 puts and the founding entries: the state came back from the engine, not from the
  // snapshot (taken every 20 entries) and a replay.
  EXPECT_GE(ReopenedAt(victim), 60);
  // LocalValue is "" until the member serves clients again.
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "k0") == "v"; }));
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "k59") == "v"; }));
  EXPECT_FALSE(absl::StrContains(ReadLog(victim), "restored the state from a snapshot"));
  ASSERT_TRUE(PutSomewhere("after", "1"));
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "after") == "1"; }));
}

// A crash test: members are killed at random moments while clients write and compact and the
// members snapshot every few entries; no acknowledged write is lost, and once writes stop every
// member's engine holds the same history (HashKV).
TEST_F(EngineTest, MembersKilledAtRandomWhileApplyingLoseNothingAndAgreeAfterwards) {
  StartCluster(/*snapshot_count=*/25);
  WaitForLeader();
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::thread writer([&] {
    for (int k = 0; !stop.load(); ++k) {
      const std::string key = absl::StrCat("crash/", k);
      for (int i = 0; i < cluster_->size() && !stop.load(); ++i) {
        cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(2));
        if (client.Put(key, std::string(200, 'v')).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(key);
          break;
        }
      }
      if (k % 50 == 49) {
        // Compaction too: its apply rewrites history in the engine.
        for (int i = 0; i < cluster_->size(); ++i) {
          cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(2));
          absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
          if (status.ok() && status->header().revision() > 10) {
            Etcdctl(absl::StrCat("compact ", status->header().revision() - 5),
                    cluster_->endpoint(i));
            break;
          }
        }
      }
    }
  });
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 700));
    const int victim = static_cast<int>(random() % 3);
    cluster_->Kill(victim);
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 500));
    ASSERT_TRUE(cluster_->Start(victim).ok());
    ASSERT_GE(WaitForLeader(), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  writer.join();
  ASSERT_GT(acknowledged.size(), 20u) << "too few writes went through to test anything";

  // Every member reaches the same revision and the same history at it.
  int64_t revision = 0;
  ASSERT_TRUE(Eventually([&] {
    std::vector<int64_t> revisions;
    for (int i = 0; i < 3; ++i) {
      cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
      absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
      if (!status.ok()) return false;
      revisions.push_back(status->header().revision());
    }
    revision = revisions[0];
    return revisions[1] == revision && revisions[2] == revision;
  }, absl::Seconds(60))) << "the members did not converge on one revision";
  absl::StatusOr<uint32_t> first = HashAt(0, revision);
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 1; i < 3; ++i) {
    absl::StatusOr<uint32_t> hash = HashAt(i, revision);
    ASSERT_TRUE(hash.ok()) << hash.status();
    EXPECT_EQ(*hash, *first) << "member " << i << " holds another history at revision " << revision;
  }
  for (int m = 0; m < 3; ++m) {
    CommandResult get = Etcdctl("get crash/ --prefix --keys-only", cluster_->endpoint(m));
    ASSERT_EQ(get.exit_code, 0) << get.output;
    for (const std::string& key : acknowledged) {
      EXPECT_TRUE(absl::StrContains(get.output, key + "\n")) << key << " lost on member " << m;
    }
  }
}

// A member killed with SIGKILL while a compaction of a long history deletes the old versions:
// the engine does that in bounded walks inside the commits of the entries that follow (1,000
// revision log records each). Restarted, the member resumes the walk where its last commit left
// it, agrees with the others on the revision and the history (HashKV), answers reads below the
// compaction as compacted and keeps every later write. The first round kills the leader as
// soon as it answered the compaction, before any later entry: its walk is certainly unfinished
// (10,000 records), and its restart says so. The later rounds kill a member at random within
// 40 ms while writes go on: before, inside or after its walk.
TEST_F(EngineTest, AMemberKilledWhileACompactionIsDeletingOldVersionsResumesAndAgrees) {
  StartCluster();
  ASSERT_GE(WaitForLeader(), 0);
  std::mt19937 random(std::random_device{}());
  // One txn of 100 puts is one revision but 100 records of the revision log for the walk.
  auto overwrite = [&](int round, int pass) {
    etcdserverpb::TxnRequest txn;
    for (int k = 0; k < 100; ++k) {
      etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
      put->set_key(absl::StrCat("compact/", pass % 50, "/", k));
      put->set_value(absl::StrCat("round ", round, " pass ", pass));
    }
    return Eventually(
        [&] {
          // Any member: one killed meanwhile refuses the connection at once.
          for (int i = 0; i < cluster_->size(); ++i) {
            cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(3));
            if (client.Txn(txn).ok()) return true;
          }
          return false;
        },
        absl::Seconds(30));
  };
  const std::string kResumed = "is still deleting old versions";
  for (int round = 0; round < 3; ++round) {
    // 100 txns: 10,000 records; each key is written twice in the round.
    for (int pass = 0; pass < 100; ++pass) ASSERT_TRUE(overwrite(round, pass));
    const int leader = WaitForLeader();
    ASSERT_GE(leader, 0);
    cli::EtcdClient client(cluster_->endpoint(leader), absl::Seconds(5));
    absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
    ASSERT_TRUE(status.ok()) << status.status();
    const int64_t compact_at = status->header().revision() - 10;
    ASSERT_TRUE(client.Compact(compact_at).ok());
    const int victim = round == 0 ? leader : static_cast<int>(random() % 3);
    const int resumed_before = CountInLog(victim, kResumed);
    std::atomic<bool> written{true};
    std::thread writer;
    if (round == 0) {
      cluster_->Kill(victim);
    } else {
      // The walk needs entries to advance: keep writing while the victim dies.
      writer = std::thread([&] {
        for (int pass = 100; pass < 110; ++pass) written = overwrite(round, pass) && written;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
      cluster_->Kill(victim);
      writer.join();
    }
    ASSERT_TRUE(cluster_->Start(victim).ok());
    ASSERT_GE(WaitForLeader(), 0);
    if (round == 0) {
      EXPECT_EQ(CountInLog(victim, kResumed), resumed_before + 1)
          << "the leader killed right after the compaction reopened without a walk to resume";
      for (int pass = 100; pass < 110; ++pass) ASSERT_TRUE(overwrite(round, pass));
    }
    ASSERT_TRUE(written.load()) << "a txn after the compaction never went through";
    ExpectTheMembersAgree();
    CommandResult old = Etcdctl(absl::StrCat("get compact/0/0 --rev=", compact_at - 1),
                                cluster_->endpoint(victim));
    EXPECT_NE(old.exit_code, 0) << old.output;
    EXPECT_TRUE(absl::StrContains(old.output, "required revision has been compacted"))
        << old.output;
    // Written by the last txn, after the compaction.
    CommandResult now = Etcdctl("get compact/9/99 --print-value-only", cluster_->endpoint(victim));
    ASSERT_EQ(now.exit_code, 0) << now.output;
    EXPECT_EQ(now.output, absl::StrCat("round ", round, " pass 109\n"));
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(absl::StrContains(ReadLog(i), "must stop")) << "member " << i;
  }
}

// The walk that deletes a compaction's old versions needs no later entries: an idle member goes
// on with it between passes and ticks (killed a few seconds after the compaction, with no write
// since, it has nothing to resume). A compaction with etcd's `physical` flag is answered only
// once the answering member has deleted them (killed right after the answer, it has nothing to
// resume either; the round 0 above shows what a kill right after a plain compaction finds).
TEST_F(EngineTest, AnIdleMemberFinishesDeletingOldVersionsAndAPhysicalCompactionWaitsForIt) {
  StartCluster();
  const std::string kResumed = "is still deleting old versions";
  // 100 txns of 100 puts over 50 prefixes: 10,000 revision log records, half of them history.
  auto write_history = [&](int round) {
    for (int pass = 0; pass < 100; ++pass) {
      etcdserverpb::TxnRequest txn;
      for (int k = 0; k < 100; ++k) {
        etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
        put->set_key(absl::StrCat("idle/", pass % 50, "/", k));
        put->set_value(absl::StrCat("round ", round, " pass ", pass));
      }
      ASSERT_TRUE(Eventually(
          [&] {
            cli::EtcdClient client(cluster_->endpoint(WaitForLeader()), absl::Seconds(3));
            return client.Txn(txn).ok();
          },
          absl::Seconds(30)));
    }
  };
  auto compact = [&](int member, bool physical) {
    cli::EtcdClient client(cluster_->endpoint(member), absl::Seconds(30));
    absl::StatusOr<etcdserverpb::StatusResponse> status = client.Status();
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return;
    absl::StatusOr<etcdserverpb::CompactionResponse> compacted =
        client.Compact(status->header().revision() - 10, physical);
    EXPECT_TRUE(compacted.ok()) << compacted.status();
  };
  // Restarts member i and waits until it serves: its start-up lines are in its log by then.
  auto restart = [&](int i) {
    cluster_->Kill(i);
    ASSERT_TRUE(cluster_->Start(i).ok());
    ASSERT_TRUE(Eventually(
        [&] { return cli::EtcdClient(cluster_->endpoint(i), absl::Seconds(1)).Status().ok(); },
        absl::Seconds(30)));
    ASSERT_GE(CountInLog(i, "key-value engine: rocksdb"), 2);
  };

  write_history(0);
  ASSERT_FALSE(HasFatalFailure());
  const int leader = WaitForLeader();
  compact(leader, /*physical=*/false);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const int follower = (leader + 1) % 3;
  const int follower_resumed = CountInLog(follower, kResumed);
  restart(follower);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(CountInLog(follower, kResumed), follower_resumed)
      << "an idle member left the old versions of a compaction on disk";

  write_history(1);
  ASSERT_FALSE(HasFatalFailure());
  const int answering = WaitForLeader();
  ASSERT_GE(answering, 0);
  const int answering_resumed = CountInLog(answering, kResumed);
  compact(answering, /*physical=*/true);
  restart(answering);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(CountInLog(answering, kResumed), answering_resumed)
      << "a physical compaction was answered before the member deleted the old versions";
  ExpectTheMembersAgree();
}

// A member killed with SIGKILL while (or just after) it installs a checkpoint the leader sent,
// with writes going on meanwhile: it comes back with every acknowledged write and the history
// the others have.
TEST_F(EngineTest, AMemberKilledWhileInstallingACheckpointComesBackWithEveryWrite) {
  StartCluster(/*snapshot_count=*/20);
  const int victim = (WaitForLeader() + 1) % 3;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::thread writer([&] {
    for (int k = 0; !stop.load(); ++k) {
      const std::string key = absl::StrCat("install/", k);
      for (int i = 0; i < cluster_->size() && !stop.load(); ++i) {
        if (i == victim) continue;
        cli::EtcdClient client(cluster_->endpoint(i), absl::Seconds(2));
        if (client.Put(key, std::string(100, 'v')).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(key);
          break;
        }
      }
    }
  });
  auto acknowledged_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    cluster_->Kill(victim);
    // Enough entries for the leader to compact past where the victim stopped.
    const size_t before = acknowledged_count();
    ASSERT_TRUE(Eventually([&] { return acknowledged_count() >= before + 80; }, absl::Seconds(60)));
    const int received_before = CheckpointsReceived(victim);
    ASSERT_TRUE(cluster_->Start(victim).ok());
    ASSERT_TRUE(Eventually([&] { return CheckpointsReceived(victim) > received_before; },
                           absl::Seconds(30)))
        << "round " << round << ": the victim did not receive a checkpoint";
    // The install follows the receipt within milliseconds: die in it, or just after it.
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 20));
    cluster_->Kill(victim);
    ASSERT_TRUE(cluster_->Start(victim).ok());
    ASSERT_GE(WaitForLeader(), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  writer.join();
  ExpectTheMembersAgree();
  CommandResult get = Etcdctl("get install/ --prefix --keys-only", cluster_->endpoint(victim));
  ASSERT_EQ(get.exit_code, 0) << get.output;
  for (const std::string& key : acknowledged) {
    EXPECT_TRUE(absl::StrContains(get.output, key + "\n")) << key << " lost on the victim";
  }
  EXPECT_FALSE(absl::StrContains(ReadLog(victim), "must stop"))
      << "the victim failed to install a snapshot";
}

// The leader killed with SIGKILL while it sends a lagging follower the checkpoint of its state
// (just after making it, in the middle of the stream, or just after): the follower is left with
// a partial copy or with nothing, the next leader sends it a checkpoint of its own, and nothing
// acknowledged is lost.
TEST_F(EngineTest, ALeaderKilledWhileSendingACheckpointLeavesTheFollowerToTheNextLeader) {
  StartCluster(/*snapshot_count=*/20);
  const int leader = WaitForLeader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  cluster_->Kill(follower);
  // Values that do not compress, so that the stream takes a while (about 25 MB).
  std::mt19937 random(std::random_device{}());
  std::vector<std::string> keys;
  for (int k = 0; k < 400; ++k) {
    std::string value(64 << 10, ' ');
    for (char& c : value) c = static_cast<char>('!' + random() % 90);
    const std::string key = absl::StrCat("send/", k);
    ASSERT_TRUE(PutSomewhere(key, value)) << key;
    keys.push_back(key);
  }
  const std::string_view made = "for the snapshot at index";
  const int made_before = CountInLog(leader, made);
  ASSERT_TRUE(cluster_->Start(follower).ok());
  ASSERT_TRUE(Eventually([&] { return CountInLog(leader, made) > made_before; },
                         absl::Seconds(30)))
      << "the leader did not make a checkpoint for the follower";
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 60));
  cluster_->Kill(leader);
  EXPECT_TRUE(Eventually([&] { return !LocalValue(follower, keys.back()).empty(); },
                         absl::Seconds(60)))
      << "the follower did not catch up from the next leader";
  ASSERT_TRUE(cluster_->Start(leader).ok());
  ExpectTheMembersAgree();
  CommandResult get = Etcdctl("get send/ --prefix --keys-only", cluster_->endpoint(follower));
  ASSERT_EQ(get.exit_code, 0) << get.output;
  for (const std::string& key : keys) {
    EXPECT_TRUE(absl::StrContains(get.output, key + "\n")) << key << " missing on the follower";
  }
  EXPECT_FALSE(absl::StrContains(ReadLog(follower), "must stop"));
}

// Members that keep their state in memory snapshot it inline, as before there were engines on
// disk: a member that missed a compacted stretch still catches up by snapshot.
TEST_F(EngineTest, MembersInMemoryCatchUpByASnapshotThatCarriesTheState) {
  extra_server_args_ = {"--engine", "memory"};
  StartCluster(/*snapshot_count=*/20);
  const int victim = (WaitForLeader() + 1) % 3;
  cluster_->Kill(victim);
  for (int k = 0; k < 150; ++k) ASSERT_TRUE(PutSomewhere(absl::StrCat("m", k), "v"));
  ASSERT_TRUE(cluster_->Start(victim).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "m149") == "v"; }));
  EXPECT_EQ(LocalValue(victim, "m0"), "v");
  const std::string log = ReadLog(victim);
  EXPECT_TRUE(absl::StrContains(log, "restored the state from a snapshot"))
      << "the victim caught up from the log instead of a snapshot";
  EXPECT_TRUE(absl::StrContains(log, "received snapshot at index"));
  EXPECT_FALSE(absl::StrContains(log, "as a checkpoint of"))
      << "a state in memory was sent as checkpoint files";
  ExpectTheMembersAgree();
}

TEST_F(EngineTest, TheMemoryEngineRebuildsItsStateFromTheLogOnRestart) {
  extra_server_args_ = {"--engine", "memory"};
  StartCluster(/*snapshot_count=*/20);
  const int victim = (WaitForLeader() + 1) % 3;
  for (int k = 0; k < 50; ++k) ASSERT_TRUE(PutSomewhere(absl::StrCat("m", k), "v"));
  ASSERT_TRUE(Eventually([&] { return LocalValue(victim, "m49") == "v"; }));
  cluster_->Kill(victim);
  ASSERT_TRUE(cluster_->Start(victim).ok());
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "m0") == "v"; }));
  EXPECT_TRUE(Eventually([&] { return LocalValue(victim, "m49") == "v"; }));
  EXPECT_TRUE(absl::StrContains(ReadLog(victim), "key-value engine: memory"));
  EXPECT_EQ(ReopenedAt(victim), -1);
}

TEST_F(EngineTest, AnUnknownEngineIsRefusedWithTheChoices) {
  CommandResult run = RunCommand(absl::StrCat(RAFTKV_SERVER_PATH, " --engine bbolt 2>&1"));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(run.output, "--engine")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "rocksdb")) << run.output;
}

}  // namespace
}  // namespace raftkv::process_test
