// The etcd API's Backend over this member's node thread: requests become tasks for the driver.
//
// Writes and read-index waits are answered by the driver on the node thread, through the
// caller's callback; no thread waits for them. The driver answers every request by its deadline
// (counted in ticks) with etcd's error for the case. Membership changes, rare and issued by
// operators, still wait on the calling thread: a little longer than the deadline, so that the
// driver's answer, not a guess made here, reaches the client. Reads of the store and the member list take the
// applied state's reader lock; response headers use only the node thread's published values.
//
// Thread-safety: thread-safe (gRPC threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "server/etcd/backend.h"
#include "server/locked_applier.h"
#include "server/membership.h"
#include "server/node_thread.h"
#include "spdlog/spdlog.h"

namespace raftkv::server {

// The API layer's picture of a member.
etcd::MemberInfo ToMemberInfo(const peerpb::Member& member);

class EtcdBackend final : public etcd::Backend {
 public:
  // The three must outlive the backend.
  EtcdBackend(NodeThread* node, const LockedApplier* state, const Membership* membership,
              std::shared_ptr<spdlog::logger> logger);

  void Write(kvpb::Request request, absl::Time deadline, WriteDone done) override;
  void WaitLinearizable(absl::Time deadline, WaitDone done) override;
  void Read(absl::FunctionRef<void(const kv::Store&)> fn) override;
  etcd::NodeInfo Info() override;
  etcd::HeaderInfo Header() override;

  absl::StatusOr<etcd::MemberInfo> AddMember(const std::vector<std::string>& peer_urls,
                                             bool is_learner, absl::Time deadline) override;
  absl::Status RemoveMember(uint64_t id, absl::Time deadline) override;
  absl::Status PromoteMember(uint64_t id, absl::Time deadline) override;
  absl::Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls,
                            absl::Time deadline) override;
  absl::Status MoveLeader(uint64_t target, absl::Time deadline) override;

  // ---- Watch: the node thread announces every pass that applied entries ----
  bool SetStoreListener(StoreListener listener) override;
  bool Stopped() override;
  // ---- end of Watch ----

  // ---- Leases: answered by the driver from the leader's lease clock ----
  void RenewLease(int64_t id, absl::Time deadline, RenewDone done) override;
  void LeaseTimeToLive(int64_t id, bool with_keys, absl::Time deadline,
                       TimeToLiveDone done) override;
  // ---- end of Leases ----

  // etcd's --max-request-bytes: a larger request is refused before it is proposed. Set before
  // serving.
  void set_max_request_bytes(int64_t bytes) { max_request_bytes_ = bytes; }

  // For /metrics: writes waiting for their answer, and writes raft failed to apply.
  int64_t proposals_pending() const { return proposals_pending_.load(std::memory_order_relaxed); }
  uint64_t proposals_failed() const { return proposals_failed_.load(std::memory_order_relaxed); }

 private:
  // Proposes `change` through the driver and waits until this member applied it.
  absl::Status ChangeMembership(absl::StatusOr<node::MembershipChange> change, absl::Time deadline);
  // Posts `start(driver, ticks_until_deadline, done)` to the node thread and waits for `done`'s
  // answer until a little past the deadline (the driver's own answer comes at the first tick
  // after it). StoppedError if the node thread is not running; TimeoutError if no answer came.
  template <typename Result, typename Start>
  Result CallDriver(absl::Time deadline, Start start);

  NodeThread* const node_;
  const LockedApplier* const state_;
  const Membership* const membership_;
  std::shared_ptr<spdlog::logger> logger_;
  int64_t max_request_bytes_ = etcd::kMaxRequestBytes;
  std::atomic<int64_t> proposals_pending_{0};
  std::atomic<uint64_t> proposals_failed_{0};
};

}  // namespace raftkv::server
