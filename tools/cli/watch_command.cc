// `raftkv watch`: follows a key or prefix and prints each event the way etcdctl's simple
// format does (the event type, then key and value lines, the previous pair first with
// --prev-kv). When a member goes away the watch resumes on the next endpoint from the revision
// after the last event printed, so no event is lost or printed twice.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "commands.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "etcd_client.h"
#include "grpcpp/grpcpp.h"

namespace raftkv::cli {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

void PrintEvents(const WatchResponse& response) {
  for (const mvccpb::Event& event : response.events()) {
    std::printf("%s\n", event.type() == mvccpb::Event::PUT ? "PUT" : "DELETE");
    if (event.has_prev_kv()) {
      std::printf("%s\n%s\n", event.prev_kv().key().c_str(), event.prev_kv().value().c_str());
    }
    std::printf("%s\n%s\n", event.kv().key().c_str(), event.kv().value().c_str());
  }
  std::fflush(stdout);
}

// What one stream to one endpoint ended with.
enum class Outcome { kResume, kFailed };

// Watches from `*next_revision` (0: from now) on `endpoint` until the stream breaks, advancing
// `*next_revision` past every event printed.
Outcome WatchOn(const std::string& endpoint, const etcdserverpb::WatchCreateRequest& base,
                int64_t* next_revision) {
  auto channel = grpc::CreateChannel(StripScheme(endpoint), grpc::InsecureChannelCredentials());
  auto stub = etcdserverpb::Watch::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Watch(&context);
  WatchRequest request;
  *request.mutable_create_request() = base;
  request.mutable_create_request()->set_start_revision(*next_revision);
  if (!stream->Write(request)) {
    stream->Finish().IgnoreError();
    std::fprintf(stderr, "raftkv: cannot watch on %s; trying the next endpoint\n",
                 endpoint.c_str());
    return Outcome::kResume;
  }
  WatchResponse response;
  while (stream->Read(&response)) {
    if (response.created()) {
      if (response.canceled()) {
        std::fprintf(stderr, "raftkv: watch refused: %s\n", response.cancel_reason().c_str());
        context.TryCancel();
        stream->Finish().IgnoreError();
        return Outcome::kFailed;
      }
      // A watch "from now" continues after the revision the member had when it was created.
      if (*next_revision == 0) *next_revision = response.header().revision() + 1;
      continue;
    }
    if (response.canceled()) {
      std::fprintf(stderr, "raftkv: watch canceled: %s\n",
                   response.compact_revision() != 0
                       ? "mvcc: required revision has been compacted"
                       : response.cancel_reason().c_str());
      context.TryCancel();
      stream->Finish().IgnoreError();
      return Outcome::kFailed;
    }
    PrintEvents(response);
    if (response.events_size() > 0) {
      *next_revision = response.events(response.events_size() - 1).kv().mod_revision() + 1;
    }
  }
  const grpc::Status status = stream->Finish();
  // clientv3's rule: unavailable or internal errors mean "try again", anything else is final.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
      status.error_code() != grpc::StatusCode::INTERNAL) {
    std::fprintf(stderr, "raftkv: watch ended: %s\n", status.error_message().c_str());
    return Outcome::kFailed;
  }
  std::fprintf(stderr, "raftkv: lost %s (%s); resuming at revision %lld\n", endpoint.c_str(),
               status.error_message().c_str(), static_cast<long long>(*next_revision));
  return Outcome::kResume;
}

}  // namespace

int Watch(const std::string& endpoints, const std::string& key, bool prefix, int64_t revision,
          bool prev_kv) {
  const std::vector<std::string> list = absl::StrSplit(endpoints, ',', absl::SkipWhitespace());
  if (list.empty()) {
    std::fprintf(stderr, "raftkv: no --endpoints given\n");
    return 1;
  }
  etcdserverpb::WatchCreateRequest create;
  create.set_key(key);
  if (prefix) create.set_range_end(PrefixEnd(key));
  create.set_prev_kv(prev_kv);
  int64_t next_revision = revision;
  // Runs until interrupted, like etcdctl watch; a pause after every endpoint failed in a row.
  for (size_t i = 0;; ++i) {
    if (WatchOn(list[i % list.size()], create, &next_revision) == Outcome::kFailed) return 1;
    if ((i + 1) % list.size() == 0) absl::SleepFor(absl::Milliseconds(500));
  }
}

}  // namespace raftkv::cli
