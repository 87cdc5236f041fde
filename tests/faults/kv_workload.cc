#include "kv_workload.h"

#include <map>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/rand.h"
#include "client_outcome.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "fmt/core.h"
#include "grpcpp/grpcpp.h"

namespace raftkv::faults {
namespace {

using lincheck::OpStatus;

enum Kind { kGet = 0, kPut = 1, kCas = 2 };

struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
};

Connection Dial(const std::string& endpoint) {
  grpc::ChannelArguments args;
  // Each client has its own connection: gRPC would otherwise share one per address between
  // every channel of the process, and a fault of that connection would hit all clients at once.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A restarted member is dialled again within a second, not after gRPC's default backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  Connection c;
  c.channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  c.kv = etcdserverpb::KV::NewStub(c.channel);
  return c;
}

bool Connected(Connection& c, absl::Duration patience) {
  if (c.channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  return c.channel->WaitForConnected(absl::ToChronoTime(absl::Now() + patience));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

std::optional<std::string> ValueOf(const etcdserverpb::RangeResponse& r) {
  if (r.kvs_size() == 0) return std::nullopt;
  return r.kvs(0).value();
}

}  // namespace

int64_t WorkloadCounts::total() const {
  int64_t sum = 0;
  for (const auto& kind : ops) {
    for (int64_t n : kind) sum += n;
  }
  return sum;
}

int64_t WorkloadCounts::with_status(OpStatus status) const {
  int64_t sum = 0;
  for (const auto& kind : ops) sum += kind[static_cast<int>(status)];
  return sum;
}

KvWorkload::KvWorkload(WorkloadOptions options, std::vector<std::string> endpoints)
    : options_(options), endpoints_(std::move(endpoints)) {}

KvWorkload::~KvWorkload() { Stop(); }

void KvWorkload::Start() {
  start_ = absl::Now();
  for (int c = 0; c < options_.clients; ++c) threads_.emplace_back([this, c] { RunClient(c); });
}

void KvWorkload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

lincheck::History KvWorkload::History() const {
  lincheck::HistoryBuilder copy;
  {
    absl::MutexLock lock(&mu_);
    copy = history_;
  }
  return std::move(copy).Finish();
}

WorkloadCounts KvWorkload::Counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

std::string KvWorkload::Summary() const {
  const WorkloadCounts c = Counts();
  std::string text = fmt::format("{} operations:", c.total());
  const char* names[] = {"get", "put", "cas"};
  for (int k = 0; k < 3; ++k) {
    text += fmt::format(" {} {} ok / {} fail / {} unknown{}", names[k], c.ops[k][0], c.ops[k][1],
                        c.ops[k][2], k < 2 ? "," : "");
  }
  return text + fmt::format(" ({} cas swapped; {} times a client skipped an unreachable member)",
                            c.cas_swapped, c.unreachable_skips);
}

void KvWorkload::RunClient(int client) {
  base::Rand rand(options_.seed * 1'000'003 + static_cast<uint64_t>(client) + 1);
  const int n = static_cast<int>(endpoints_.size());
  std::vector<Connection> members;
  for (const std::string& endpoint : endpoints_) members.push_back(Dial(endpoint));
  const int64_t cid = client + 1;
  int member = static_cast<int>(rand.Uniform(n));
  // The value this client last saw per key (nullopt: absent), for its next compare-and-set.
  std::map<std::string, std::optional<std::string>> seen;
  int64_t written = 0;

  auto move_on = [&] {
    if (n > 1) member = static_cast<int>((member + 1 + rand.Uniform(n - 1)) % n);
  };
  // Records the outcome of operation `id` of `kind` (the history and the counts move together).
  auto finish = [&](size_t id, Kind kind, OpStatus status, auto&& complete_ok) {
    absl::MutexLock lock(&mu_);
    ++counts_.ops[kind][static_cast<int>(status)];
    if (status == OpStatus::kOk) {
      complete_ok(history_);
    } else if (status == OpStatus::kFailed) {
      history_.Fail(id);
    } else {
      history_.Unknown(id);
    }
  };

  while (!stop_) {
    if (rand.Bernoulli(0.2)) member = static_cast<int>(rand.Uniform(n));
    if (!Connected(members[member], absl::Milliseconds(250))) {
      absl::MutexLock lock(&mu_);
      ++counts_.unreachable_skips;
      move_on();
      continue;
    }
    etcdserverpb::KV::Stub& kv = *members[member].kv;
    const uint64_t slot = rand.Uniform(options_.keys);
    const std::string key =
        options_.key_lifetime > absl::ZeroDuration()
            ? absl::StrCat("k", (absl::Now() - start_) / options_.key_lifetime, "-", slot)
            : absl::StrCat("k", slot);
    const uint64_t pick = rand.Uniform(10);
    grpc::ClientContext context;
    SetDeadline(context, options_.op_timeout);
    grpc::Status status;

    if (pick < 4) {
      etcdserverpb::RangeRequest request;
      request.set_key(key);
      request.set_serializable(options_.serializable_reads);
      size_t id;
      {
        absl::MutexLock lock(&mu_);
        id = history_.InvokeGet(cid, key);
      }
      etcdserverpb::RangeResponse response;
      status = kv.Range(&context, request, &response);
      // A read changes nothing: whatever went wrong, it did not happen.
      finish(id, kGet, status.ok() ? OpStatus::kOk : OpStatus::kFailed,
             [&](lincheck::HistoryBuilder& h) { h.OkGet(id, ValueOf(response)); });
      if (status.ok()) seen[key] = ValueOf(response);
    } else if (pick < 7) {
      const std::string value = absl::StrCat("c", cid, "-", ++written);
      etcdserverpb::PutRequest request;
      request.set_key(key);
      request.set_value(value);
      size_t id;
      {
        absl::MutexLock lock(&mu_);
        id = history_.InvokePut(cid, key, value);
      }
      etcdserverpb::PutResponse response;
      status = kv.Put(&context, request, &response);
      finish(id, kPut, status.ok() ? OpStatus::kOk : OutcomeOfFailedWrite(status),
             [&](lincheck::HistoryBuilder& h) { h.Ok(id); });
      if (status.ok()) seen[key] = value;
    } else {
      const std::string value = absl::StrCat("c", cid, "-", ++written);
      std::optional<std::string> expected;
      if (auto it = seen.find(key); it != seen.end() && rand.Bernoulli(0.8)) expected = it->second;
      etcdserverpb::TxnRequest request;
      etcdserverpb::Compare* compare = request.add_compare();
      compare->set_key(key);
      compare->set_result(etcdserverpb::Compare::EQUAL);
      if (expected.has_value()) {
        compare->set_target(etcdserverpb::Compare::VALUE);
        compare->set_value(*expected);
      } else {
        compare->set_target(etcdserverpb::Compare::CREATE);
        compare->set_create_revision(0);
      }
      etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
      put->set_key(key);
      put->set_value(value);
      request.add_failure()->mutable_request_range()->set_key(key);
      size_t id;
      {
        absl::MutexLock lock(&mu_);
        id = history_.InvokeCas(cid, key, expected, value);
      }
      etcdserverpb::TxnResponse response;
      status = kv.Txn(&context, request, &response);
      const bool swapped = status.ok() && response.succeeded();
      finish(id, kCas, status.ok() ? OpStatus::kOk : OutcomeOfFailedWrite(status),
             [&](lincheck::HistoryBuilder& h) {
               h.OkCas(id, swapped);
               if (swapped) ++counts_.cas_swapped;
             });
      if (swapped) {
        seen[key] = value;
      } else if (status.ok() && response.responses_size() == 1) {
        seen[key] = ValueOf(response.responses(0).response_range());
      }
    }
    if (!status.ok()) move_on();
    if (options_.think_time > absl::ZeroDuration()) absl::SleepFor(options_.think_time);
  }
}

}  // namespace raftkv::faults
