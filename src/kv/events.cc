// The store's history read as a stream of events, for watchers.
//
// Events are not recorded separately by the store: the engine's history (Engine::History)
// already holds every write since the compaction revision, so reading it back keeps the write
// path unaware of watchers and keeps the snapshot format unchanged.
#include <algorithm>
#include <string>
#include <vector>

#include "kv/errors.h"
#include "kv/store.h"

namespace raftkv::kv {

absl::StatusOr<EventPage> Store::Events(std::string_view key, std::string_view range_end,
                                        int64_t from, int64_t to, bool prev_kv,
                                        size_t limit) const {
  if (from < meta_.compact_revision) return CompactedError();
  EventPage page;
  page.through = std::min(to, meta_.revision);
  if (page.through <= from) {
    page.through = std::max(from, page.through);
    return page;
  }
  const EtcdRange range(key, range_end);
  engine_->History(range.range(), from, page.through,
                   [&](const std::string& event_key, const Version& version, const Version* prev) {
                     // Only stop between revisions: a watcher must see all of one revision's writes
                     // together.
                     if (page.events.size() >= limit && !page.events.empty() &&
                         page.events.back().kv().mod_revision() != version.mod_revision) {
                       page.through = page.events.back().kv().mod_revision();
                       return false;
                     }
                     mvccpb::Event& event = page.events.emplace_back();
                     mvccpb::KeyValue* kv = event.mutable_kv();
                     kv->set_key(event_key);
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
                     if (prev_kv && prev != nullptr && !prev->tombstone) {
                       mvccpb::KeyValue* before = event.mutable_prev_kv();
                       before->set_key(event_key);
                       before->set_create_revision(prev->create_revision);
                       before->set_mod_revision(prev->mod_revision);
                       before->set_version(prev->version);
                       before->set_lease(prev->lease);
                       before->set_value(prev->value);
                     }
                     return true;
                   });
  return page;
}

}  // namespace raftkv::kv
