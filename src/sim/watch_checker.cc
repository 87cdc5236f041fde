#include "sim/watch_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "kv/errors.h"

namespace raftkv::sim {
namespace {

// etcd's prefix range end: the prefix with its last byte incremented.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(prefix.back() + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

std::string Describe(const mvccpb::Event& e) {
  return fmt::format("{} {}@{} v{} ={}", e.type() == mvccpb::Event::PUT ? "PUT" : "DELETE",
                     e.kv().key(), e.kv().mod_revision(), e.kv().version(), e.kv().value());
}

bool Same(const mvccpb::Event& a, const mvccpb::Event& b) {
  return a.type() == b.type() && a.kv().key() == b.kv().key() &&
         a.kv().mod_revision() == b.kv().mod_revision() &&
         a.kv().create_revision() == b.kv().create_revision() &&
         a.kv().version() == b.kv().version() && a.kv().value() == b.kv().value() &&
         a.kv().lease() == b.kv().lease();
}

// The first difference between two event sequences, or "".
std::string Diff(const std::vector<mvccpb::Event>& seen, const std::vector<mvccpb::Event>& want) {
  for (size_t i = 0; i < std::max(seen.size(), want.size()); ++i) {
    if (i < seen.size() && i < want.size() && Same(seen[i], want[i])) continue;
    return fmt::format("event {}: saw {}, history has {}", i,
                       i < seen.size() ? Describe(seen[i]) : "nothing",
                       i < want.size() ? Describe(want[i]) : "nothing");
  }
  return "";
}

}  // namespace

WatchChecker::WatchChecker(SafetyChecker* checker, std::vector<std::string> prefixes,
                           size_t page_limit)
    : checker_(checker), page_limit_(page_limit) {
  for (std::string& prefix : prefixes) {
    Watcher& w = watchers_.emplace_back();
    w.range_end = PrefixEnd(prefix);
    w.prefix = std::move(prefix);
  }
}

uint64_t WatchChecker::events_seen() const {
  uint64_t n = 0;
  for (const Watcher& w : watchers_) n += w.delivered;
  return n;
}

uint64_t WatchChecker::compaction_restarts() const {
  uint64_t n = 0;
  for (const Watcher& w : watchers_) n += w.restarts;
  return n;
}

void WatchChecker::Deliver(Watcher& w, uint64_t node, const mvccpb::Event& event) {
  if (!w.events.empty()) {
    const mvccpb::KeyValue& last = w.events.back().kv();
    if (std::make_pair(last.mod_revision(), last.key()) >=
        std::make_pair(event.kv().mod_revision(), event.kv().key())) {
      checker_->Report(kWatchCompleteness,
                       fmt::format("watcher on '{}' got {} from node {} after {}", w.prefix,
                                   Describe(event), node, Describe(w.events.back())),
                       {node});
    }
  }
  w.events.push_back(event);
  ++w.delivered;
}

void WatchChecker::Advance(size_t watcher, uint64_t node, const kv::Store& store) {
  Watcher& w = watchers_.at(watcher);
  const int64_t target = store.revision();
  if (target <= w.through) return;  // this member is behind what the watcher saw
  if (w.through < store.compact_revision()) {
    // etcd answers ErrCompacted; the client starts again after the compaction revision.
    w.through = store.compact_revision();
    w.restarted_at = w.through;
    w.events.clear();
    ++w.restarts;
  }
  const int64_t from = w.through;
  std::vector<mvccpb::Event> paged;
  while (w.through < target) {
    absl::StatusOr<kv::EventPage> page =
        store.Events(w.prefix, w.range_end, w.through, target, false, page_limit_);
    if (!page.ok() || page->through <= w.through) {
      checker_->Report(kWatchCompleteness,
                       fmt::format("watcher on '{}' cannot read node {}'s history after revision "
                                   "{} (store at {}): {}",
                                   w.prefix, node, w.through, target,
                                   page.ok() ? "the page made no progress"
                                             : page.status().ToString()),
                       {node});
      return;
    }
    for (const mvccpb::Event& e : page->events) {
      paged.push_back(e);
      Deliver(w, node, e);
    }
    w.through = page->through;
  }
  absl::StatusOr<kv::EventPage> whole =
      store.Events(w.prefix, w.range_end, from, target, false, SIZE_MAX);
  if (!whole.ok()) return;
  if (std::string diff = Diff(paged, whole->events); !diff.empty()) {
    checker_->Report(kWatchCompleteness,
                     fmt::format("watcher on '{}' read node {}'s revisions ({}, {}] in pages of "
                                 "{} and got other events than the history: {}",
                                 w.prefix, node, from, target, page_limit_, diff),
                     {node});
  }
}

void WatchChecker::CheckFinal(uint64_t node, const kv::Store& store) {
  for (size_t i = 0; i < watchers_.size(); ++i) {
    Advance(i, node, store);
    if (checker_->failed()) return;
    Watcher& w = watchers_[i];
    // Compare what both still have: after the watcher's restart and the final compaction.
    const int64_t from = std::max(w.restarted_at, store.compact_revision());
    std::vector<mvccpb::Event> seen;
    for (const mvccpb::Event& e : w.events) {
      if (e.kv().mod_revision() > from) seen.push_back(e);
    }
    absl::StatusOr<kv::EventPage> history =
        store.Events(w.prefix, w.range_end, from, w.through, false, SIZE_MAX);
    if (!history.ok()) {
      checker_->Report(kWatchCompleteness,
                       fmt::format("node {}'s final history of '{}' after {}: {}", node, w.prefix,
                                   from, history.status().ToString()),
                       {node});
      return;
    }
    if (std::string diff = Diff(seen, history->events); !diff.empty()) {
      checker_->Report(kWatchCompleteness,
                       fmt::format("watcher on '{}' over revisions ({}, {}] differs from node {}'s "
                                   "final history: {}",
                                   w.prefix, from, w.through, node, diff),
                       {node});
      return;
    }
  }
}

}  // namespace raftkv::sim
