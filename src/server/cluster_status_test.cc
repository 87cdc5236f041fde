// /status.json: ids as hex strings (JSON numbers lose precision past 2^53 in a browser), text
// escaped, fsync figures from the histogram.
#include "server/cluster_status.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raftkv::server {
namespace {

using ::testing::HasSubstr;

TEST(ClusterStatusTest, StatusJsonCarriesIdsAsHexAndEscapesText) {
  ClusterStatusView view;
  view.cluster_id = 0xfedcba9876543210;
  view.member_id = 0xa;
  view.leader = 0xb;
  view.term = 7;
  view.members.push_back({.id = 0xa, .name = "n\"1", .client_urls = {"http://h:1"},
                          .is_self = true, .reachable = true, .leader = 0xb, .term = 7,
                          .commit = 12, .applied = 11});
  view.members.push_back({.id = 0xb, .name = "", .reachable = false, .error = "not started"});
  view.leader_changes.push_back({absl::FromUnixSeconds(0), 0xb, 7});
  view.fsync_count = 4;
  view.fsync_mean_seconds = 0.0025;
  view.fsync_p99_seconds = 0.004;
  const std::string json = StatusJson(view);
  EXPECT_THAT(json, HasSubstr(R"("cluster_id":"fedcba9876543210")"));
  EXPECT_THAT(json, HasSubstr(R"({"id":"a","name":"n\"1","client_urls":["http://h:1"])"));
  EXPECT_THAT(json, HasSubstr(R"("leader":"b","term":7,"commit":12,"applied":11)"));
  EXPECT_THAT(json, HasSubstr(R"("reachable":false,"error":"not started")"));
  EXPECT_THAT(json, HasSubstr(R"({"time":"1970-01-01T00:00:00+00:00","leader":"b","term":7})"));
  EXPECT_THAT(json, HasSubstr(R"("wal_fsync":{"count":4,"mean_seconds":0.0025,"p99_seconds":0.004})"));
}

}  // namespace
}  // namespace raftkv::server
