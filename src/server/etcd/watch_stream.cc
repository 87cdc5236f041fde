// One watch stream, following etcd's v3rpc serverWatchStream (recvLoop/sendLoop) with the
// watchable store's catch-up done by the watch thread.
#include "server/etcd/watch_stream.h"

#include <string>
#include <utility>
#include <vector>

#include "server/etcd/grpc_status.h"
#include "server/etcd/watch_catch_up.h"
#include "server/etcd/watch_hub.h"
#include "server/etcd/watch_response.h"

namespace raftkv::server::etcd {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

namespace {

// clientv3's InvalidWatchID: a create that failed, or a progress response meant for every
// watcher of the stream.
constexpr int64_t kInvalidWatchId = -1;

WatchResponse WithRevision(int64_t revision) {
  WatchResponse response;
  response.mutable_header()->set_revision(revision);
  return response;
}

}  // namespace

std::shared_ptr<WatchStream> WatchStream::Create(Backend* backend, WatchHub* hub,
                                                 const WatchOptions& options) {
  auto stream = std::make_shared<WatchStream>(backend, hub, options);
  stream->self_ = stream;
  if (hub->Add(stream)) {
    absl::MutexLock lock(&stream->mu_);
    stream->StartRead(&stream->request_);
  } else {
    stream->End(ToGrpcStatus(StoppedError()));
  }
  stream->Pump();
  return stream;
}

WatchStream::WatchStream(Backend* backend, WatchHub* hub, const WatchOptions& options)
    : backend_(backend), hub_(hub), options_(options), table_(options.max_watchers_per_stream) {}

int64_t WatchStream::StoreRevision() {
  int64_t revision = 0;
  backend_->Read([&](const kv::Store& store) { revision = store.revision(); });
  return revision;
}

bool WatchStream::HasRoom() const {
  return queue_.size() < options_.max_pending_responses &&
         queued_bytes_ < options_.max_pending_bytes;
}

void WatchStream::Enqueue(WatchResponse response) {
  const size_t bytes = response.ByteSizeLong();
  queued_bytes_ += bytes;
  queue_.push_back({std::move(response), bytes});
}

// ---- Requests (gRPC callback threads) ----

void WatchStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed or the call broke. Like etcd, keep sending until the call ends.
    absl::MutexLock lock(&mu_);
    reads_over_ = true;
    return;
  }
  Handle(request_);
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || end_.has_value()) {
      reads_over_ = true;
    } else if (HasRoom()) {
      StartRead(&request_);
    } else {
      // The client is not reading its responses: read its next request once it has.
      read_paused_ = true;
    }
  }
  Pump();
}

void WatchStream::Handle(const WatchRequest& request) {
  switch (request.request_union_case()) {
    case WatchRequest::kCreateRequest:
      return HandleCreate(request.create_request());
    case WatchRequest::kCancelRequest:
      return HandleCancel(request.cancel_request().watch_id());
    case WatchRequest::kProgressRequest:
      return HandleProgressRequest();
    default:
      // etcd ignores a request it does not know rather than ending the stream.
      return;
  }
}

void WatchStream::HandleCreate(WatchCreateRequest create) {
  // An empty key is the smallest key, "\0" (etcd's rule), so "" with range_end "\0" is every key.
  if (create.key().empty()) create.set_key(std::string(1, '\0'));
  const int64_t revision = StoreRevision();
  WatchResponse response = WithRevision(revision);
  response.set_created(true);
  bool added = false;
  {
    absl::MutexLock lock(&mu_);
    const size_t bytes = create.ByteSizeLong();
    absl::StatusOr<int64_t> id =
        watcher_bytes_ + bytes > options_.max_watcher_bytes_per_stream
            ? absl::ResourceExhaustedError("etcdserver: too many watched keys on this stream")
            : table_.Add(create, revision);
    if (id.ok()) {
      added = true;
      watcher_bytes_ += bytes;
      response.set_watch_id(*id);
    } else {
      response.set_watch_id(kInvalidWatchId);
      response.set_canceled(true);
      response.set_cancel_reason(std::string(id.status().message()));
    }
    Enqueue(std::move(response));
  }
  // A watcher from an old revision has history to catch up on; a live one needs nothing yet,
  // but the hub's pass is cheap.
  if (added) hub_->Wake();
}

void WatchStream::HandleCancel(int64_t watch_id) {
  const int64_t revision = StoreRevision();
  absl::MutexLock lock(&mu_);
  Watcher* watcher = table_.Find(watch_id);
  // etcd answers only the cancel of a watcher it has.
  if (watcher == nullptr) return;
  watcher_bytes_ -= watcher->create.ByteSizeLong();
  table_.Remove(watch_id);
  WatchResponse response = WithRevision(revision);
  response.set_watch_id(watch_id);
  response.set_canceled(true);
  Enqueue(std::move(response));
}

void WatchStream::HandleProgressRequest() {
  {
    absl::MutexLock lock(&mu_);
    progress_requested_ = true;
  }
  hub_->Wake();
}

// ---- Events (the watch thread) ----

bool WatchStream::NeedsCatchUp(int64_t store_revision, bool progress_due) {
  absl::MutexLock lock(&mu_);
  if (finished_ || end_.has_value()) return false;
  if (progress_requested_ || progress_due) return true;
  bool behind = false;
  for (const auto& [id, watcher] : table_.watchers()) {
    if (watcher.next_revision <= store_revision) {
      behind = true;
      break;
    }
  }
  if (behind && !HasRoom()) {
    // Continued when a write makes room.
    blocked_ = true;
    return false;
  }
  return behind;
}

bool WatchStream::Deliver(Watcher& watcher, WatchResponse response) {
  if (response.canceled()) {
    // Compaction overtook the watcher: etcd's answer, and the watcher is gone.
    watcher_bytes_ -= watcher.create.ByteSizeLong();
    Enqueue(std::move(response));
    table_.Remove(watcher.id);
    return false;
  }
  watcher.sent_since_progress = true;
  if (!watcher.create.fragment()) {
    Enqueue(std::move(response));
    return true;
  }
  for (WatchResponse& part : FragmentWatchResponse(response, options_.fragment_bytes)) {
    Enqueue(std::move(part));
  }
  return true;
}

bool WatchStream::CatchUp(const kv::Store& store, bool progress_due) {
  absl::MutexLock lock(&mu_);
  if (finished_ || end_.has_value()) return false;
  const int64_t revision = store.revision();
  // Round robin from where the last pass stopped: every watcher that is behind gets one page
  // per round, until all are caught up, the queue is full, or the page budget is spent.
  int pages = 0;
  bool budget_spent = false;
  bool progressed = true;
  blocked_ = false;
  while (progressed && !budget_spent) {
    progressed = false;
    std::vector<int64_t> turn;
    auto& watchers = table_.watchers();
    for (auto it = watchers.lower_bound(next_turn_); it != watchers.end(); ++it) {
      turn.push_back(it->first);
    }
    for (auto it = watchers.begin(); it != watchers.end() && it->first < next_turn_; ++it) {
      turn.push_back(it->first);
    }
    for (int64_t id : turn) {
      Watcher* watcher = table_.Find(id);
      if (watcher == nullptr || watcher->next_revision > revision) continue;
      if (!HasRoom()) {
        blocked_ = true;
        next_turn_ = id;
        break;
      }
      if (pages == options_.max_pages_per_pass) {
        budget_spent = true;
        next_turn_ = id;
        break;
      }
      ++pages;
      progressed = true;
      CatchUpStep step = CatchUpWatcher(store, *watcher, options_.max_events_per_page);
      if (step.response.has_value()) Deliver(*watcher, std::move(*step.response));
    }
    if (blocked_) break;
  }

  bool caught_up = true;
  for (const auto& [id, watcher] : table_.watchers()) {
    if (watcher.next_revision <= revision) caught_up = false;
  }
  // etcd 3.4 answers a progress request with the stream's revision at once; answering only
  // when every watcher has been sent everything up to it keeps clientv3, which moves every
  // watcher's resume revision to that header, from skipping events after a reconnect.
  if (progress_requested_ && caught_up) {
    progress_requested_ = false;
    WatchResponse response = WithRevision(revision);
    response.set_watch_id(kInvalidWatchId);
    Enqueue(std::move(response));
  }
  if (progress_due) {
    for (auto& [id, watcher] : table_.watchers()) {
      if (watcher.create.progress_notify() && !watcher.sent_since_progress &&
          watcher.next_revision > revision) {
        WatchResponse response = WithRevision(revision);
        response.set_watch_id(id);
        Enqueue(std::move(response));
      }
      watcher.sent_since_progress = false;
    }
  }
  return budget_spent;
}

// ---- Sending and ending (any thread) ----

void WatchStream::End(::grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (!end_.has_value()) end_ = std::move(status);
}

void WatchStream::Pump() {
  // Finish may run OnDone inline, which drops self_; keep the stream alive until this returns.
  std::shared_ptr<WatchStream> keep = shared_from_this();
  std::optional<::grpc::Status> finish;
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!writing_now_) {
      if (end_.has_value()) {
        finished_ = true;
        finish = *end_;
        queue_.clear();
        queued_bytes_ = 0;
      } else if (!queue_.empty()) {
        writing_ = std::move(queue_.front().response);
        queued_bytes_ -= queue_.front().bytes;
        queue_.pop_front();
        writing_now_ = true;
        write = true;
      }
    }
    // Reads are started under the lock, so none can follow Finish.
    if (!finished_ && read_paused_ && !reads_over_ && HasRoom()) {
      read_paused_ = false;
      StartRead(&request_);
    }
  }
  if (write) {
    // Outside the lock: Header() may take the backend's own locks. writing_now_ keeps Finish
    // from being called until this write is done.
    const HeaderInfo info = backend_->Header();
    etcdserverpb::ResponseHeader* header = writing_.mutable_header();
    header->set_cluster_id(info.cluster_id);
    header->set_member_id(info.member_id);
    header->set_raft_term(info.raft_term);
    StartWrite(&writing_);
  }
  if (finish.has_value()) Finish(std::move(*finish));
}

void WatchStream::OnWriteDone(bool ok) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    writing_now_ = false;
    // A failed write means the call is broken; OnCancel follows, but do not wait for it.
    if (!ok && !end_.has_value()) end_ = ::grpc::Status(::grpc::StatusCode::CANCELLED, "");
    if (blocked_ && HasRoom()) {
      blocked_ = false;
      wake = true;
    }
  }
  if (wake) hub_->Wake();
  Pump();
}

void WatchStream::OnCancel() {
  End(::grpc::Status(::grpc::StatusCode::CANCELLED, "the watch stream was canceled"));
  Pump();
}

void WatchStream::OnDone() {
  hub_->Remove(this);
  std::shared_ptr<WatchStream> last = std::move(self_);
}

}  // namespace raftkv::server::etcd
