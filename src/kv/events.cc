// The store's history read as a stream of events, for watchers.
//
// Events are not recorded separately: the per-key histories already hold every write since the
// compaction revision, so reading them back keeps the write path unaware of watchers and keeps
// the snapshot format unchanged. The keys in range are merged by revision with a heap of
// per-key cursors, so a page costs its keys once plus its events, not a scan per revision.
#include <algorithm>
#include <queue>
#include <string>
#include <vector>

#include "kv/errors.h"
#include "kv/store.h"

namespace raftkv::kv {

absl::StatusOr<EventPage> Store::Events(std::string_view key, std::string_view range_end,
                                        int64_t from, int64_t to, bool prev_kv,
                                        size_t limit) const {
  if (from < compact_revision_) return CompactedError();
  EventPage page;
  page.through = std::min(to, revision_);
  if (page.through <= from) {
    page.through = std::max(from, page.through);
    return page;
  }

  // One cursor per key with a write in (from, through]: the next version to report.
  struct Cursor {
    const std::string* key;
    const History* history;
    size_t next;
    int64_t revision() const { return (*history)[next].mod_revision; }
  };
  // Orders the heap so that the smallest (revision, key) is on top.
  auto later = [](const Cursor& a, const Cursor& b) {
    if (a.revision() != b.revision()) return a.revision() > b.revision();
    return *a.key > *b.key;
  };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> cursors(later);
  auto [begin, end] = Bounds(key, range_end);
  for (auto it = begin; it != end; ++it) {
    const History& history = it->second;
    auto first = std::upper_bound(
        history.begin(), history.end(), from,
        [](int64_t rev, const Version& version) { return rev < version.mod_revision; });
    if (first == history.end() || first->mod_revision > page.through) continue;
    cursors.push(Cursor{&it->first, &history, static_cast<size_t>(first - history.begin())});
  }

  while (!cursors.empty()) {
    Cursor cursor = cursors.top();
    const int64_t revision = cursor.revision();
    // Only stop between revisions: a watcher must see all of one revision's writes together.
    if (page.events.size() >= limit && !page.events.empty() &&
        page.events.back().kv().mod_revision() != revision) {
      page.through = page.events.back().kv().mod_revision();
      return page;
    }
    cursors.pop();
    const Version& version = (*cursor.history)[cursor.next];
    mvccpb::Event& event = page.events.emplace_back();
    mvccpb::KeyValue* kv = event.mutable_kv();
    kv->set_key(*cursor.key);
    kv->set_mod_revision(version.mod_revision);
    if (version.tombstone) {
      event.set_type(mvccpb::Event::DELETE);
    } else {
      event.set_type(mvccpb::Event::PUT);
      kv->set_create_revision(version.create_revision);
      kv->set_version(version.version);
      kv->set_lease(version.lease);
      kv->set_value(version.value);
    }
    if (prev_kv && cursor.next > 0) {
      const Version& prev = (*cursor.history)[cursor.next - 1];
      if (!prev.tombstone) {
        mvccpb::KeyValue* before = event.mutable_prev_kv();
        before->set_key(*cursor.key);
        before->set_create_revision(prev.create_revision);
        before->set_mod_revision(prev.mod_revision);
        before->set_version(prev.version);
        before->set_lease(prev.lease);
        before->set_value(prev.value);
      }
    }
    if (++cursor.next < cursor.history->size() && cursor.revision() <= page.through) {
      cursors.push(cursor);
    }
  }
  return page;
}

}  // namespace raftkv::kv
