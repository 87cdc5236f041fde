#include "transport/grpc_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "raftkv/peerpb/peer.grpc.pb.h"

namespace raftkv::transport {
namespace {

// Records what a transport delivers, for tests that wait on it with a deadline.
class RecordingReceiver final : public Receiver {
 public:
  void Receive(std::vector<raftpb::Message> messages) override {
    absl::MutexLock lock(&mu_);
    for (auto& m : messages) received_.push_back(std::move(m));
  }
  void ReportUnreachable(uint64_t peer_id) override {
    absl::MutexLock lock(&mu_);
    ++unreachable_[peer_id];
  }
  void ReportSnapshot(uint64_t peer_id, bool delivered) override {
    absl::MutexLock lock(&mu_);
    snapshot_reports_.push_back(delivered);
  }
  void ReportRemovedFromCluster(uint64_t peer_id) override {
    absl::MutexLock lock(&mu_);
    removed_by_.push_back(peer_id);
  }

  // Waits until `done` holds (checked under the lock) or the timeout passes.
  bool WaitFor(std::function<bool(RecordingReceiver&)> done,
               absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(*this); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }

  void Clear() {
    absl::MutexLock lock(&mu_);
    received_.clear();
  }

  std::vector<raftpb::Message> received_;
  std::map<uint64_t, int> unreachable_;
  std::vector<bool> snapshot_reports_;
  std::vector<uint64_t> removed_by_;

  absl::Mutex& mu() { return mu_; }

 private:
  absl::Mutex mu_;
};

raftpb::Message Heartbeat(uint64_t from, uint64_t to, uint64_t commit) {
  raftpb::Message m;
  m.set_msg_type(raftpb::MSG_HEARTBEAT);
  m.set_from(from);
  m.set_to(to);
  m.set_commit(commit);
  return m;
}

struct Member {
  Member(uint64_t cluster_id, uint64_t id,
         const std::function<void(GrpcTransportOptions&)>& configure = {}) {
    GrpcTransportOptions options;
    options.cluster_id = cluster_id;
    options.local_id = id;
    options.snapshot_chunk_bytes = 64 << 10;
    if (configure) configure(options);
    transport = std::make_unique<GrpcTransport>(options, &receiver);
    absl::StatusOr<int> bound = transport->Start("127.0.0.1:0");
    EXPECT_TRUE(bound.ok()) << bound.status();
    port = bound.value_or(0);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }

  RecordingReceiver receiver;
  std::unique_ptr<GrpcTransport> transport;
  int port = 0;
};

// Sends heartbeats the way a leader does, until the sender reports `to` unreachable.
bool HeartbeatUntilUnreachable(Member& from, uint64_t from_id, uint64_t to) {
  auto unreachable = [to](auto& r) { return r.unreachable_[to] > 0; };
  for (int i = 0; i < 200; ++i) {
    from.transport->Send({Heartbeat(from_id, to, 1)});
    if (from.receiver.WaitFor(unreachable, absl::Milliseconds(50))) return true;
  }
  return false;
}

// Connects a and b both ways and waits until a's stream to b carries traffic. The first
// connection attempt may fail on a loaded machine; like raft, the test keeps sending until a
// heartbeat gets through, and then forgets the warm-up traffic.
void Connect(Member& a, uint64_t a_id, Member& b, uint64_t b_id) {
  a.transport->AddPeer(b_id, b.address());
  b.transport->AddPeer(a_id, a.address());
  auto got_one = [](auto& r) { return !r.received_.empty(); };
  for (int i = 0; i < 200 && !b.receiver.WaitFor(got_one, absl::Milliseconds(50)); ++i) {
    a.transport->Send({Heartbeat(a_id, b_id, 0)});
  }
  ASSERT_TRUE(b.receiver.WaitFor(got_one));
  // Let stragglers of the warm-up arrive, then start from a clean slate.
  b.receiver.WaitFor([](auto&) { return false; }, absl::Milliseconds(100));
  b.receiver.Clear();
}

TEST(GrpcTransportTest, DeliversMessagesInOrder) {
  Member a(7, 1), b(7, 2);
  Connect(a, 1, b, 2);
  std::vector<raftpb::Message> batch;
  for (uint64_t i = 1; i <= 100; ++i) batch.push_back(Heartbeat(1, 2, i));
  a.transport->Send(std::move(batch));
  ASSERT_TRUE(b.receiver.WaitFor([](auto& r) { return r.received_.size() == 100; }));
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(b.receiver.received_[i].commit(), i + 1);
}

TEST(GrpcTransportTest, StreamsALargeSnapshotInChunksAndReportsSuccess) {
  Member a(7, 1), b(7, 2);
  Connect(a, 1, b, 2);
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->mutable_metadata()->set_index(1000);
  std::string data(5 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  snap.mutable_snapshot()->set_data(data);
  a.transport->Send({snap});
  ASSERT_TRUE(b.receiver.WaitFor([](auto& r) { return r.received_.size() == 1; }));
  EXPECT_EQ(b.receiver.received_[0].snapshot().data(), data);
  EXPECT_EQ(b.receiver.received_[0].snapshot().metadata().index(), 1000u);
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.snapshot_reports_.size() == 1; }));
  EXPECT_TRUE(a.receiver.snapshot_reports_[0]);
}

TEST(GrpcTransportTest, RefusesASnapshotAboveTheReceiversLimitAndReportsItFailed) {
  Member a(7, 1);
  Member b(7, 2, [](GrpcTransportOptions& o) { o.max_snapshot_bytes = 1 << 20; });
  Connect(a, 1, b, 2);
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->mutable_metadata()->set_index(1000);
  snap.mutable_snapshot()->set_data(std::string(2 << 20, 'x'));
  a.transport->Send({snap});
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.snapshot_reports_.size() == 1; }));
  EXPECT_FALSE(a.receiver.snapshot_reports_[0]);
  absl::MutexLock lock(&b.receiver.mu());
  EXPECT_TRUE(b.receiver.received_.empty());
}

// A source whose every snapshot is a reference: Make writes the files of a "checkpoint" into a
// fresh directory, Release removes it.
class FileSource final : public CheckpointSource {
 public:
  explicit FileSource(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<std::optional<CheckpointFiles>> Make(const raftpb::Snapshot& snapshot) override {
    if (!fail_with.ok()) return fail_with;
    CheckpointFiles checkpoint;
    checkpoint.dir = absl::StrCat(dir_, "/send-", made_.fetch_add(1));
    std::filesystem::create_directories(checkpoint.dir);
    for (const auto& [name, contents] : files) {
      std::ofstream(checkpoint.dir + "/" + name, std::ios::binary) << contents;
      checkpoint.files.push_back({name, contents.size()});
    }
    checkpoint.index = snapshot.metadata().index() + 5;
    checkpoint.snapshot_data = "reference to " + std::to_string(checkpoint.index);
    return checkpoint;
  }
  absl::StatusOr<std::optional<std::string>> Retarget(const raftpb::Snapshot&,
                                                      uint64_t index) override {
    return "reference to " + std::to_string(index);
  }
  void Release(const CheckpointFiles& checkpoint) override {
    std::filesystem::remove_all(checkpoint.dir);
    released_.fetch_add(1);
  }
  int released() const { return released_.load(); }
  int made() const { return made_.load(); }

  std::map<std::string, std::string> files;
  absl::Status fail_with;

 private:
  const std::string dir_;
  std::atomic<int> made_{0};
  std::atomic<int> released_{0};
};

std::string TempDirectory() {
  std::string pattern = "/tmp/raftkv-transport-XXXXXX";
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(GrpcTransportTest, StreamsTheFilesOfACheckpointToTheReceiversDirectory) {
  const std::string sender_dir = TempDirectory();
  const std::string receiver_dir = TempDirectory();
  FileSource source(sender_dir);
  std::string table(3 << 20, '\0');
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<char>(i % 253);
  source.files = {{"000012.sst", table}, {"CURRENT", "MANIFEST-000005\n"}, {"EMPTY", ""}};
  Member a(7, 1, [&](GrpcTransportOptions& o) { o.checkpoint_source = &source; });
  Member b(7, 2, [&](GrpcTransportOptions& o) { o.received_checkpoints.dir = receiver_dir; });
  Connect(a, 1, b, 2);
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->mutable_metadata()->set_index(1000);
  snap.mutable_snapshot()->set_data("the leader's own reference");
  a.transport->Send({snap});
  ASSERT_TRUE(b.receiver.WaitFor([](auto& r) { return r.received_.size() == 1; }));
  EXPECT_EQ(b.receiver.received_[0].snapshot().data(), "reference to 1005");
  EXPECT_EQ(b.receiver.received_[0].snapshot().metadata().index(), 1000u);
  const std::string kept = ReceivedCheckpointPath(receiver_dir, 1005);
  EXPECT_EQ(ReadFile(kept + "/000012.sst"), table);
  EXPECT_EQ(ReadFile(kept + "/CURRENT"), "MANIFEST-000005\n");
  EXPECT_TRUE(std::filesystem::exists(kept + "/EMPTY"));
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.snapshot_reports_.size() == 1; }));
  EXPECT_TRUE(a.receiver.snapshot_reports_[0]);
  EXPECT_EQ(source.released(), 1) << "the sender's checkpoint was not released";
  EXPECT_TRUE(std::filesystem::is_empty(sender_dir));
  std::filesystem::remove_all(sender_dir);
  std::filesystem::remove_all(receiver_dir);
}

TEST(GrpcTransportTest, ASnapshotWhoseCheckpointCannotBeMadeIsReportedFailed) {
  const std::string sender_dir = TempDirectory();
  FileSource source(sender_dir);
  source.fail_with = absl::InternalError("injected: no checkpoint");
  Member a(7, 1, [&](GrpcTransportOptions& o) { o.checkpoint_source = &source; });
  Member b(7, 2);
  Connect(a, 1, b, 2);
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->set_data("a reference");
  a.transport->Send({snap});
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.snapshot_reports_.size() == 1; }));
  EXPECT_FALSE(a.receiver.snapshot_reports_[0]);
  std::filesystem::remove_all(sender_dir);
}

TEST(GrpcTransportTest, AMemberThatKeepsNoCheckpointsRefusesThemAndTheSenderIsTold) {
  const std::string sender_dir = TempDirectory();
  FileSource source(sender_dir);
  source.files = {{"CURRENT", "x"}};
  Member a(7, 1, [&](GrpcTransportOptions& o) { o.checkpoint_source = &source; });
  Member b(7, 2);
  Connect(a, 1, b, 2);
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->set_data("a reference");
  a.transport->Send({snap});
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.snapshot_reports_.size() == 1; }));
  EXPECT_FALSE(a.receiver.snapshot_reports_[0]);
  EXPECT_EQ(source.released(), 1);
  absl::MutexLock lock(&b.receiver.mu());
  EXPECT_TRUE(b.receiver.received_.empty());
  std::filesystem::remove_all(sender_dir);
}

// A TCP proxy in front of a member's peer listener, which cuts the connection once a given
// number of bytes went from the client through it: a stream that breaks midway, as a network
// does. It counts the bytes it forwarded from the client.
class CuttingProxy {
 public:
  explicit CuttingProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    accepter_ = std::thread([this] { Accept(); });
  }
  ~CuttingProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    accepter_.join();
    ::close(listen_fd_);
    std::vector<std::thread> pumps;
    {
      absl::MutexLock lock(&mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
      pumps.swap(pumps_);
    }
    for (std::thread& pump : pumps) pump.join();
    for (int fd : fds_) ::close(fd);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // The connection is cut once `bytes` more went from the client; later ones are left alone.
  void CutAfter(uint64_t bytes) {
    absl::MutexLock lock(&mu_);
    budget_ = static_cast<int64_t>(bytes);
  }
  uint64_t forwarded() {
    absl::MutexLock lock(&mu_);
    return forwarded_;
  }

 private:
  void Accept() {
    while (true) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_port_));
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(server);
        ::close(client);
        continue;
      }
      absl::MutexLock lock(&mu_);
      fds_.push_back(client);
      fds_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server, /*from_client=*/true); });
      pumps_.emplace_back([this, client, server] { Pump(server, client, /*from_client=*/false); });
    }
  }

  void Pump(int from, int to, bool from_client) {
    std::vector<char> buffer(16 << 10);
    while (true) {
      const ssize_t n = ::read(from, buffer.data(), buffer.size());
      if (n <= 0) break;
      size_t pass = static_cast<size_t>(n);
      bool cut = false;
      if (from_client) {
        absl::MutexLock lock(&mu_);
        if (budget_ >= 0 && static_cast<int64_t>(pass) >= budget_) {
          pass = static_cast<size_t>(budget_);
          budget_ = -1;
          cut = true;
        } else if (budget_ >= 0) {
          budget_ -= static_cast<int64_t>(pass);
        }
        forwarded_ += pass;
      }
      for (size_t done = 0; done < pass;) {
        // Not write(2): a peer that closed first must not raise SIGPIPE in the test.
        const ssize_t w = ::send(to, buffer.data() + done, pass - done, MSG_NOSIGNAL);
        if (w <= 0) break;
        done += static_cast<size_t>(w);
      }
      if (cut) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accepter_;
  absl::Mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
  int64_t budget_ = -1;
  uint64_t forwarded_ = 0;
};

raftpb::Message SnapshotReference(uint64_t index) {
  raftpb::Message snap;
  snap.set_msg_type(raftpb::MSG_SNAPSHOT);
  snap.set_from(1);
  snap.set_to(2);
  snap.mutable_snapshot()->mutable_metadata()->set_index(index);
  snap.mutable_snapshot()->set_data("the leader's own reference");
  return snap;
}

// A leader whose snapshots to member 2 pass through a proxy that can cut them, and a follower
// that keeps checkpoints in a directory of its own.
struct CheckpointLink {
  explicit CheckpointLink(absl::Duration keep_checkpoint_for = absl::Minutes(5))
      : sender_dir(TempDirectory()),
        receiver_dir(TempDirectory()),
        source(sender_dir),
        a(7, 1,
          [&](GrpcTransportOptions& o) {
            o.checkpoint_source = &source;
            o.keep_checkpoint_for = keep_checkpoint_for;
          }),
        b(7, 2, [&](GrpcTransportOptions& o) { o.received_checkpoints.dir = receiver_dir; }),
        proxy(b.port) {
    table.resize(8 << 20);
    for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<char>(i % 253);
    source.files = {{"000012.sst", table}, {"CURRENT", "MANIFEST-000005\n"}};
    a.transport->AddPeer(2, proxy.address());
    b.transport->AddPeer(1, a.address());
    auto got_one = [](auto& r) { return !r.received_.empty(); };
    for (int i = 0; i < 200 && !b.receiver.WaitFor(got_one, absl::Milliseconds(50)); ++i) {
      a.transport->Send({Heartbeat(1, 2, 0)});
    }
    EXPECT_TRUE(b.receiver.WaitFor(got_one));
    b.receiver.WaitFor([](auto&) { return false; }, absl::Milliseconds(100));
    b.receiver.Clear();
  }
  ~CheckpointLink() {
    a.transport->Stop();
    b.transport->Stop();
    std::filesystem::remove_all(sender_dir);
    std::filesystem::remove_all(receiver_dir);
  }

  // Sends the snapshot once and waits for the sender's report of it.
  bool SendOnce(uint64_t index) {
    size_t reports;
    {
      absl::MutexLock lock(&a.receiver.mu());
      reports = a.receiver.snapshot_reports_.size();
    }
    a.transport->Send({SnapshotReference(index)});
    EXPECT_TRUE(a.receiver.WaitFor(
        [reports](auto& r) { return r.snapshot_reports_.size() == reports + 1; }));
    absl::MutexLock lock(&a.receiver.mu());
    return a.receiver.snapshot_reports_.back();
  }
  // Sends the snapshot once with the connection cut after `bytes`: the transfer fails.
  void SendBrokenAfter(uint64_t index, uint64_t bytes) {
    proxy.CutAfter(bytes);
    EXPECT_FALSE(SendOnce(index));
  }
  // Sends the snapshot until it is delivered, as raft does.
  void SendUntilDelivered(uint64_t index) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (SendOnce(index)) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "the snapshot at " << index << " was never delivered";
  }
  // The bytes the follower holds of the checkpoint the leader keeps, once no transfer writes it.
  uint64_t HeldByFollower(uint64_t index, uint64_t transfer_id) {
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<uint64_t> held =
          HeldCheckpointBytes(b.transport->options().received_checkpoints, index, transfer_id);
      if (held.ok()) return *held;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "the follower's partial copy stayed in use";
    return 0;
  }
  // The transfer id in the name of the follower's partial copy.
  uint64_t PartialTransferId(uint64_t index) {
    const std::string prefix =
        PartialCheckpointPath(receiver_dir, index, 0).substr(receiver_dir.size() + 1);
    const std::string stem = prefix.substr(0, prefix.size() - 16);
    for (const auto& entry : std::filesystem::directory_iterator(receiver_dir)) {
      const std::string name = entry.path().filename();
      if (name.starts_with(stem) && !name.ends_with(".manifest")) {
        return std::stoull(name.substr(stem.size()), nullptr, 16);
      }
    }
    return 0;
  }

  const std::string sender_dir;
  const std::string receiver_dir;
  FileSource source;
  Member a;
  Member b;
  CuttingProxy proxy;
  std::string table;
};

TEST(GrpcTransportTest, ACheckpointStreamThatBrokeResumesWhereTheReceiverStoppedAndSendsTheRest) {
  CheckpointLink link;
  const uint64_t total = link.table.size() + std::string("MANIFEST-000005\n").size();
  link.SendBrokenAfter(1000, 6 << 20);
  EXPECT_EQ(link.source.released(), 0) << "the checkpoint of a broken transfer must be kept";
  const uint64_t id = link.PartialTransferId(1005);
  ASSERT_NE(id, 0u) << "the follower kept no partial copy";
  const uint64_t held = link.HeldByFollower(1005, id);
  ASSERT_GT(held, 0u);
  ASSERT_LT(held, total);

  const uint64_t before = link.proxy.forwarded();
  link.SendUntilDelivered(1000);
  const uint64_t sent = link.proxy.forwarded() - before;
  EXPECT_GE(sent, total - held);
  EXPECT_LT(sent, total - held + (256 << 10)) << "more than the missing bytes went again";
  EXPECT_EQ(link.source.made(), 1) << "the kept checkpoint was not reused";
  ASSERT_TRUE(link.b.receiver.WaitFor([](auto& r) { return r.received_.size() == 1; }));
  EXPECT_EQ(link.b.receiver.received_[0].snapshot().data(), "reference to 1005");
  const std::string kept = ReceivedCheckpointPath(link.receiver_dir, 1005);
  EXPECT_EQ(ReadFile(kept + "/000012.sst"), link.table);
  EXPECT_EQ(ReadFile(kept + "/CURRENT"), "MANIFEST-000005\n");
  EXPECT_EQ(link.source.released(), 1) << "a delivered checkpoint must be released";
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(link.receiver_dir)) {
    left.push_back(entry.path().filename());
  }
  EXPECT_EQ(left, std::vector<std::string>{"snap-recv-00000000000003ed"});
}

TEST(GrpcTransportTest, AKeptCheckpointServesAnOlderSnapshotAndANewerOneGetsItsOwn) {
  CheckpointLink link;
  link.SendBrokenAfter(1000, 2 << 20);  // the checkpoint is at 1005
  // Raft's next snapshot may be older than the checkpoint (another leader's term, a retry):
  // the kept checkpoint still serves it, its reference retargeted to 1005.
  link.SendBrokenAfter(1003, 1 << 20);
  EXPECT_EQ(link.source.made(), 1);
  EXPECT_EQ(link.source.released(), 0);
  // A snapshot past the checkpoint needs a newer state: a new checkpoint replaces the kept one.
  link.SendUntilDelivered(1010);
  EXPECT_EQ(link.source.made(), 2);
  EXPECT_EQ(link.source.released(), 2);
  ASSERT_TRUE(link.b.receiver.WaitFor([](auto& r) { return r.received_.size() == 1; }));
  EXPECT_EQ(link.b.receiver.received_[0].snapshot().metadata().index(), 1010u);
  EXPECT_EQ(link.b.receiver.received_[0].snapshot().data(), "reference to 1015");
  EXPECT_EQ(ReadFile(ReceivedCheckpointPath(link.receiver_dir, 1015) + "/000012.sst"), link.table);
  EXPECT_FALSE(std::filesystem::exists(ReceivedCheckpointPath(link.receiver_dir, 1005)));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(link.receiver_dir), {}), 1)
      << "the partial copy of the replaced checkpoint was left behind";
}

TEST(GrpcTransportTest, AKeptCheckpointServesARetriedSnapshotAtItsOwnIndex) {
  CheckpointLink link;
  link.SendBrokenAfter(1000, 2 << 20);
  link.SendUntilDelivered(1005);
  EXPECT_EQ(link.source.made(), 1);
  ASSERT_TRUE(link.b.receiver.WaitFor([](auto& r) { return r.received_.size() == 1; }));
  EXPECT_EQ(link.b.receiver.received_[0].snapshot().metadata().index(), 1005u);
  EXPECT_EQ(link.b.receiver.received_[0].snapshot().data(), "reference to 1005");
}

TEST(GrpcTransportTest, AKeptCheckpointIsReleasedWhenItsTimeIsUp) {
  CheckpointLink link(/*keep_checkpoint_for=*/absl::Milliseconds(300));
  link.SendBrokenAfter(1000, 2 << 20);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (link.source.released() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(link.source.released(), 1);
  EXPECT_TRUE(std::filesystem::is_empty(link.sender_dir));
  // The next snapshot makes a checkpoint of its own.
  link.SendUntilDelivered(1000);
  EXPECT_EQ(link.source.made(), 2);
}

TEST(GrpcTransportTest, AKeptCheckpointIsReleasedWhenThePeerIsRemovedOrTheTransportStops) {
  {
    CheckpointLink link;
    link.SendBrokenAfter(1000, 2 << 20);
    EXPECT_EQ(link.source.released(), 0);
    link.a.transport->RemovePeer(2);
    EXPECT_EQ(link.source.released(), 1);
  }
  CheckpointLink link;
  link.SendBrokenAfter(1000, 2 << 20);
  link.a.transport->Stop();
  EXPECT_EQ(link.source.released(), 1);
  EXPECT_TRUE(std::filesystem::is_empty(link.sender_dir));
}

// A member of an older release: it takes snapshot streams but has no Peer.CheckpointOffset (gRPC
// answers UNIMPLEMENTED). Its first stream breaks after two chunks, as a network would break
// it; later ones are taken whole. It records where each stream started and what it received.
class MemberWithoutResume final : public peerpb::Peer::Service {
 public:
  MemberWithoutResume() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~MemberWithoutResume() override { server_->Shutdown(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  grpc::Status SendSnapshot(grpc::ServerContext*, grpc::ServerReader<peerpb::SnapshotChunk>* reader,
                            peerpb::SnapshotReceipt* receipt) override {
    const bool break_it = streams_.fetch_add(1) == 0;
    peerpb::SnapshotChunk chunk;
    uint64_t received = 0;
    for (int chunks = 0; reader->Read(&chunk); ++chunks) {
      if (chunks == 0) {
        absl::MutexLock lock(&mu_);
        first_offsets_.push_back(chunk.offset());
      }
      received += chunk.data().size();
      if (break_it && chunks == 1) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cut");
    }
    absl::MutexLock lock(&mu_);
    whole_streams_bytes_.push_back(received);
    receipt->set_received_bytes(received);
    return grpc::Status::OK;
  }

  std::vector<uint64_t> first_offsets() {
    absl::MutexLock lock(&mu_);
    return first_offsets_;
  }
  std::vector<uint64_t> whole_streams_bytes() {
    absl::MutexLock lock(&mu_);
    return whole_streams_bytes_;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> streams_{0};
  absl::Mutex mu_;
  std::vector<uint64_t> first_offsets_;
  std::vector<uint64_t> whole_streams_bytes_;
};

TEST(GrpcTransportTest, AMemberThatCannotSayWhereToResumeGetsTheKeptCheckpointFromTheStart) {
  const std::string sender_dir = TempDirectory();
  FileSource source(sender_dir);
  source.files = {{"000012.sst", std::string(300 << 10, 'x')}, {"CURRENT", "MANIFEST-000005\n"}};
  const uint64_t total = (300 << 10) + std::string("MANIFEST-000005\n").size();
  Member a(7, 1, [&](GrpcTransportOptions& o) { o.checkpoint_source = &source; });
  MemberWithoutResume old_member;
  a.transport->AddPeer(2, old_member.address());
  auto reports = [&a](size_t n) {
    return a.receiver.WaitFor([n](auto& r) { return r.snapshot_reports_.size() == n; });
  };

  a.transport->Send({SnapshotReference(1000)});
  ASSERT_TRUE(reports(1));
  EXPECT_FALSE(a.receiver.snapshot_reports_[0]);
  EXPECT_EQ(source.released(), 0) << "the checkpoint of a broken transfer must be kept";

  a.transport->Send({SnapshotReference(1000)});
  ASSERT_TRUE(reports(2));
  EXPECT_TRUE(a.receiver.snapshot_reports_[1]);
  EXPECT_EQ(source.made(), 1) << "the kept checkpoint was not the one sent again";
  EXPECT_EQ(old_member.first_offsets(), (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(old_member.whole_streams_bytes(), std::vector<uint64_t>{total});
  EXPECT_EQ(source.released(), 1);
  a.transport->Stop();
  std::filesystem::remove_all(sender_dir);
}

TEST(GrpcTransportTest, ASnapshotStreamGetsItsTimeoutPlusWhatItsBytesNeedAtTheFloorRate) {
  GrpcTransportOptions options;
  options.snapshot_timeout = absl::Minutes(5);
  options.snapshot_floor_bytes_per_second = 10 << 20;
  EXPECT_EQ(SnapshotStreamTimeout(options, 0), absl::Minutes(5));
  EXPECT_EQ(SnapshotStreamTimeout(options, uint64_t{10} << 30),
            absl::Minutes(5) + absl::Seconds(1024));
}

// A batch larger than the receiver's bound is refused by gRPC before it is allocated; the
// stream is re-established and later traffic flows.
TEST(GrpcTransportTest, RefusesAnOversizedBatchAndKeepsDeliveringLaterTraffic) {
  Member a(7, 1);
  Member b(7, 2, [](GrpcTransportOptions& o) { o.max_receive_message_bytes = 256 << 10; });
  Connect(a, 1, b, 2);
  raftpb::Message append;
  append.set_msg_type(raftpb::MSG_APPEND);
  append.set_from(1);
  append.set_to(2);
  append.add_entries()->set_data(std::string(1 << 20, 'y'));
  a.transport->Send({append});
  auto got_heartbeat = [](auto& r) {
    for (const auto& m : r.received_) {
      if (m.msg_type() == raftpb::MSG_HEARTBEAT) return true;
    }
    return false;
  };
  for (int i = 0; i < 200 && !b.receiver.WaitFor(got_heartbeat, absl::Milliseconds(50)); ++i) {
    a.transport->Send({Heartbeat(1, 2, 5)});
  }
  ASSERT_TRUE(b.receiver.WaitFor(got_heartbeat));
  absl::MutexLock lock(&b.receiver.mu());
  for (const auto& m : b.receiver.received_) EXPECT_NE(m.msg_type(), raftpb::MSG_APPEND);
}

TEST(GrpcTransportTest, RefusesBatchesFromAnotherCluster) {
  Member a(7, 1), b(8, 2);
  a.transport->AddPeer(2, b.address());
  b.transport->AddPeer(1, a.address());
  // The refused stream makes the sender report the peer unreachable.
  ASSERT_TRUE(HeartbeatUntilUnreachable(a, 1, 2));
  EXPECT_TRUE(b.receiver.received_.empty());
}

TEST(GrpcTransportTest, RefusesBatchesFromAnUnknownMember) {
  Member a(7, 1), b(7, 2);
  a.transport->AddPeer(2, b.address());  // b does not know member 1
  ASSERT_TRUE(HeartbeatUntilUnreachable(a, 1, 2));
  EXPECT_TRUE(b.receiver.received_.empty());
  // Not knowing a member (it may not have learnt of its addition yet) is not its removal.
  EXPECT_TRUE(a.receiver.removed_by_.empty());
}

TEST(GrpcTransportTest, TellsARemovedMemberThatItWasRemoved) {
  Member a(7, 1);
  Member b(7, 2,
           [](GrpcTransportOptions& o) { o.is_removed = [](uint64_t id) { return id == 1; }; });
  a.transport->AddPeer(2, b.address());
  ASSERT_TRUE(HeartbeatUntilUnreachable(a, 1, 2));
  EXPECT_TRUE(b.receiver.received_.empty());
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return !r.removed_by_.empty(); }));
  EXPECT_EQ(a.receiver.removed_by_[0], 2u);
}

// Round trips reported by a transport's probes, by peer.
struct RoundTrips {
  absl::Mutex mu;
  std::map<uint64_t, std::vector<absl::Duration>> by_peer ABSL_GUARDED_BY(mu);

  void Configure(GrpcTransportOptions& o) {
    o.probe_interval = absl::Milliseconds(20);
    o.on_round_trip = [this](uint64_t peer, absl::Duration rtt) {
      absl::MutexLock lock(&mu);
      by_peer[peer].push_back(rtt);
    };
  }
  size_t CountFor(uint64_t peer) {
    absl::MutexLock lock(&mu);
    return by_peer[peer].size();
  }
};

TEST(GrpcTransportTest, TimesRoundTripsToEachPeer) {
  RoundTrips trips;
  Member a(7, 1, [&](GrpcTransportOptions& o) { trips.Configure(o); });
  Member b(7, 2);
  Connect(a, 1, b, 2);
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (trips.CountFor(2) < 3 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  absl::MutexLock lock(&trips.mu);
  ASSERT_GE(trips.by_peer[2].size(), 3u);
  for (absl::Duration rtt : trips.by_peer[2]) {
    EXPECT_GT(rtt, absl::ZeroDuration());
    EXPECT_LT(rtt, absl::Seconds(1));  // the probe's own timeout
  }
}

TEST(GrpcTransportTest, AProbeThePeerRefusesIsNotARoundTrip) {
  RoundTrips trips;
  Member a(7, 1, [&](GrpcTransportOptions& o) { trips.Configure(o); });
  Member b(8, 2);  // another cluster: b refuses a's probes
  b.transport->AddPeer(1, a.address());
  a.transport->AddPeer(2, b.address());
  // Plenty of probe intervals, each refused.
  ASSERT_TRUE(HeartbeatUntilUnreachable(a, 1, 2));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(trips.CountFor(2), 0u);
  // Stopping the transport stops its probers; no report follows.
  a.transport->Stop();
  const size_t after_stop = trips.CountFor(2);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(trips.CountFor(2), after_stop);
}

TEST(GrpcTransportTest, AnswersWhoIsInTheClusterForAJoiningMember) {
  Member a(7, 1, [](GrpcTransportOptions& o) {
    o.members = [] {
      peerpb::Member m;
      m.set_id(1);
      m.add_peer_urls("http://127.0.0.1:2380");
      return std::vector<peerpb::Member>{m};
    };
  });
  absl::StatusOr<peerpb::MembersResponse> answer = FetchMembers(a.address(), absl::Seconds(5));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->cluster_id(), 7u);
  ASSERT_EQ(answer->members_size(), 1);
  EXPECT_EQ(answer->members(0).id(), 1u);
  // A transport that does not serve the membership says so.
  Member b(7, 2);
  EXPECT_EQ(FetchMembers(b.address(), absl::Seconds(5)).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(GrpcTransportTest, ReportsAnUnreachablePeerAndReconnectsWhenItComesBack) {
  Member a(7, 1);
  int reserved_port;
  {
    Member placeholder(7, 2);
    reserved_port = placeholder.port;
  }  // the port is free again: nobody listens there now
  a.transport->AddPeer(2, absl::StrCat("127.0.0.1:", reserved_port));
  a.transport->Send({Heartbeat(1, 2, 1)});
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.unreachable_[2] > 0; }));

  RecordingReceiver receiver;
  GrpcTransportOptions options;
  options.cluster_id = 7;
  options.local_id = 2;
  GrpcTransport b(options, &receiver);
  ASSERT_TRUE(b.Start(absl::StrCat("127.0.0.1:", reserved_port)).ok());
  b.AddPeer(1, a.address());
  // Raft keeps sending heartbeats; one of them gets through once the stream is back.
  auto got_one = [](auto& r) { return !r.received_.empty(); };
  for (int i = 0; i < 200 && !receiver.WaitFor(got_one, absl::Milliseconds(50)); ++i) {
    a.transport->Send({Heartbeat(1, 2, 2)});
  }
  ASSERT_TRUE(receiver.WaitFor(got_one));
  EXPECT_EQ(receiver.received_.back().commit(), 2u);
}

TEST(GrpcTransportTest, MessagesToAnUnknownPeerAreReportedUnreachable) {
  Member a(7, 1);
  a.transport->Send({Heartbeat(1, 9, 1)});
  ASSERT_TRUE(a.receiver.WaitFor([](auto& r) { return r.unreachable_[9] == 1; }));
}

}  // namespace
}  // namespace raftkv::transport
