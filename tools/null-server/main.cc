// raftkv-null-server: the floor under every member's cost. One thread answers etcd's KV.Put and
// KV.Range from a map in memory through gRPC's asynchronous (completion-queue) API: no raft, no
// log, no disk, no peers. bench/etcd_compare.sh measures it beside etcd and raftkv-server with
// the same load generator, so that a member's CPU per request reads as a multiple of what gRPC
// alone costs on the same machine (docs/benchmarks.md, "The null server").
//
// Served:
//   KV.Put                   key, value, prev_kv, ignore_value; a lease is refused (there are none)
//   KV.Range                 one key, [key, range_end), from key on (range_end "\0"), limit,
//                            count_only, keys_only; the current revision only (no history)
//   Maintenance.Status       this member is the leader: etcd's benchmark --target-leader asks
//                            Status for the leader's id, then MemberList for its client URLs
//   Maintenance.Alarm        GET: no alarms (etcdctl >= 3.5 asks after `endpoint health`)
//   Cluster.MemberList       this member, with its client URL
// Every other method of etcd's API is answered UNIMPLEMENTED. Every response carries etcd's
// header: cluster_id, member_id, revision (the store's, which starts at 1 as etcd's does) and
// raft_term (always 1).
//
// Threads: the main thread owns the map and runs the completion queue; nothing is locked. gRPC's
// core starts a few threads of its own (timers, name resolution) as in any gRPC process; they do
// no per-request work. A second thread of ours exists only while shutting down (below).
//
// Exit codes: 0 after SIGTERM or SIGINT, 2 for a bad flag, 1 when the address cannot be bound.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace raftkv::null_server {
namespace {

using etcdserverpb::PutRequest;
using etcdserverpb::PutResponse;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;

constexpr uint64_t kRaftTerm = 1;
// What Status reports as the server's version: the etcd API this server speaks.
constexpr char kVersion[] = "3.4.23";
// Calls requested ahead for Put and for Range. A call that arrives while every slot of its method
// is busy waits inside gRPC until a slot is requested again, so this bounds the concurrency the
// server takes without queueing; etcd_compare.sh runs at most 64 clients.
constexpr int kSlotsPerHotMethod = 256;
// Calls requested ahead for each of the rare methods: KV's others (refused), and the generic
// service's (Status, Alarm, MemberList, and every unknown method, refused).
constexpr int kGenericSlots = 8;

volatile sig_atomic_t stop_requested = 0;
void RequestStop(int) { stop_requested = 1; }

// FNV-1a, so that two null servers on different addresses get different member ids.
uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The key-value map, its revision and the member's identity. Touched by the main thread only.
class Store {
 public:
  explicit Store(uint64_t member_id)
      : member_id_(member_id), cluster_id_(Fnv1a64("raftkv-null-server") ^ member_id) {}

  uint64_t member_id() const { return member_id_; }
  int64_t revision() const { return revision_; }
  int64_t size_bytes() const { return size_bytes_; }

  void FillHeader(etcdserverpb::ResponseHeader* header, bool with_revision = true) const {
    header->set_cluster_id(cluster_id_);
    header->set_member_id(member_id_);
    if (with_revision) header->set_revision(revision_);
    header->set_raft_term(kRaftTerm);
  }

  // etcd's errors, codes and messages as clientv3 expects them (etcd-api.md §5.1).
  grpc::Status Put(const PutRequest& request, PutResponse* response) {
    if (request.key().empty()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided"};
    }
    if (request.lease() != 0) {
      // No lease is ever granted here, so every lease id is unknown.
      return {grpc::StatusCode::NOT_FOUND, "etcdserver: requested lease not found"};
    }
    auto it = kvs_.lower_bound(request.key());
    const bool exists = it != kvs_.end() && it->first == request.key();
    if (!exists && (request.ignore_value() || request.ignore_lease())) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key not found"};
    }
    if (exists && request.prev_kv()) *response->mutable_prev_kv() = it->second;
    ++revision_;
    if (!exists) {
      it = kvs_.emplace_hint(it, request.key(), mvccpb::KeyValue());
      it->second.set_key(request.key());
      it->second.set_create_revision(revision_);
      size_bytes_ += static_cast<int64_t>(request.key().size());
    }
    mvccpb::KeyValue& kv = it->second;
    kv.set_mod_revision(revision_);
    kv.set_version(kv.version() + 1);
    if (!request.ignore_value()) {
      size_bytes_ += static_cast<int64_t>(request.value().size() - kv.value().size());
      kv.set_value(request.value());
    }
    FillHeader(response->mutable_header());
    return grpc::Status::OK;
  }

  // KV.DeleteRange, KV.Txn and KV.Compact.
  template <class Request, class Response>
  grpc::Status Refuse(const Request&, Response*) {
    return {grpc::StatusCode::UNIMPLEMENTED,
            "raftkv-null-server serves only KV.Put and KV.Range of the KV service"};
  }

  grpc::Status Range(const RangeRequest& request, RangeResponse* response) {
    if (request.revision() > revision_) {
      return {grpc::StatusCode::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision is a future revision"};
    }
    if (request.revision() > 0 && request.revision() < revision_) {
      return {grpc::StatusCode::UNIMPLEMENTED,
              "raftkv-null-server keeps no history: only the current revision can be read"};
    }
    const bool key_order = request.sort_order() == RangeRequest::NONE ||
                           (request.sort_order() == RangeRequest::ASCEND &&
                            request.sort_target() == RangeRequest::KEY);
    if (!key_order || request.min_mod_revision() != 0 || request.max_mod_revision() != 0 ||
        request.min_create_revision() != 0 || request.max_create_revision() != 0) {
      return {grpc::StatusCode::UNIMPLEMENTED,
              "raftkv-null-server returns keys in key order only, without revision filters"};
    }
    FillHeader(response->mutable_header());
    if (request.range_end().empty()) {  // one key: the benchmark's case
      auto it = kvs_.find(request.key());
      if (it == kvs_.end()) return grpc::Status::OK;
      response->set_count(1);
      if (!request.count_only()) Append(it->second, request.keys_only(), response);
      return grpc::Status::OK;
    }
    auto it = kvs_.lower_bound(request.key());
    // range_end "\0" means every key from `key` on.
    const bool to_end = request.range_end() == std::string_view("\0", 1);
    const int64_t limit = request.limit() > 0 ? request.limit() : INT64_MAX;
    int64_t count = 0;
    for (; it != kvs_.end() && (to_end || it->first < request.range_end()); ++it, ++count) {
      if (!request.count_only() && count < limit) Append(it->second, request.keys_only(), response);
    }
    response->set_count(count);
    response->set_more(!request.count_only() && count > limit);
    return grpc::Status::OK;
  }

 private:
  static void Append(const mvccpb::KeyValue& kv, bool keys_only, RangeResponse* response) {
    mvccpb::KeyValue* out = response->add_kvs();
    if (!keys_only) {
      *out = kv;
      return;
    }
    out->set_key(kv.key());
    out->set_create_revision(kv.create_revision());
    out->set_mod_revision(kv.mod_revision());
    out->set_version(kv.version());
    out->set_lease(kv.lease());
  }

  const uint64_t member_id_;
  const uint64_t cluster_id_;
  std::map<std::string, mvccpb::KeyValue, std::less<>> kvs_;
  int64_t revision_ = 1;  // etcd's empty store is at revision 1
  int64_t size_bytes_ = 0;
};

// A completion-queue tag: every event of a call slot comes back to its Proceed.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

// Set by the main thread when shutting down: a slot whose call ends is then not requested again.
struct Lifecycle {
  bool draining = false;
};

// One reusable slot for a unary method of a typed asynchronous service: requested, answered on
// arrival by the store, and requested again once the answer has left. The request and response
// messages are cleared and reused, so a call allocates nothing of ours.
template <class Service, class Request, class Response>
class UnarySlot final : public Tag {
 public:
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Request*,
                                          grpc::ServerAsyncResponseWriter<Response>*,
                                          grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                          void*);
  using Handler = grpc::Status (Store::*)(const Request&, Response*);

  UnarySlot(Service* service, RequestMethod request_method, Store* store, Handler handler,
            grpc::ServerCompletionQueue* cq, const Lifecycle* lifecycle)
      : service_(service),
        request_method_(request_method),
        store_(store),
        handler_(handler),
        cq_(cq),
        lifecycle_(lifecycle) {}

  void Start() {
    writer_.reset();  // the writer refers to the context: it goes first
    context_.emplace();
    writer_.emplace(&*context_);
    request_.Clear();
    response_.Clear();
    answering_ = false;
    (service_->*request_method_)(&*context_, &request_, &*writer_, cq_, cq_, this);
  }

  void Proceed(bool ok) override {
    if (!answering_) {
      if (!ok) return;  // the server is shutting down; the request was never matched
      answering_ = true;
      const grpc::Status status = (store_->*handler_)(request_, &response_);
      if (status.ok()) {
        writer_->Finish(response_, status, this);
      } else {
        writer_->FinishWithError(status, this);
      }
      return;
    }
    // The answer has left (ok) or the client went away (!ok): the slot is free.
    if (lifecycle_->draining) {
      writer_.reset();
      context_.reset();  // releases the call, which the server's shutdown waits for
      return;
    }
    Start();
  }

 private:
  Service* const service_;
  const RequestMethod request_method_;
  Store* const store_;
  const Handler handler_;
  grpc::ServerCompletionQueue* const cq_;
  const Lifecycle* const lifecycle_;
  std::optional<grpc::ServerContext> context_;
  std::optional<grpc::ServerAsyncResponseWriter<Response>> writer_;
  Request request_;
  Response response_;
  bool answering_ = false;
};

// One reusable slot of the generic service, which receives every method no typed service
// registered: the rare calls (Status, Alarm, MemberList) are decoded here by name; the rest are
// answered UNIMPLEMENTED without reading their request.
class GenericSlot final : public Tag {
 public:
  GenericSlot(grpc::AsyncGenericService* service, Store* store, std::string client_url,
              std::string name, grpc::ServerCompletionQueue* cq, const Lifecycle* lifecycle)
      : service_(service),
        store_(store),
        client_url_(std::move(client_url)),
        name_(std::move(name)),
        cq_(cq),
        lifecycle_(lifecycle) {}

  void Start() {
    stream_.reset();
    context_.emplace();
    stream_.emplace(&*context_);
    step_ = Step::kRequested;
    service_->RequestCall(&*context_, &*stream_, cq_, cq_, this);
  }

  void Proceed(bool ok) override {
    switch (step_) {
      case Step::kRequested:
        if (!ok) return;  // shutting down
        if (!Known(context_->method())) {
          Finish({grpc::StatusCode::UNIMPLEMENTED,
                  "raftkv-null-server serves only KV.Put, KV.Range, Maintenance.Status, "
                  "Maintenance.Alarm and Cluster.MemberList, not " +
                      context_->method()});
          return;
        }
        step_ = Step::kReading;
        stream_->Read(&request_, this);
        return;
      case Step::kReading: {
        if (!ok) {
          Finish({grpc::StatusCode::INVALID_ARGUMENT, "no request message"});
          return;
        }
        grpc::ByteBuffer reply;
        const grpc::Status status = Answer(context_->method(), &reply);
        if (!status.ok()) {
          Finish(status);
          return;
        }
        step_ = Step::kFinishing;
        stream_->WriteAndFinish(reply, grpc::WriteOptions(), grpc::Status::OK, this);
        return;
      }
      case Step::kFinishing:
        if (lifecycle_->draining) {
          stream_.reset();
          context_.reset();
          return;
        }
        Start();
        return;
    }
  }

 private:
  enum class Step { kRequested, kReading, kFinishing };
  static constexpr std::string_view kStatus = "/etcdserverpb.Maintenance/Status";
  static constexpr std::string_view kAlarm = "/etcdserverpb.Maintenance/Alarm";
  static constexpr std::string_view kMemberList = "/etcdserverpb.Cluster/MemberList";

  static bool Known(std::string_view method) {
    return method == kStatus || method == kAlarm || method == kMemberList;
  }

  void Finish(const grpc::Status& status) {
    step_ = Step::kFinishing;
    stream_->Finish(status, this);
  }

  template <class Request>
  grpc::Status Parse(Request* request) {
    return grpc::SerializationTraits<Request>::Deserialize(&request_, request);
  }

  template <class Response>
  static grpc::Status Serialize(const Response& response, grpc::ByteBuffer* reply) {
    bool own_buffer = false;
    return grpc::SerializationTraits<Response>::Serialize(response, reply, &own_buffer);
  }

  grpc::Status Answer(std::string_view method, grpc::ByteBuffer* reply) {
    if (method == kStatus) {
      etcdserverpb::StatusRequest request;
      if (grpc::Status s = Parse(&request); !s.ok()) return s;
      etcdserverpb::StatusResponse response;
      store_->FillHeader(response.mutable_header());
      response.set_version(kVersion);
      response.set_dbsize(store_->size_bytes());
      response.set_dbsizeinuse(store_->size_bytes());
      response.set_leader(store_->member_id());
      // One raft entry per write, as if every put had been one.
      response.set_raftindex(static_cast<uint64_t>(store_->revision()));
      response.set_raftappliedindex(static_cast<uint64_t>(store_->revision()));
      response.set_raftterm(kRaftTerm);
      return Serialize(response, reply);
    }
    if (method == kAlarm) {
      etcdserverpb::AlarmRequest request;
      if (grpc::Status s = Parse(&request); !s.ok()) return s;
      if (request.action() != etcdserverpb::AlarmRequest::GET) {
        return {grpc::StatusCode::UNIMPLEMENTED, "raftkv-null-server only lists alarms"};
      }
      etcdserverpb::AlarmResponse response;
      store_->FillHeader(response.mutable_header());
      return Serialize(response, reply);
    }
    etcdserverpb::MemberListRequest request;
    if (grpc::Status s = Parse(&request); !s.ok()) return s;
    etcdserverpb::MemberListResponse response;
    store_->FillHeader(response.mutable_header(), /*with_revision=*/false);  // as etcd does
    etcdserverpb::Member* member = response.add_members();
    member->set_id(store_->member_id());
    member->set_name(name_);
    member->add_clienturls(client_url_);
    return Serialize(response, reply);
  }

  grpc::AsyncGenericService* const service_;
  Store* const store_;
  const std::string client_url_;
  const std::string name_;
  grpc::ServerCompletionQueue* const cq_;
  const Lifecycle* const lifecycle_;
  std::optional<grpc::GenericServerContext> context_;
  std::optional<grpc::GenericServerAsyncReaderWriter> stream_;
  grpc::ByteBuffer request_;
  Step step_ = Step::kRequested;
};

struct Options {
  std::string listen = "127.0.0.1:2379";
  std::string advertise_client_url;  // default: http:// + the bound address
  std::string name = "null";
};

// HOST:PORT with a port in 0..65535 (0: any free port); IPv6 hosts in brackets.
std::string CheckListen(const std::string& value) {
  if (value.find("://") != std::string::npos) return "give HOST:PORT, without a scheme";
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT, e.g. 127.0.0.1:2379";
  const std::string port = value.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return "the port must be a number from 0 to 65535";
  }
  return "";
}

int Serve(const Options& options) {
  const size_t colon = options.listen.rfind(':');
  const std::string host = options.listen.substr(0, colon);

  etcdserverpb::KV::AsyncService kv_service;
  grpc::AsyncGenericService generic_service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&kv_service);
  builder.RegisterAsyncGenericService(&generic_service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr,
                 "raftkv-null-server: cannot listen on %s (in use, or not an address of "
                 "this machine)\n",
                 options.listen.c_str());
    return 1;
  }
  const std::string bound = host + ":" + std::to_string(port);
  const std::string advertised_host = host == "0.0.0.0" ? "127.0.0.1"
                                      : host == "[::]"  ? "[::1]"
                                                        : host;
  const std::string client_url = options.advertise_client_url.empty()
                                     ? "http://" + advertised_host + ":" + std::to_string(port)
                                     : options.advertise_client_url;
  Store store(Fnv1a64(client_url) | 1);  // a member id is never 0

  Lifecycle lifecycle;
  using PutSlot = UnarySlot<etcdserverpb::KV::AsyncService, PutRequest, PutResponse>;
  using RangeSlot = UnarySlot<etcdserverpb::KV::AsyncService, RangeRequest, RangeResponse>;
  std::vector<std::unique_ptr<PutSlot>> put_slots;
  std::vector<std::unique_ptr<RangeSlot>> range_slots;
  std::vector<std::unique_ptr<GenericSlot>> generic_slots;
  for (int i = 0; i < kSlotsPerHotMethod; ++i) {
    put_slots.push_back(std::make_unique<PutSlot>(&kv_service,
                                                  &etcdserverpb::KV::AsyncService::RequestPut,
                                                  &store, &Store::Put, cq.get(), &lifecycle));
    put_slots.back()->Start();
    range_slots.push_back(std::make_unique<RangeSlot>(&kv_service,
                                                      &etcdserverpb::KV::AsyncService::RequestRange,
                                                      &store, &Store::Range, cq.get(), &lifecycle));
    range_slots.back()->Start();
  }
  // KV's other methods are registered with the typed service too: each gets slots that refuse
  // it, or its calls would wait for a slot until their deadline.
  using DeleteSlot = UnarySlot<etcdserverpb::KV::AsyncService, etcdserverpb::DeleteRangeRequest,
                               etcdserverpb::DeleteRangeResponse>;
  using TxnSlot = UnarySlot<etcdserverpb::KV::AsyncService, etcdserverpb::TxnRequest,
                            etcdserverpb::TxnResponse>;
  using CompactSlot = UnarySlot<etcdserverpb::KV::AsyncService, etcdserverpb::CompactionRequest,
                                etcdserverpb::CompactionResponse>;
  std::vector<std::unique_ptr<DeleteSlot>> delete_slots;
  std::vector<std::unique_ptr<TxnSlot>> txn_slots;
  std::vector<std::unique_ptr<CompactSlot>> compact_slots;
  for (int i = 0; i < kGenericSlots; ++i) {
    delete_slots.push_back(std::make_unique<DeleteSlot>(
        &kv_service, &etcdserverpb::KV::AsyncService::RequestDeleteRange, &store,
        &Store::Refuse<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse>,
        cq.get(), &lifecycle));
    delete_slots.back()->Start();
    txn_slots.push_back(std::make_unique<TxnSlot>(
        &kv_service, &etcdserverpb::KV::AsyncService::RequestTxn, &store,
        &Store::Refuse<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>, cq.get(), &lifecycle));
    txn_slots.back()->Start();
    compact_slots.push_back(std::make_unique<CompactSlot>(
        &kv_service, &etcdserverpb::KV::AsyncService::RequestCompact, &store,
        &Store::Refuse<etcdserverpb::CompactionRequest, etcdserverpb::CompactionResponse>, cq.get(),
        &lifecycle));
    compact_slots.back()->Start();
    generic_slots.push_back(std::make_unique<GenericSlot>(&generic_service, &store, client_url,
                                                          options.name, cq.get(), &lifecycle));
    generic_slots.back()->Start();
  }

  std::printf("raftkv-null-server: listening on %s, member %016llx, client URL %s\n", bound.c_str(),
              static_cast<unsigned long long>(store.member_id()), client_url.c_str());
  std::fflush(stdout);

  // The loop wakes at least every 100 ms to see whether a signal asked it to stop.
  void* tag = nullptr;
  bool ok = false;
  while (!stop_requested) {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(100);
    switch (cq->AsyncNext(&tag, &ok, deadline)) {
      case grpc::CompletionQueue::GOT_EVENT:
        static_cast<Tag*>(tag)->Proceed(ok);
        break;
      case grpc::CompletionQueue::TIMEOUT:
        break;
      case grpc::CompletionQueue::SHUTDOWN:
        return 1;  // nothing shuts the queue down before the loop ends
    }
  }

  // Server::Shutdown waits until every call the server matched is released, and this thread
  // releases them as their events arrive: so Shutdown runs on a second thread while this one
  // keeps draining the queue, with no slot requested again.
  lifecycle.draining = true;
  std::atomic<bool> server_down{false};
  std::thread stopper([&] {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_down = true;
  });
  while (!server_down) {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(20);
    if (cq->AsyncNext(&tag, &ok, deadline) == grpc::CompletionQueue::GOT_EVENT) {
      static_cast<Tag*>(tag)->Proceed(ok);
    }
  }
  stopper.join();
  cq->Shutdown();
  while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
  return 0;
}

}  // namespace
}  // namespace raftkv::null_server

int main(int argc, char** argv) {
  raftkv::null_server::Options options;
  CLI::App app{
      "raftkv-null-server: etcd's KV.Put and KV.Range from a map in memory, on one thread with "
      "gRPC's asynchronous API (no raft, no disk): the cost of gRPC alone"};
  app.add_option("--listen", options.listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str()
      ->check(raftkv::null_server::CheckListen);
  app.add_option("--advertise-client-url", options.advertise_client_url,
                 "the client URL MemberList reports (default: http:// and the bound address, "
                 "0.0.0.0 given as 127.0.0.1)");
  app.add_option("--name", options.name, "the member name MemberList reports")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help and the version to stdout with code 0; errors to stderr. A bad flag
    // exits with 2, as raftkv-server's do.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  struct sigaction action = {};
  action.sa_handler = raftkv::null_server::RequestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return raftkv::null_server::Serve(options);
}
