#include "nemesis.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace raftkv::faults {
namespace {

constexpr std::pair<NemesisKind, std::string_view> kNames[] = {
    {NemesisKind::kPartitionHalves, "partition-halves"},
    {NemesisKind::kIsolateLeader, "isolate-leader"},
    {NemesisKind::kOneWayPartition, "one-way-partition"},
    {NemesisKind::kKillRestart, "kill-restart"},
    {NemesisKind::kPauseLeader, "pause-leader"},
    {NemesisKind::kTransferLeader, "transfer-leader"},
    {NemesisKind::kReplaceMember, "replace-member"},
};

std::vector<int> Shuffled(int n, base::Rand& rand) {
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[rand.Uniform(i + 1)]);
  return order;
}

std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToDoubleSeconds(d), " s"); }

}  // namespace

std::string_view NemesisName(NemesisKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<NemesisKind> NemesisFromName(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::vector<NemesisKind> AllNemeses() {
  std::vector<NemesisKind> all;
  for (const auto& [k, name] : kNames) all.push_back(k);
  return all;
}

bool NeedsNetwork(NemesisKind kind) {
  return kind == NemesisKind::kPartitionHalves || kind == NemesisKind::kIsolateLeader ||
         kind == NemesisKind::kOneWayPartition;
}

NemesisSchedule::NemesisSchedule(uint64_t seed, std::vector<NemesisKind> kinds,
                                 ScheduleTiming timing)
    : rand_(seed), kinds_(std::move(kinds)), timing_(timing) {}

absl::Duration NemesisSchedule::Between(absl::Duration lo, absl::Duration hi) {
  const int64_t lo_ms = absl::ToInt64Milliseconds(lo);
  const int64_t hi_ms = absl::ToInt64Milliseconds(hi);
  if (hi_ms <= lo_ms) return lo;
  return absl::Milliseconds(lo_ms + static_cast<int64_t>(rand_.Uniform(hi_ms - lo_ms + 1)));
}

NemesisStep NemesisSchedule::Next() {
  if (cycle_.empty()) {
    // A new cycle: every kind once, in a shuffled order (taken from the back).
    for (int i : Shuffled(static_cast<int>(kinds_.size()), rand_)) cycle_.push_back(kinds_[i]);
  }
  NemesisStep step;
  step.number = ++number_;
  step.kind = cycle_.back();
  cycle_.pop_back();
  step.hold = Between(timing_.min_hold, timing_.max_hold);
  step.pause = Between(timing_.min_pause, timing_.max_pause);
  step.choice = rand_.Next();
  return step;
}

Nemesis::Nemesis(FaultCluster& cluster, NamespaceNetwork* network, RunLog& log)
    : cluster_(cluster), network_(network), log_(log) {}

std::string Nemesis::Names(const std::vector<int>& members) const {
  std::vector<std::string> names;
  for (int i : members) names.push_back(cluster_.name(i));
  return "{" + absl::StrJoin(names, " ") + "}";
}

std::optional<int> Nemesis::Leader() {
  absl::StatusOr<int> leader = cluster_.FindLeader(absl::Seconds(5));
  if (!leader.ok()) {
    log_.Print("nemesis: {}", std::string(leader.status().message()));
    return std::nullopt;
  }
  return *leader;
}

absl::StatusOr<Nemesis::Fault> Nemesis::Make(const NemesisStep& step, base::Rand& pick) {
  const int n = cluster_.size();
  Fault fault;
  if (NeedsNetwork(step.kind) && network_ == nullptr) {
    return absl::UnavailableError("no namespace network (loopback mode)");
  }
  switch (step.kind) {
    case NemesisKind::kPartitionHalves: {
      const std::vector<int> order = Shuffled(n, pick);
      const std::vector<int> a(order.begin(), order.begin() + n / 2);
      const std::vector<int> b(order.begin() + n / 2, order.end());
      fault.network = true;
      for (int x : a) {
        for (int y : b) {
          if (absl::Status s = network_->Cut(x, y); !s.ok()) return s;
          if (absl::Status s = network_->Cut(y, x); !s.ok()) return s;
        }
      }
      fault.description = absl::StrCat("partition ", Names(a), " | ", Names(b));
      return fault;
    }
    case NemesisKind::kIsolateLeader: {
      std::optional<int> leader = Leader();
      if (!leader.has_value()) return absl::UnavailableError("no leader to isolate");
      fault.network = true;
      for (int j = 0; j < n; ++j) {
        if (j == *leader) continue;
        if (absl::Status s = network_->Cut(*leader, j); !s.ok()) return s;
        if (absl::Status s = network_->Cut(j, *leader); !s.ok()) return s;
      }
      fault.description = absl::StrCat("isolate the leader ", cluster_.name(*leader));
      return fault;
    }
    case NemesisKind::kOneWayPartition: {
      if (!network_->one_way_supported()) {
        return absl::UnavailableError("one-way cuts unavailable: " + network_->one_way_problem());
      }
      std::vector<int> order = Shuffled(n, pick);
      const int muted = 1 + static_cast<int>(pick.Uniform(n - 1));
      // Half of the time the muted group holds the leader: it can no longer reach its
      // followers but still hears them.
      if (pick.Bernoulli(0.5)) {
        if (std::optional<int> leader = Leader(); leader.has_value()) {
          auto at = std::find(order.begin(), order.end(), *leader);
          if (at - order.begin() >= muted) std::iter_swap(order.begin(), at);
        }
      }
      const std::vector<int> a(order.begin(), order.begin() + muted);
      const std::vector<int> b(order.begin() + muted, order.end());
      fault.network = true;
      for (int x : a) {
        for (int y : b) {
          if (absl::Status s = network_->CutOneWay(x, y); !s.ok()) return s;
        }
      }
      fault.description = absl::StrCat("one-way partition: ", Names(a), " -/-> ", Names(b), " (",
                                       Names(b), " -> ", Names(a), " still delivered)");
      return fault;
    }
    case NemesisKind::kKillRestart: {
      std::optional<int> target;
      if (pick.Bernoulli(0.6)) target = Leader();
      if (!target.has_value()) target = static_cast<int>(pick.Uniform(n));
      cluster_.Kill(*target);
      fault.killed = *target;
      fault.description = absl::StrCat("kill -9 ", cluster_.name(*target));
      return fault;
    }
    case NemesisKind::kPauseLeader: {
      std::optional<int> leader = Leader();
      if (!leader.has_value()) return absl::UnavailableError("no leader to pause");
      cluster_.Pause(*leader);
      fault.paused = *leader;
      fault.description = absl::StrCat("SIGSTOP the leader ", cluster_.name(*leader));
      return fault;
    }
    case NemesisKind::kTransferLeader: {
      std::optional<int> leader = Leader();
      if (!leader.has_value()) return absl::UnavailableError("no leader to move");
      const int target = (*leader + 1 + static_cast<int>(pick.Uniform(n - 1))) % n;
      if (absl::Status s = cluster_.TransferLeadership(*leader, target); !s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat("moving leadership from ", cluster_.name(*leader), " to ",
                                         cluster_.name(target), ": ", s.message()));
      }
      fault.description = absl::StrCat("leadership moved from ", cluster_.name(*leader), " to ",
                                       cluster_.name(target));
      return fault;
    }
    case NemesisKind::kReplaceMember: {
      std::optional<int> leader = Leader();
      if (!leader.has_value()) return absl::UnavailableError("no leader to ask");
      const int target = (*leader + 1 + static_cast<int>(pick.Uniform(n - 1))) % n;
      const std::string old_name = cluster_.name(target);
      if (absl::Status s = cluster_.Replace(target); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("replacing ", old_name, ": ", s.message()));
      }
      fault.description =
          absl::StrCat("replaced ", old_name, " by the new member ", cluster_.name(target));
      return fault;
    }
  }
  return absl::InternalError("unknown nemesis");
}

absl::Status Nemesis::Heal(const Fault& fault) {
  if (fault.network) {
    if (absl::Status s = network_->HealAll(); !s.ok()) return s;
  }
  if (fault.paused >= 0) cluster_.Resume(fault.paused);
  if (fault.killed < 0) return absl::OkStatus();
  if (absl::Status s = cluster_.Restart(fault.killed); !s.ok()) return s;
  // The next step should find the whole cluster: wait until the member serves again (it
  // replays its log first). Not an error if it is slow; the run goes on either way.
  const absl::Time start = absl::Now();
  while (!cluster_.MemberId(fault.killed).ok() && absl::Now() - start < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  log_.Print("restarted {}; it answered after {}", cluster_.name(fault.killed),
             absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))));
  return absl::OkStatus();
}

absl::Status Nemesis::Run(const NemesisStep& step) {
  base::Rand pick(step.choice);
  log_.Print("step {}: {} (hold {}, then pause {})", step.number, NemesisName(step.kind),
             Seconds(step.hold), Seconds(step.pause));
  absl::StatusOr<Fault> fault = Make(step, pick);
  if (!fault.ok()) {
    log_.Print("step {}: not applied: {}", step.number, std::string(fault.status().message()));
    // A half-made partition is undone; the other kinds change nothing when they fail.
    if (network_ != nullptr && !network_->healed()) {
      if (absl::Status s = network_->HealAll(); !s.ok()) return s;
    }
    absl::SleepFor(step.pause);
    return absl::OkStatus();
  }
  ++applied_[step.kind];
  log_.Print("step {}: {}", step.number, fault->description);
  absl::SleepFor(step.hold);
  if (absl::Status s = Heal(*fault); !s.ok()) {
    log_.Print("step {}: heal failed: {}", step.number, std::string(s.message()));
    return s;
  }
  if (fault->network || fault->killed >= 0 || fault->paused >= 0) {
    log_.Print("step {}: healed", step.number);
  }
  absl::SleepFor(step.pause);
  return absl::OkStatus();
}

}  // namespace raftkv::faults
