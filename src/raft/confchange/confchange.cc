#include "raft/confchange/confchange.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/substitute.h"

namespace raftkv::raft::confchange {
namespace {

using tracker::Progress;
using tracker::ProgressMap;
using tracker::TrackerConfig;

// Working copy of a configuration being changed.
class Builder {
 public:
  Builder(TrackerConfig config, ProgressMap progress, size_t max_inflight,
          uint64_t max_inflight_bytes, uint64_t last_index)
      : config_(std::move(config)),
        progress_(std::move(progress)),
        max_inflight_(max_inflight),
        max_inflight_bytes_(max_inflight_bytes),
        last_index_(last_index) {}

  TrackerConfig& config() { return config_; }
  ProgressMap& progress() { return progress_; }

  absl::Status Apply(const std::vector<raftpb::ConfChangeSingle>& changes) {
    for (const raftpb::ConfChangeSingle& cc : changes) {
      // A zero node id marks a change the application decided not to apply.
      if (cc.node_id() == 0) continue;
      switch (cc.change_type()) {
        case raftpb::CONF_CHANGE_ADD_NODE:
          MakeVoter(cc.node_id());
          break;
        case raftpb::CONF_CHANGE_ADD_LEARNER_NODE:
          MakeLearner(cc.node_id());
          break;
        case raftpb::CONF_CHANGE_REMOVE_NODE:
          Remove(cc.node_id());
          break;
        case raftpb::CONF_CHANGE_UPDATE_NODE:
          break;
        default:
          return absl::InvalidArgumentError(
              absl::Substitute("unknown conf change type $0", static_cast<int>(cc.change_type())));
      }
    }
    if (config_.voters.incoming().empty()) {
      return absl::InvalidArgumentError("the change would remove all voters");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ChangeResult> CheckAndReturn() {
    if (absl::Status s = CheckInvariants(); !s.ok()) return s;
    return ChangeResult{std::move(config_), std::move(progress_)};
  }

  absl::Status CheckInvariants() const {
    auto need_progress = [&](uint64_t id) -> absl::Status {
      if (progress_.count(id) == 0) {
        return absl::InternalError(absl::Substitute("no progress for node $0", id));
      }
      return absl::OkStatus();
    };
    for (uint64_t id : config_.voters.IDs()) {
      if (auto s = need_progress(id); !s.ok()) return s;
    }
    for (uint64_t id : config_.learners) {
      if (auto s = need_progress(id); !s.ok()) return s;
      if (config_.voters.Contains(id)) {
        return absl::InternalError(absl::Substitute("node $0 is both learner and voter", id));
      }
      if (!progress_.at(id).is_learner()) {
        return absl::InternalError(absl::Substitute("learner $0 is not marked as learner", id));
      }
    }
    for (uint64_t id : config_.learners_next) {
      if (auto s = need_progress(id); !s.ok()) return s;
      if (!config_.voters.outgoing().Contains(id)) {
        return absl::InternalError(
            absl::Substitute("next learner $0 is not an outgoing voter", id));
      }
      if (progress_.at(id).is_learner()) {
        return absl::InternalError(absl::Substitute("next learner $0 is already a learner", id));
      }
    }
    if (!config_.voters.IsJoint()) {
      if (!config_.learners_next.empty()) {
        return absl::InternalError("learners_next must be empty outside a joint config");
      }
      if (config_.auto_leave) {
        return absl::InternalError("auto_leave must be false outside a joint config");
      }
    }
    return absl::OkStatus();
  }

 private:
  void InitProgress(uint64_t id, bool is_learner) {
    if (is_learner) {
      config_.learners.insert(id);
    } else {
      config_.voters.mutable_incoming().mutable_voters().insert(id);
    }
    // Next starts at the leader's last index so the first probe needs no search; match 0.
    Progress pr(std::max<uint64_t>(last_index_, 1), max_inflight_, max_inflight_bytes_, is_learner);
    // A new peer counts as active so that CheckQuorum does not depose the leader before the
    // peer had a chance to answer.
    pr.set_recent_active(true);
    progress_.insert_or_assign(id, std::move(pr));
  }

  void MakeVoter(uint64_t id) {
    auto it = progress_.find(id);
    if (it == progress_.end()) {
      InitProgress(id, /*is_learner=*/false);
      return;
    }
    it->second.set_is_learner(false);
    config_.learners.erase(id);
    config_.learners_next.erase(id);
    config_.voters.mutable_incoming().mutable_voters().insert(id);
  }

  void MakeLearner(uint64_t id) {
    auto it = progress_.find(id);
    if (it == progress_.end()) {
      InitProgress(id, /*is_learner=*/true);
      return;
    }
    if (it->second.is_learner()) return;
    // Demoting a voter: drop it from the incoming voters first, keeping its progress.
    config_.voters.mutable_incoming().mutable_voters().erase(id);
    config_.learners.erase(id);
    config_.learners_next.erase(id);
    // An outgoing voter must keep voting until the joint state is left, so it only becomes a
    // learner then (learners_next); otherwise it becomes a learner now.
    if (config_.voters.outgoing().Contains(id)) {
      config_.learners_next.insert(id);
    } else {
      it->second.set_is_learner(true);
      config_.learners.insert(id);
    }
  }

  void Remove(uint64_t id) {
    if (progress_.count(id) == 0) return;
    config_.voters.mutable_incoming().mutable_voters().erase(id);
    config_.learners.erase(id);
    config_.learners_next.erase(id);
    // An outgoing voter keeps its progress: it still votes in the outgoing half.
    if (!config_.voters.outgoing().Contains(id)) progress_.erase(id);
  }

  TrackerConfig config_;
  ProgressMap progress_;
  size_t max_inflight_;
  uint64_t max_inflight_bytes_;
  uint64_t last_index_;
};

size_t SymmetricDifference(const std::set<uint64_t>& a, const std::set<uint64_t>& b) {
  size_t n = 0;
  for (uint64_t id : a) n += b.count(id) == 0;
  for (uint64_t id : b) n += a.count(id) == 0;
  return n;
}

raftpb::ConfChangeSingle Single(raftpb::ConfChangeType type, uint64_t id) {
  raftpb::ConfChangeSingle cc;
  cc.set_change_type(type);
  cc.set_node_id(id);
  return cc;
}

}  // namespace

absl::StatusOr<ChangeResult> Changer::EnterJoint(
    bool auto_leave, const std::vector<raftpb::ConfChangeSingle>& changes) {
  Builder b(tracker_.config(), tracker_.progress(), tracker_.max_inflight(),
            tracker_.max_inflight_bytes(), last_index_);
  if (b.config().voters.IsJoint()) {
    return absl::InvalidArgumentError("the configuration is already joint");
  }
  if (b.config().voters.incoming().empty()) {
    return absl::InvalidArgumentError("cannot make a zero-voter configuration joint");
  }
  b.config().voters.mutable_outgoing() = b.config().voters.incoming();
  if (absl::Status s = b.Apply(changes); !s.ok()) return s;
  b.config().auto_leave = auto_leave;
  return b.CheckAndReturn();
}

absl::StatusOr<ChangeResult> Changer::LeaveJoint() {
  Builder b(tracker_.config(), tracker_.progress(), tracker_.max_inflight(),
            tracker_.max_inflight_bytes(), last_index_);
  TrackerConfig& cfg = b.config();
  if (!cfg.voters.IsJoint()) {
    return absl::InvalidArgumentError("cannot leave a configuration that is not joint");
  }
  for (uint64_t id : cfg.learners_next) {
    cfg.learners.insert(id);
    b.progress().at(id).set_is_learner(true);
  }
  cfg.learners_next.clear();
  for (uint64_t id : cfg.voters.outgoing().voters()) {
    if (!cfg.voters.incoming().Contains(id) && cfg.learners.count(id) == 0) {
      b.progress().erase(id);
    }
  }
  cfg.voters.mutable_outgoing() = quorum::MajorityConfig();
  cfg.auto_leave = false;
  return b.CheckAndReturn();
}

absl::StatusOr<ChangeResult> Changer::Simple(const std::vector<raftpb::ConfChangeSingle>& changes) {
  Builder b(tracker_.config(), tracker_.progress(), tracker_.max_inflight(),
            tracker_.max_inflight_bytes(), last_index_);
  if (b.config().voters.IsJoint()) {
    return absl::InvalidArgumentError("cannot apply a simple change to a joint configuration");
  }
  if (absl::Status s = b.Apply(changes); !s.ok()) return s;
  if (SymmetricDifference(tracker_.config().voters.incoming().voters(),
                          b.config().voters.incoming().voters()) > 1) {
    return absl::InvalidArgumentError(
        "more than one voter changed without entering a joint configuration");
  }
  return b.CheckAndReturn();
}

absl::StatusOr<ChangeResult> Restore(const raftpb::ConfState& cs, size_t max_inflight,
                                     uint64_t max_inflight_bytes, uint64_t last_index) {
  // The outgoing half is built first by simple additions, then the joint configuration is
  // entered with changes that turn it into the incoming half. Without an outgoing half the
  // incoming one is built by simple additions alone.
  std::vector<raftpb::ConfChangeSingle> outgoing;
  std::vector<raftpb::ConfChangeSingle> incoming;
  for (uint64_t id : cs.voters_outgoing()) {
    outgoing.push_back(Single(raftpb::CONF_CHANGE_ADD_NODE, id));
    incoming.push_back(Single(raftpb::CONF_CHANGE_REMOVE_NODE, id));
  }
  for (uint64_t id : cs.voters()) incoming.push_back(Single(raftpb::CONF_CHANGE_ADD_NODE, id));
  for (uint64_t id : cs.learners()) {
    incoming.push_back(Single(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, id));
  }
  // learners_next are outgoing voters being demoted: adding them as learners while joint
  // puts them in learners_next.
  for (uint64_t id : cs.learners_next()) {
    incoming.push_back(Single(raftpb::CONF_CHANGE_ADD_LEARNER_NODE, id));
  }

  tracker::ProgressTracker trk(max_inflight, max_inflight_bytes);
  auto install = [&trk](ChangeResult r) {
    trk.config() = std::move(r.config);
    trk.progress() = std::move(r.progress);
  };
  if (outgoing.empty()) {
    for (const auto& cc : incoming) {
      auto r = Changer(trk, last_index).Simple({cc});
      if (!r.ok()) return r.status();
      install(*std::move(r));
    }
  } else {
    for (const auto& cc : outgoing) {
      auto r = Changer(trk, last_index).Simple({cc});
      if (!r.ok()) return r.status();
      install(*std::move(r));
    }
    auto r = Changer(trk, last_index).EnterJoint(cs.auto_leave(), incoming);
    if (!r.ok()) return r.status();
    install(*std::move(r));
  }
  return ChangeResult{trk.config(), trk.progress()};
}

bool EnterJointRequired(const raftpb::ConfChangeV2& cc, bool* auto_leave) {
  // A change of more than one member, or an explicitly requested joint transition, goes
  // through a joint configuration.
  if (cc.transition() != raftpb::CONF_CHANGE_TRANSITION_AUTO || cc.changes_size() > 1) {
    if (auto_leave != nullptr) {
      *auto_leave = cc.transition() != raftpb::CONF_CHANGE_TRANSITION_JOINT_EXPLICIT;
    }
    return true;
  }
  if (auto_leave != nullptr) *auto_leave = false;
  return false;
}

bool LeaveJointRequested(const raftpb::ConfChangeV2& cc) {
  return cc.transition() == raftpb::CONF_CHANGE_TRANSITION_AUTO && cc.changes_size() == 0;
}

raftpb::ConfChangeV2 ToV2(const raftpb::ConfChange& cc) {
  raftpb::ConfChangeV2 v2;
  *v2.add_changes() = Single(cc.change_type(), cc.node_id());
  v2.set_context(cc.context());
  return v2;
}

}  // namespace raftkv::raft::confchange
