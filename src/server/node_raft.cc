// The raft thread of Node: the only code that touches the RawNode and the LogStore.
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/base/internal/endian.h"
#include "raftkv/peerpb/peer.pb.h"
#include "server/node.h"

namespace raftkv::server {
namespace {

// How long a ReadIndex request may stay unanswered before it is asked again: the leader may
// have changed and dropped it.
constexpr absl::Duration kReadRetryInterval = absl::Milliseconds(500);
// How often a member re-proposes its attributes until it sees them applied.
constexpr absl::Duration kPublishRetryInterval = absl::Seconds(1);

}  // namespace

void Node::RunRaft() {
  absl::Time next_tick = absl::Now() + options_.tick_interval;
  while (true) {
    Inbox inbox;
    {
      absl::MutexLock lock(&inbox_mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox_mu_) {
        return stopping_ || !inbox_.empty();
      };
      inbox_mu_.AwaitWithDeadline(absl::Condition(&has_work), next_tick);
      if (stopping_) return;
      std::swap(inbox, inbox_);
    }
    const absl::Time now = absl::Now();
    if (now >= next_tick) {
      raw_node_->Tick();
      next_tick += options_.tick_interval;
      // After a stall (a slow disk, a paused process), do not fire a burst of ticks.
      if (next_tick < now) next_tick = now + options_.tick_interval;
      RetryReads();
      MaybePublishAttributes();
    }
    ProcessInbox(std::move(inbox));
    while (raw_node_->HasReady()) HandleReady(raw_node_->GetReady());
  }
}

void Node::ProcessInbox(Inbox inbox) {
  for (const raftpb::Message& m : inbox.messages) {
    absl::Status s = raw_node_->Step(m);
    if (!s.ok() && !raft::IsStepPeerNotFound(s)) {
      log_.debug("raft refused a {} from {:x}: {}", raftpb::MessageType_Name(m.msg_type()),
                 m.from(), std::string(s.message()));
    }
  }
  for (uint64_t id : inbox.unreachable) raw_node_->ReportUnreachable(id);
  for (auto [id, delivered] : inbox.snapshot_reports) {
    raw_node_->ReportSnapshot(
        id, delivered ? raft::SnapshotStatus::kFinish : raft::SnapshotStatus::kFailure);
  }
  // All proposals queued since the last round go into the same Ready: one append, one fsync.
  for (auto& [id, data] : inbox.proposals) {
    absl::Status s = raw_node_->Propose(std::move(data));
    if (!s.ok()) {
      // The waiter learns the reason; the entry was never appended.
      write_waiters_.Complete(
          id, leader_id_.load() == 0 ? etcd::NoLeaderError() : etcd::LeaderChangedError());
    }
  }
  for (MembershipProposal& change : inbox.membership_changes) {
    ProposeMembershipChange(std::move(change));
  }
  if (inbox.transfer_leader_to != 0) raw_node_->TransferLeader(inbox.transfer_leader_to);
  if (!inbox.reads.empty()) IssueReads(std::move(inbox.reads));
  if (inbox.snapshot.has_value()) TakeSnapshot(std::move(*inbox.snapshot));
}

void Node::IssueReads(std::vector<StatusPromise> reads) {
  // One ReadIndex serves every read queued since the last one (thesis §6.4: batching reads).
  std::string ctx(8, '\0');
  absl::big_endian::Store64(ctx.data(), NextRequestId());
  PendingRead& pending = pending_reads_[ctx];
  pending.waiters = std::move(reads);
  pending.issued = absl::Now();
  raw_node_->ReadIndex(ctx);
}

void Node::RetryReads() {
  const absl::Time now = absl::Now();
  for (auto& [ctx, read] : pending_reads_) {
    if (now - read.issued < kReadRetryInterval) continue;
    read.issued = now;
    raw_node_->ReadIndex(ctx);
  }
  // Callers whose deadline passed have stopped waiting; a read with no leader for a long time
  // is answered so that its promise does not linger.
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    if (leader_id_.load() == 0 && now - it->second.issued > absl::Seconds(5)) {
      for (StatusPromise& p : it->second.waiters) p->set_value(etcd::NoLeaderError());
      pending_reads_.erase(it++);
    } else {
      ++it;
    }
  }
}

void Node::MaybePublishAttributes() {
  // Like etcd, a member announces its name and client URLs through the log once it has a
  // leader, so that every member's MemberList shows them.
  if (attributes_published_.load() || leader_id_.load() == 0) return;
  const absl::Time now = absl::Now();
  if (now < next_publish_) return;
  next_publish_ = now + kPublishRetryInterval;
  peerpb::Proposal proposal;
  proposal.set_request_id(NextRequestId());
  peerpb::Member* attributes = proposal.mutable_member_attributes();
  attributes->set_id(membership_->local_id());
  attributes->set_name(options_.name);
  for (const std::string& url : options_.client_urls) attributes->add_client_urls(url);
  (void)raw_node_->Propose(proposal.SerializeAsString());
}

void Node::HandleReady(raft::Ready ready) {
  if (ready.soft_state.has_value()) {
    const uint64_t previous = leader_id_.exchange(ready.soft_state->leader);
    if (previous != ready.soft_state->leader) {
      if (ready.soft_state->leader == 0) {
        log_.warn("lost the leader {:x}; no leader now", previous);
      } else {
        log_.info("member {:x} is the leader now{}", ready.soft_state->leader,
                  ready.soft_state->leader == membership_->local_id() ? " (this member)" : "");
      }
    }
  }
  if (ready.hard_state.has_value()) {
    term_ = ready.hard_state->term();
    commit_index_ = ready.hard_state->commit();
  }
  // The leader's appends leave before its own write: replication and the local fsync overlap
  // (thesis §10.2.1). Everything in `messages` is safe to send before persistence.
  if (!ready.messages.empty()) transport_->Send(std::move(ready.messages));

  if (absl::Status s = log_store_->Save(ready); !s.ok()) {
    // The kernel may have dropped the unsynced pages: retrying an fsync is not safe, and going
    // on would break the promise votes and acknowledgements make (§5.2, §5.3).
    log_.critical("cannot persist the raft log: {}; stopping", std::string(s.message()));
    spdlog::shutdown();
    std::_Exit(1);
  }
  if (ready.snapshot.has_value()) {
    snapshot_index_ = ready.snapshot->metadata().index();
    conf_state_ = ready.snapshot->metadata().conf_state();
  }
  // Votes and append responses promise durable state; they go out only now.
  if (!ready.persisted_messages.empty()) transport_->Send(std::move(ready.persisted_messages));

  for (const raft::ReadState& rs : ready.read_states) {
    auto it = pending_reads_.find(rs.request_ctx);
    if (it == pending_reads_.end()) continue;
    for (StatusPromise& p : it->second.waiters) read_waiters_.Wait(rs.index, std::move(p));
    pending_reads_.erase(it);
  }

  // Membership changes take effect when applied; the core must hear of them in log order.
  for (const raftpb::Entry& e : ready.committed_entries) {
    if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      if (cc.ParseFromString(e.data())) {
        conf_state_ = raw_node_->ApplyConfChange(cc);
        FollowMembershipChange(cc);
      }
    } else if (e.entry_type() == raftpb::ENTRY_CONF_CHANGE_V2) {
      raftpb::ConfChangeV2 cc;
      if (cc.ParseFromString(e.data())) conf_state_ = raw_node_->ApplyConfChange(cc);
    }
  }
  if (ready.snapshot.has_value() || !ready.committed_entries.empty()) {
    ApplyTask task;
    task.snapshot = std::move(ready.snapshot);
    task.entries = std::move(ready.committed_entries);
    task.conf_state = conf_state_;
    absl::MutexLock lock(&apply_mu_);
    apply_queue_.push_back(std::move(task));
  }
  raw_node_->Advance();
}

void Node::TakeSnapshot(StateAtIndex state) {
  const uint64_t index = state.index;
  if (index <= snapshot_index_) return;  // a newer snapshot arrived from the leader meanwhile
  absl::Status s = log_store_->CreateSnapshot(index, state.conf_state, std::move(state.data));
  if (!s.ok()) {
    log_.warn("cannot record a snapshot at index {}: {}", index, std::string(s.message()));
    return;
  }
  snapshot_index_ = index;
  // Keep some entries behind the snapshot: a follower just behind then catches up from the log
  // instead of receiving the whole state (§7).
  if (index > options_.snapshot_catchup_entries) {
    const uint64_t compact_index = index - options_.snapshot_catchup_entries;
    if (compact_index > log_store_->storage().FirstIndex()) {
      if (absl::Status c = log_store_->Compact(compact_index); !c.ok()) {
        log_.warn("cannot compact the log to {}: {}", compact_index, std::string(c.message()));
      }
    }
  }
  log_.info("snapshot at index {}; log compacted to {}", index, log_store_->storage().FirstIndex());
}

}  // namespace raftkv::server
