#include "sim/observed_applier.h"

#include <utility>

#include "fmt/format.h"
#include "sim/hash_mix.h"
#include "sim/lease_checker.h"

namespace raftkv::sim {
namespace {

uint64_t MixString(uint64_t h, std::string_view s) {
  h = HashMix(h, s.size());
  for (unsigned char c : s) h = HashMix(h, c);
  return h;
}

}  // namespace

ObservedApplier::ObservedApplier(std::unique_ptr<node::StoreApplier> inner,
                                 NodeObserver* observer, OnRequest on_request)
    : inner_(std::move(inner)), observer_(observer), on_request_(std::move(on_request)) {}

uint64_t ObservedApplier::Digest() const {
  // Not kv::Store::HashKV, which hashes every version ever kept and would make each apply cost
  // as much as the whole history (quadratic over a run). Instead: every live key with its
  // revisions, version and value, plus the revision counters and the bytes the history holds.
  // Every version is compared at the index that wrote it, so replicas that agree here at
  // every index agree on the history too; the history's size covers what a restored snapshot
  // brought. Leases and the lease of every key are in it, so a revoke that deleted its keys at
  // different revisions, or a lease lost by a restart or a snapshot, differs too.
  const kv::Store& store = inner_->store();
  uint64_t h = HashMix(0, static_cast<uint64_t>(store.revision()));
  h = HashMix(h, static_cast<uint64_t>(store.compact_revision()));
  h = HashMix(h, static_cast<uint64_t>(store.size_bytes()));
  h = HashMix(h, static_cast<uint64_t>(store.live_keys()));
  h = HashMix(h, store.applied_index());
  etcdserverpb::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  absl::StatusOr<etcdserverpb::RangeResponse> live = store.Range(all);
  if (live.ok()) {
    for (const mvccpb::KeyValue& kv : live->kvs()) {
      h = MixString(h, kv.key());
      h = HashMix(h, static_cast<uint64_t>(kv.create_revision()));
      h = HashMix(h, static_cast<uint64_t>(kv.mod_revision()));
      h = HashMix(h, static_cast<uint64_t>(kv.version()));
      h = HashMix(h, static_cast<uint64_t>(kv.lease()));
      h = MixString(h, kv.value());
    }
  } else {
    h = HashMix(h, 0xbadULL);
  }
  // Leases are replicated state too (their expiry is not: only the leader keeps it).
  for (const kv::LeaseState& lease : store.Leases()) {
    h = HashMix(h, static_cast<uint64_t>(lease.id));
    h = HashMix(h, static_cast<uint64_t>(lease.ttl));
  }
  for (const peerpb::Member& m : inner_->members().List()) {
    h = HashMix(h, m.id());
    h = MixString(h, m.name());
    h = HashMix(h, m.is_learner() ? 1 : 0);
  }
  for (uint64_t id : inner_->members().RemovedIds()) h = HashMix(h, id);
  return h;
}

void ObservedApplier::Applied(uint64_t index) {
  const uint64_t node = observer_->node;
  const raftpb::Entry* entry = observer_->CommittedEntry(index);
  if (entry == nullptr) {
    observer_->checker->Report(
        kStateMachineSafety,
        fmt::format("node {} applied index {}, which its Ready did not commit", node, index),
        {node});
    return;
  }
  last_applied_ = *entry;
  has_last_applied_ = true;
  observer_->trace->Add(TraceEvent{.at_us = observer_->now_us(),
                                   .kind = TraceKind::kApply,
                                   .a = node,
                                   .b = entry->index(),
                                   .c = entry->term()});
  observer_->checker->ObserveApply(node, *entry, Digest());
}

absl::StatusOr<kvpb::Response> ObservedApplier::ApplyRequest(uint64_t index,
                                                             const kvpb::Request& request) {
  absl::StatusOr<kvpb::Response> response = inner_->ApplyRequest(index, request);
  if (on_request_) on_request_(index, request);
  if (observer_->leases != nullptr) {
    if (const raftpb::Entry* entry = observer_->CommittedEntry(index); entry != nullptr) {
      observer_->leases->ObserveApplied(observer_->node, *entry, request);
    }
  }
  Applied(index);
  return response;
}

void ObservedApplier::ApplyConfChange(uint64_t index, const raftpb::ConfChange& change) {
  inner_->ApplyConfChange(index, change);
  Applied(index);
}

void ObservedApplier::ApplyMemberAttributes(uint64_t index, const peerpb::Member& attributes) {
  inner_->ApplyMemberAttributes(index, attributes);
  Applied(index);
}

void ObservedApplier::MarkApplied(uint64_t index) {
  inner_->MarkApplied(index);
  Applied(index);
}

absl::Status ObservedApplier::Restore(uint64_t index, std::string_view data) {
  const uint64_t node = observer_->node;
  if (absl::Status s = inner_->Restore(index, data); !s.ok()) {
    observer_->checker->Report(kStateMachineSafety,
                               fmt::format("node {} cannot restore the snapshot at index {}: {}",
                                           node, index, s.ToString()),
                               {node});
    return s;
  }
  if (!started_) return absl::OkStatus();
  raftpb::SnapshotMetadata metadata;
  if (observer_->snapshot.has_value()) metadata = *observer_->snapshot;
  if (metadata.index() != index) {
    observer_->checker->Report(
        kStateMachineSafety,
        fmt::format("node {} restored a snapshot at index {} while handling one at index {}", node,
                    index, metadata.index()),
        {node});
    return absl::OkStatus();
  }
  observer_->checker->ObserveApplySnapshot(node, metadata, Digest());
  return absl::OkStatus();
}

}  // namespace raftkv::sim
