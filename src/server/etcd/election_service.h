// etcd's v3election service (v3electionpb.Election: Campaign, Proclaim, Leader, Observe,
// Resign) with the semantics of etcd 3.4's etcdserver/api/v3election, which runs
// concurrency.Election on the server:
//
//   Campaign: the candidate's key is "<name>/<lease hex>" (a new 60-second lease when the
//   request's is 0), put with the value if it does not exist; an existing key (this lease
//   campaigned before) keeps its create revision and gets the new value through Proclaim. The
//   call then waits (TurnWaiter) until every key created before it is deleted, and answers the
//   campaign txn's header and the LeaderKey {name, key, rev = the key's create revision, lease}.
//   Cancelled or past its deadline, it resigns (deletes its key if still the same one).
//   Proclaim: puts the value if the leader key still has create revision `rev`, else
//   "election: not leader". Resign: deletes the key if it still has that create revision.
//   Leader: the oldest key under "<name>/" (a linearizable read), else "election: no leader".
//   Observe: streams the leader's key-value as it changes (election_observer.h).
//
// Thread-safety: thread-safe; gRPC calls the methods concurrently.
#pragma once

#include "absl/time/time.h"
#include "etcd/etcdserver/api/v3election/v3electionpb/v3election.grpc.pb.h"
#include "server/etcd/backend.h"
#include "server/etcd/watch_hub.h"

namespace raftkv::server::etcd {

class ElectionService final : public v3electionpb::Election::CallbackService {
 public:
  // `backend` and `hub` are not owned and must outlive the service. `request_timeout` bounds
  // each write and read a call makes (a campaign's wait is bounded only by the client).
  ElectionService(Backend* backend, WatchHub* hub, absl::Duration request_timeout);

  ::grpc::ServerUnaryReactor* Campaign(::grpc::CallbackServerContext* context,
                                       const v3electionpb::CampaignRequest* request,
                                       v3electionpb::CampaignResponse* response) override;
  ::grpc::ServerUnaryReactor* Proclaim(::grpc::CallbackServerContext* context,
                                       const v3electionpb::ProclaimRequest* request,
                                       v3electionpb::ProclaimResponse* response) override;
  ::grpc::ServerUnaryReactor* Leader(::grpc::CallbackServerContext* context,
                                     const v3electionpb::LeaderRequest* request,
                                     v3electionpb::LeaderResponse* response) override;
  ::grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* Observe(
      ::grpc::CallbackServerContext* context, const v3electionpb::LeaderRequest* request) override;
  ::grpc::ServerUnaryReactor* Resign(::grpc::CallbackServerContext* context,
                                     const v3electionpb::ResignRequest* request,
                                     v3electionpb::ResignResponse* response) override;

 private:
  class CampaignCall;
  void FillHeader(etcdserverpb::ResponseHeader* header, int64_t revision);
  // The txn `if key's create revision is `rev` then `op`` through the log.
  using TxnDone = absl::AnyInvocable<void(absl::StatusOr<etcdserverpb::TxnResponse>)>;
  void IfStillCreatedAt(const std::string& key, int64_t rev, etcdserverpb::RequestOp op,
                        absl::Time deadline, TxnDone done);

  Backend* const backend_;
  WatchHub* const hub_;
  const absl::Duration request_timeout_;
};

}  // namespace raftkv::server::etcd
