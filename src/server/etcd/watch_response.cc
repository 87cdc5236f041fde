// Watch event filters and response fragmentation (etcd's v3rpc sendFragments rules).
#include "server/etcd/watch_response.h"

namespace raftkv::server::etcd {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchResponse;

bool PassesWatchFilters(const WatchCreateRequest& create, const mvccpb::Event& event) {
  for (int filter : create.filters()) {
    if (filter == WatchCreateRequest::NOPUT && event.type() == mvccpb::Event::PUT) return false;
    if (filter == WatchCreateRequest::NODELETE && event.type() == mvccpb::Event::DELETE) {
      return false;
    }
  }
  return true;
}

std::vector<WatchResponse> FragmentWatchResponse(const WatchResponse& response,
                                                 size_t max_bytes) {
  std::vector<WatchResponse> out;
  if (response.ByteSizeLong() < max_bytes || response.events_size() < 2) {
    out.push_back(response);
    return out;
  }
  WatchResponse shell = response;
  shell.clear_events();
  int next = 0;
  while (next < response.events_size()) {
    WatchResponse& part = out.emplace_back(shell);
    part.set_fragment(true);
    // Add events while the part stays under the limit; one event always goes in, so a single
    // oversized event still moves forward.
    while (next < response.events_size()) {
      *part.add_events() = response.events(next);
      if (part.events_size() > 1 && part.ByteSizeLong() >= max_bytes) {
        part.mutable_events()->RemoveLast();
        break;
      }
      ++next;
    }
  }
  out.back().set_fragment(false);
  return out;
}

}  // namespace raftkv::server::etcd
