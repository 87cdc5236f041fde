// The node driver's linearizable reads (thesis §6.4): the leader confirms a read index with a
// round of heartbeats, and a read is served once this member applied that index. One round is
// in flight at a time; the reads that arrive meanwhile share the next one, so that a burst of
// reads costs one round, not one each.
#include <utility>

#include "absl/base/internal/endian.h"
#include "node/driver.h"
#include "node/errors.h"

namespace raftkv::node {

void Driver::ReadIndex(int timeout_ticks, ReadDone done) {
  if (failed_) return done(StoppedError());
  if (leader() == 0) return done(NoLeaderError());
  if (pending_reads() >= options_.max_pending_reads) return done(TooManyRequestsError());
  next_reads_.push_back(ReadWaiter{.done = std::move(done),
                                   .deadline_tick = ticks_ + static_cast<uint64_t>(timeout_ticks)});
}

void Driver::MaybeIssueReadRound() {
  if (read_round_.has_value() || next_reads_.empty()) return;
  ReadRound& round = read_round_.emplace();
  // The context only has to be unique among this member's rounds.
  round.ctx.assign(8, '\0');
  absl::big_endian::Store64(round.ctx.data(), NextRequestId());
  round.issued_tick = ticks_;
  round.waiters = std::move(next_reads_);
  next_reads_.clear();
  ++read_rounds_;
  if (base::Counter* c = options_.metrics.read_index_rounds; c != nullptr) c->Add();
  if (base::Histogram* h = options_.metrics.reads_per_read_index_round; h != nullptr) {
    h->Observe(static_cast<double>(round.waiters.size()));
  }
  raw_->ReadIndex(round.ctx);
}

void Driver::OnReadState(const raft::ReadState& read_state) {
  // An answer to a round that was given up (retried, or the leader changed) is ignored: its
  // reads are in a newer round.
  if (!read_round_.has_value() || read_state.request_ctx != read_round_->ctx) return;
  for (ReadWaiter& w : read_round_->waiters)
    reads_to_apply_.emplace(read_state.index, std::move(w));
  read_round_.reset();
}

void Driver::ServeAppliedReads() {
  const uint64_t applied = applier_->applied_index();
  auto end = reads_to_apply_.upper_bound(applied);
  std::vector<ReadWaiter> ready;
  for (auto it = reads_to_apply_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
  reads_to_apply_.erase(reads_to_apply_.begin(), end);
  for (ReadWaiter& w : ready) w.done(absl::OkStatus());
}

absl::Status Driver::ReadDeadlineError() const {
  return leader() == 0 ? NoLeaderError() : TimeoutError();
}

void Driver::ExpireReads() {
  std::vector<ReadWaiter> expired;
  auto take_expired = [&](std::vector<ReadWaiter>& waiters) {
    for (auto it = waiters.begin(); it != waiters.end();) {
      if (it->deadline_tick <= ticks_) {
        expired.push_back(std::move(*it));
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
  };
  take_expired(next_reads_);
  if (read_round_.has_value()) take_expired(read_round_->waiters);
  for (auto it = reads_to_apply_.begin(); it != reads_to_apply_.end();) {
    if (it->second.deadline_tick <= ticks_) {
      expired.push_back(std::move(it->second));
      it = reads_to_apply_.erase(it);
    } else {
      ++it;
    }
  }
  const absl::Status why = ReadDeadlineError();
  for (ReadWaiter& w : expired) w.done(why);
}

}  // namespace raftkv::node
