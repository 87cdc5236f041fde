// The bytes the replicated map puts in the log and in its snapshots.
//
// The consensus core replicates opaque bytes; what they mean is the application's business. A
// put is one record, "<key length>:<value length>:<key><value>", and a snapshot of the whole
// map is its records one after another, so one decoder reads both.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace replicated_map {

std::string EncodePut(std::string_view key, std::string_view value);

// Applies every record in `data` to `map`, in order. InvalidArgument on malformed input (the log
// is trusted here, but a decoder that reads past its input is never worth the risk).
absl::Status ApplyRecords(std::string_view data, std::map<std::string, std::string>& map);

std::string EncodeMap(const std::map<std::string, std::string>& map);

}  // namespace replicated_map
