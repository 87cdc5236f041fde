#include "server/etcd/concurrency_keys.h"

#include "absl/strings/str_cat.h"

namespace raftkv::server::etcd {

std::string ContenderPrefix(std::string_view name) { return absl::StrCat(std::string(name), "/"); }

std::string ContenderKey(std::string_view prefix, int64_t lease) {
  // Go's %x of an int64: a negative lease id would print with a minus sign.
  if (lease < 0)
    return absl::StrCat(std::string(prefix), "-", absl::Hex(-static_cast<uint64_t>(lease)));
  return absl::StrCat(std::string(prefix), absl::Hex(lease));
}

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

etcdserverpb::RangeRequest FirstCreated(std::string_view prefix) {
  etcdserverpb::RangeRequest range;
  range.set_key(std::string(prefix));
  range.set_range_end(PrefixRangeEnd(prefix));
  range.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  range.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  range.set_limit(1);
  return range;
}

etcdserverpb::Compare CreateRevisionIs(std::string_view key, int64_t revision) {
  etcdserverpb::Compare compare;
  compare.set_key(std::string(key));
  compare.set_target(etcdserverpb::Compare::CREATE);
  compare.set_result(etcdserverpb::Compare::EQUAL);
  compare.set_create_revision(revision);
  return compare;
}

absl::Status SessionExpiredError() { return absl::UnknownError("session expired"); }
absl::Status ElectionNotLeaderError() { return absl::UnknownError("election: not leader"); }
absl::Status ElectionNoLeaderError() { return absl::UnknownError("election: no leader"); }
absl::Status MissingLeaderKeyError() {
  return absl::UnknownError("\"leader\" field must be provided");
}

}  // namespace raftkv::server::etcd
