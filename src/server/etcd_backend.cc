#include "server/etcd_backend.h"

#include <future>
#include <memory>
#include <utility>

#include "server/membership_change.h"

namespace raftkv::server {
namespace {

// Ticks the gRPC thread waits past a deadline for the driver's answer.
constexpr int kSlackTicks = 2;

}  // namespace

etcd::MemberInfo ToMemberInfo(const peerpb::Member& m) {
  etcd::MemberInfo info;
  info.id = m.id();
  info.name = m.name();
  info.peer_urls.assign(m.peer_urls().begin(), m.peer_urls().end());
  info.client_urls.assign(m.client_urls().begin(), m.client_urls().end());
  info.is_learner = m.is_learner();
  return info;
}

EtcdBackend::EtcdBackend(NodeThread* node, const LockedApplier* state, const Membership* membership,
                         std::shared_ptr<spdlog::logger> logger)
    : node_(node), state_(state), membership_(membership), logger_(std::move(logger)) {}

template <typename Result, typename Start>
Result EtcdBackend::CallDriver(absl::Time deadline, Start start) {
  std::promise<Result> promise;
  std::future<Result> answer = promise.get_future();
  const int ticks = node_->TicksUntil(deadline);
  const bool posted = node_->Post([start = std::move(start), ticks,
                                   promise = std::move(promise)](node::Driver& driver) mutable {
    start(driver, ticks,
          [promise = std::move(promise)](Result r) mutable { promise.set_value(std::move(r)); });
  });
  if (!posted) return etcd::StoppedError();
  const absl::Time patience = deadline + kSlackTicks * node_->tick_interval();
  if (answer.wait_until(absl::ToChronoTime(patience)) != std::future_status::ready) {
    return etcd::TimeoutError();
  }
  return answer.get();
}

void EtcdBackend::Write(kvpb::Request request, absl::Time deadline, WriteDone done) {
  if (node_->stopped()) return done(etcd::StoppedError());
  if (static_cast<int64_t>(request.ByteSizeLong()) > max_request_bytes_) {
    return done(etcd::RequestTooLargeError());
  }
  // The task owns `done` until the driver takes it; a task that never runs (the thread stopped
  // first) is destroyed unrun, so a refused post is answered here, not by the task.
  // Counted for /metrics: pending until answered; failed when raft did not apply it (the
  // driver's own errors: UNAVAILABLE ones, and "too many requests"). The store's answers, such
  // as "database space exceeded", are not failures of the proposal.
  proposals_pending_.fetch_add(1, std::memory_order_relaxed);
  auto task = std::make_shared<WriteDone>(
      [this, done = std::move(done)](absl::StatusOr<kvpb::Response> answer) mutable {
        proposals_pending_.fetch_sub(1, std::memory_order_relaxed);
        if (!answer.ok() && (absl::IsUnavailable(answer.status()) ||
                             answer.status() == etcd::TooManyRequestsError())) {
          proposals_failed_.fetch_add(1, std::memory_order_relaxed);
        }
        done(std::move(answer));
      });
  const int ticks = node_->TicksUntil(deadline);
  const bool posted =
      node_->Post([request = std::move(request), ticks, task](node::Driver& driver) mutable {
        driver.Write(std::move(request), ticks, std::move(*task));
      });
  if (!posted) (*task)(etcd::StoppedError());
}

void EtcdBackend::WaitLinearizable(absl::Time deadline, WaitDone done) {
  if (node_->stopped()) return done(etcd::StoppedError());
  auto task = std::make_shared<WaitDone>(std::move(done));
  const int ticks = node_->TicksUntil(deadline);
  const bool posted = node_->Post(
      [ticks, task](node::Driver& driver) { driver.ReadIndex(ticks, std::move(*task)); });
  if (!posted) (*task)(etcd::StoppedError());
}

void EtcdBackend::Read(absl::FunctionRef<void(const kv::Store&)> fn) {
  state_->Read([&](const node::StoreApplier& state) { fn(state.store()); });
}

etcd::NodeInfo EtcdBackend::Info() {
  etcd::NodeInfo info;
  info.cluster_id = membership_->cluster_id();
  info.member_id = membership_->local_id();
  info.leader_id = node_->leader();
  info.raft_term = node_->term();
  info.commit_index = node_->commit();
  info.applied_index = node_->applied();
  state_->Read(
      [&](const node::StoreApplier& state) { info.db_size_bytes = state.store().size_bytes(); });
  for (const peerpb::Member& m : membership_->List()) {
    if (m.id() == info.member_id) info.is_learner = m.is_learner();
    info.members.push_back(ToMemberInfo(m));
  }
  return info;
}

etcd::HeaderInfo EtcdBackend::Header() {
  return {.cluster_id = membership_->cluster_id(),
          .member_id = membership_->local_id(),
          .raft_term = node_->term()};
}

absl::StatusOr<etcd::MemberInfo> EtcdBackend::AddMember(const std::vector<std::string>& peer_urls,
                                                        bool is_learner, absl::Time deadline) {
  if (node_->stopped()) return etcd::StoppedError();
  if (!node_->is_leader()) return etcd::NotLeaderError();
  absl::StatusOr<PlannedAdd> plan = PlanAddMember(membership_->Get(), peer_urls, is_learner,
                                                  membership_->cluster_id(), absl::Now());
  if (!plan.ok()) return plan.status();
  if (absl::Status s = ChangeMembership(plan->change, deadline); !s.ok()) return s;
  logger_->info("added {} {:x} with peer URLs {}", is_learner ? "learner" : "member",
                plan->member.id(), peer_urls.front());
  return ToMemberInfo(plan->member);
}

absl::Status EtcdBackend::RemoveMember(uint64_t id, absl::Time deadline) {
  if (node_->stopped()) return etcd::StoppedError();
  if (!node_->is_leader()) return etcd::NotLeaderError();
  return ChangeMembership(PlanRemoveMember(membership_->Get(), id), deadline);
}

absl::Status EtcdBackend::PromoteMember(uint64_t id, absl::Time deadline) {
  if (node_->stopped()) return etcd::StoppedError();
  if (!node_->is_leader()) return etcd::NotLeaderError();
  return ChangeMembership(PlanPromoteMember(membership_->Get(), id), deadline);
}

absl::Status EtcdBackend::UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls,
                                       absl::Time deadline) {
  if (node_->stopped()) return etcd::StoppedError();
  if (!node_->is_leader()) return etcd::NotLeaderError();
  return ChangeMembership(PlanUpdateMember(membership_->Get(), id, peer_urls), deadline);
}

absl::Status EtcdBackend::ChangeMembership(absl::StatusOr<node::MembershipChange> change,
                                           absl::Time deadline) {
  if (!change.ok()) return change.status();
  return CallDriver<node::WriteResult>(
             deadline,
             [change = std::move(*change)](node::Driver& driver, int ticks,
                                           node::WriteDone done) mutable {
               driver.ChangeMembership(std::move(change), ticks, std::move(done));
             })
      .status();
}

absl::Status EtcdBackend::MoveLeader(uint64_t target, absl::Time deadline) {
  if (node_->stopped()) return etcd::StoppedError();
  if (!node_->is_leader()) return etcd::NotLeaderError();
  std::optional<peerpb::Member> member = membership_->Find(target);
  if (!member.has_value() || member->is_learner()) return etcd::BadLeaderTransfereeError();
  if (target == membership_->local_id()) return absl::OkStatus();
  if (!node_->Post([target](node::Driver& driver) { driver.TransferLeader(target); })) {
    return etcd::StoppedError();
  }
  // The transfer ends with the target's election (a MsgTimeoutNow, §3.10); the published
  // leader then names it. A transfer that does not finish within an election timeout is
  // abandoned by the core, and the caller sees a timeout.
  while (absl::Now() < deadline) {
    if (node_->leader() == target) return absl::OkStatus();
    if (node_->stopped()) return etcd::StoppedError();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return etcd::TimeoutError();
}

// Leases. The driver answers on the node thread; a member that does not lead answers
// LeaderChangedError; forwarding to the leader, as etcd does, is not built yet.
void EtcdBackend::RenewLease(int64_t id, absl::Time deadline, RenewDone done) {
  if (node_->stopped()) return done(etcd::StoppedError());
  auto task = std::make_shared<RenewDone>(std::move(done));
  const int ticks = node_->TicksUntil(deadline);
  const bool posted = node_->Post(
      [id, ticks, task](node::Driver& driver) { driver.RenewLease(id, ticks, std::move(*task)); });
  if (!posted) (*task)(etcd::StoppedError());
}

void EtcdBackend::LeaseTimeToLive(int64_t id, bool with_keys, absl::Time deadline,
                                  TimeToLiveDone done) {
  if (node_->stopped()) return done(etcd::StoppedError());
  auto task = std::make_shared<TimeToLiveDone>(std::move(done));
  const int ticks = node_->TicksUntil(deadline);
  const bool posted = node_->Post([id, with_keys, ticks, task](node::Driver& driver) {
    driver.LeaseTimeToLive(id, with_keys, ticks,
                           [task](absl::StatusOr<node::LeaseTimeToLiveResult> result) {
                             if (!result.ok()) return (*task)(result.status());
                             (*task)(etcd::LeaseTtl{
                                 .id = result->id,
                                 .remaining_seconds = result->remaining_seconds,
                                 .granted_ttl = result->granted_ttl,
                                 .keys = std::move(result->keys)});
                           });
  });
  if (!posted) (*task)(etcd::StoppedError());
}

// ---- Watch ----

bool EtcdBackend::SetStoreListener(StoreListener listener) {
  node_->SetAppliedListener(std::move(listener));
  return true;
}

bool EtcdBackend::Stopped() { return node_->stopped(); }

}  // namespace raftkv::server
