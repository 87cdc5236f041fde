// The status page: one self-contained HTML document (no external scripts or styles, so it works
// on a machine without internet) whose script fetches /status.json every second and renders the
// members table, the recent leader changes and the WAL fsync latency.
#pragma once

#include <string_view>

namespace raftkv::server::http {

std::string_view StatusPageHtml();

}  // namespace raftkv::server::http
