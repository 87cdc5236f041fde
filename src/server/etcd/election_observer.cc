#include "server/etcd/election_observer.h"

#include <utility>

#include "kv/store.h"
#include "server/etcd/concurrency_keys.h"
#include "server/etcd/grpc_status.h"

namespace raftkv::server::etcd {

ElectionObserver* ElectionObserver::Start(Backend* backend, WatchHub* hub, const std::string& name,
                                          absl::Time first_read_deadline) {
  auto observer = std::make_shared<ElectionObserver>(backend, hub, name);
  observer->self_ = observer;
  // Like Election.Observe's first Get, the first answer is linearizable; the hub's first call
  // of OnStoreChange reads the leader.
  backend->WaitLinearizable(first_read_deadline, [observer](absl::Status ready) {
    if (!ready.ok()) return observer->End(ToGrpcStatus(ready));
    if (!observer->hub_->AddWaiter(observer)) {
      observer->End(
          ToGrpcStatus(observer->backend_->Stopped() ? StoppedError() : TooManyRequestsError()));
    }
  });
  return observer.get();
}

ElectionObserver::ElectionObserver(Backend* backend, WatchHub* hub, const std::string& name)
    : backend_(backend), hub_(hub), prefix_(ContenderPrefix(name)) {}

bool ElectionObserver::OnStoreChange(bool stopped) {
  if (stopped) {
    End(ToGrpcStatus(StoppedError()));
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (end_.has_value() || finished_) return false;
  }
  absl::StatusOr<etcdserverpb::RangeResponse> leader;
  backend_->Read([&](const kv::Store& store) { leader = store.Range(FirstCreated(prefix_)); });
  if (!leader.ok() || leader->kvs_size() == 0) return true;
  const mvccpb::KeyValue& kv = leader->kvs(0);
  {
    absl::MutexLock lock(&mu_);
    if (kv.key() == last_key_ && kv.mod_revision() == last_mod_revision_) return true;
    last_key_ = kv.key();
    last_mod_revision_ = kv.mod_revision();
    v3electionpb::LeaderResponse response;
    const HeaderInfo info = backend_->Header();
    etcdserverpb::ResponseHeader* header = response.mutable_header();
    header->set_cluster_id(info.cluster_id);
    header->set_member_id(info.member_id);
    header->set_raft_term(info.raft_term);
    header->set_revision(leader->header().revision());
    *response.mutable_kv() = kv;
    queued_ = std::move(response);
  }
  Pump();
  return true;
}

void ElectionObserver::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok && !end_.has_value()) end_ = ::grpc::Status::CANCELLED;
  }
  Pump();
}

void ElectionObserver::OnCancel() {
  hub_->RemoveWaiter(this);
  End(::grpc::Status::CANCELLED);
}

void ElectionObserver::OnDone() {
  hub_->RemoveWaiter(this);
  // The last reference may be this one; the object goes when `last` does, at return.
  std::shared_ptr<ElectionObserver> last = std::move(self_);
}

void ElectionObserver::End(::grpc::Status status) {
  {
    absl::MutexLock lock(&mu_);
    if (!end_.has_value()) end_ = std::move(status);
  }
  Pump();
}

void ElectionObserver::Pump() {
  std::optional<::grpc::Status> finish;
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || writing_) return;
    if (end_.has_value()) {
      finished_ = true;
      finish = *end_;
    } else if (queued_.has_value()) {
      writing_ = true;
      sending_ = std::move(*queued_);
      queued_.reset();
      write = true;
    }
  }
  // gRPC is called without the lock, so that a reaction it runs at once cannot deadlock on it.
  if (finish.has_value()) {
    Finish(*finish);
  } else if (write) {
    StartWrite(&sending_);
  }
}

}  // namespace raftkv::server::etcd
