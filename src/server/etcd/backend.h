// The narrow interface between the etcd v3 API services and the replicated node.
//
// The gRPC services in this folder never see raft: they hand writes to Backend::Write, wait for
// linearizable reads with Backend::WaitLinearizable, read the local store through Backend::Read
// and describe the cluster with Backend::Info. Write and WaitLinearizable answer through a
// callback, so that no thread waits while a request is replicated: the KV service finishes its
// gRPC call from the callback. server::EtcdBackend implements Backend over the
// node driver (src/node); tests implement it over a bare kv::Store.
//
// Thread-safety: every Backend method may be called concurrently from gRPC threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/errors.h"
#include "raftkv/kvpb/kv.pb.h"

namespace raftkv::kv {
class Store;
}  // namespace raftkv::kv

namespace raftkv::server::etcd {

struct MemberInfo {
  uint64_t id = 0;
  // Empty while the member has not started yet; etcdctl prints it as "unstarted".
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// A consistent-enough picture of the answering node, for response headers and Status.
struct NodeInfo {
  uint64_t cluster_id = 0;
  // The answering member (etcd's header.member_id), not the leader.
  uint64_t member_id = 0;
  // 0 when the node knows of no leader.
  uint64_t leader_id = 0;
  uint64_t raft_term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  int64_t db_size_bytes = 0;
  bool is_learner = false;
  std::vector<MemberInfo> members;
};

// The identity part of etcd's ResponseHeader; the revision comes from the store.
struct HeaderInfo {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
};

// Leases: the leader's view of one lease (Backend::LeaseTimeToLive).
struct LeaseTtl {
  int64_t id = 0;
  // Whole seconds until the leader expires the lease.
  int64_t remaining_seconds = 0;
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
};

// REQUIRES: thread-safe; called from gRPC threads.
class Backend {
 public:
  virtual ~Backend() = default;

  // Called exactly once with the answer to Write or WaitLinearizable. It may run on any thread
  // (in the server: the node thread, so it must be quick and must not block), and possibly
  // before the call that took it returns.
  using WriteDone = absl::AnyInvocable<void(absl::StatusOr<kvpb::Response>)>;
  using WaitDone = absl::AnyInvocable<void(absl::Status)>;

  // Replicates `request` (followers forward the proposal to the leader), waits until the entry
  // is applied to the local store and answers with the store's answer. The request's id is
  // assigned by the backend; callers may leave it 0. Errors are the canonical statuses below, or
  // the store's own InvalidArgument/OutOfRange answers. The answer comes by `deadline` (a
  // timeout error at the latest).
  virtual void Write(kvpb::Request request, absl::Time deadline, WriteDone done) = 0;

  // Confirms a read index with the leader (ReadIndex, thesis §6.4) and answers once the local
  // store has applied at least that index. After OK, Read observes every write acknowledged
  // before this call started.
  virtual void WaitLinearizable(absl::Time deadline, WaitDone done) = 0;

  // Runs `fn` with the local store held stable (under its read lock). `fn` must not block or call
  // back into the Backend.
  virtual void Read(absl::FunctionRef<void(const kv::Store&)> fn) = 0;

  virtual NodeInfo Info() = 0;

  // Membership changes (etcd's Cluster service), each replicated as one raft configuration
  // change and answered once this member has applied it. They run on the leader, which knows
  // the newest membership and every member's progress: elsewhere they return NotLeaderError()
  // and the service forwards the call to the leader. The default answers UNIMPLEMENTED.
  //
  // AddMember returns the new member (its id; no name or client URLs until it starts).
  virtual absl::StatusOr<MemberInfo> AddMember(const std::vector<std::string>& peer_urls,
                                               bool is_learner, absl::Time deadline);
  virtual absl::Status RemoveMember(uint64_t id, absl::Time deadline);
  // Makes a learner a voter, once its log has caught up with the leader's.
  virtual absl::Status PromoteMember(uint64_t id, absl::Time deadline);
  virtual absl::Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls,
                                    absl::Time deadline);

  // Hands leadership to the voter `target` (thesis §3.10) and waits until it leads. Only the
  // leader can do this (etcd's MoveLeader); elsewhere NotLeaderError(). Default: UNIMPLEMENTED.
  virtual absl::Status MoveLeader(uint64_t target, absl::Time deadline);

  // The fields every response header needs. Called on every request, so a node should override
  // it with something cheaper than Info() (which copies the member list).
  virtual HeaderInfo Header() {
    NodeInfo info = Info();
    return {
        .cluster_id = info.cluster_id, .member_id = info.member_id, .raft_term = info.raft_term};
  }

  // ---- Leases (etcd's Lease service) ----
  //
  // Grants and revokes are replicated writes: Write with a lease_grant (id 0: the node picks
  // one) or a lease_revoke request. Expiry, keep-alives and TTL queries belong to the leader; a
  // backend on another member answers LeaderChangedError, and the Lease service then forwards
  // the call to the leader. Both answer on any thread, possibly before returning, and by
  // `deadline` at the latest. The defaults answer UNIMPLEMENTED.
  //
  // A keep-alive: answers the lease's TTL, or 0 when there is no such lease (etcd's answer).
  using RenewDone = absl::AnyInvocable<void(absl::StatusOr<int64_t>)>;
  virtual void RenewLease(int64_t id, absl::Time deadline, RenewDone done);
  // kv::LeaseNotFoundError when there is no such lease.
  using TimeToLiveDone = absl::AnyInvocable<void(absl::StatusOr<LeaseTtl>)>;
  virtual void LeaseTimeToLive(int64_t id, bool with_keys, absl::Time deadline,
                               TimeToLiveDone done);
  // ---- end of Leases ----

  // ---- Watch: following the local store without polling it ----
  //
  // Called after the local store applied entries (its revision may have moved) and once when the
  // backend stops serving (Stopped() is then true). It runs on the thread that applies, so it
  // must only note the news and return: never block, never call into the Backend.
  using StoreListener = std::function<void()>;
  // Installs `listener`, replacing any earlier one; an empty function removes it, and once this
  // returns the old listener is not running and will not be called again. Returns false when the
  // backend cannot announce changes (the default): the watch service then polls the store.
  virtual bool SetStoreListener(StoreListener listener);
  // True once the backend serves no more requests (the server is stopping, or this member was
  // removed). Watch streams are then ended with "etcdserver: server stopped" so that clients
  // resume elsewhere. Default: false.
  virtual bool Stopped();
};

// The canonical operating errors a Backend returns. Their codes and messages are exactly etcd's
// (rpctypes), because clientv3 recognises errors by message text; the services pass them through
// to the client unchanged. The store's own errors (kv/errors.h) pass through the same way.
// Those of a replicated request are the node driver's own (node/errors.h).
using node::LeaderChangedError;           // UNAVAILABLE "etcdserver: leader changed"
using node::NoLeaderError;                // UNAVAILABLE "etcdserver: no leader"
using node::StoppedError;                 // UNAVAILABLE "etcdserver: server stopped"
using node::TimeoutDueToLeaderFailError;  // UNAVAILABLE "...possibly due to previous leader
                                          // failure"
using node::TimeoutError;                 // UNAVAILABLE "etcdserver: request timed out"
using node::TooManyRequestsError;         // RESOURCE_EXHAUSTED "etcdserver: too many requests"
absl::Status RequestTooLargeError();      // INVALID_ARGUMENT "etcdserver: request is too large"
absl::Status NotLeaderError();            // FAILED_PRECONDITION "etcdserver: not leader"

// Membership errors, also etcd's.
absl::Status MemberNotFoundError();       // NOT_FOUND "etcdserver: member not found"
absl::Status InvalidMemberUrlsError();    // INVALID_ARGUMENT "...given member URLs are invalid"
absl::Status PeerUrlExistsError();        // FAILED_PRECONDITION "...Peer URLs already exists"
absl::Status NotEnoughStartedError();     // FAILED_PRECONDITION "...not enough started members"
absl::Status MemberNotLearnerError();     // FAILED_PRECONDITION "...can only promote a learner..."
using node::LearnerNotReadyError;         // FAILED_PRECONDITION "...which is in sync with leader"
absl::Status BadLeaderTransfereeError();  // FAILED_PRECONDITION "etcdserver: bad leader transferee"
// A second change while one is still being applied (raft makes one change at a time, thesis
// §4.1).
using node::ChangeInProgressError;  // FAILED_PRECONDITION

// The largest client request accepted (etcd's default --max-request-bytes).
inline constexpr int64_t kMaxRequestBytes = 1536 * 1024;

}  // namespace raftkv::server::etcd
