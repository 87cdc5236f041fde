// The status page, rendered by a real browser (Debian's chromium, headless): every member with
// its leader, term, commit and applied index, the leader marked, and a member that is down shown
// as unreachable on the next refresh.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "local_cluster.h"
#include "process_test_util.h"

namespace raftkv::process_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StatusPageTest : public ClusterTest {
 protected:
  // The page's DOM after its script ran (fetching /status.json and rendering the tables).
  std::string RenderedPage(int member) {
    CommandResult r = RunCommand(absl::StrCat(
        "chromium --headless --no-sandbox --disable-gpu --user-data-dir=", data_dir_,
        "/browser --virtual-time-budget=3000 --dump-dom http://127.0.0.1:", metrics_ports_[member],
        "/status 2>/dev/null"));
    EXPECT_EQ(r.exit_code, 0) << "is chromium installed (scripts/setup.sh)? " << r.output;
    return r.output;
  }

  // The rendered table row of the member with `id_hex`, "" if absent.
  static std::string Row(const std::string& dom, const std::string& id_hex) {
    const std::string start = "data-member=\"" + id_hex + "\"";
    const size_t at = dom.find(start);
    if (at == std::string::npos) return "";
    const size_t end = dom.find("</tr>", at);
    return dom.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
};

// Member ids as `etcdctl member list` prints them (hex), by member name.
std::vector<std::string> MemberIds(const std::string& member_list,
                                   const std::vector<std::string>& names) {
  std::vector<std::string> ids(names.size());
  for (absl::string_view line : absl::StrSplit(member_list, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ", ");
    if (fields.size() < 3) continue;
    for (size_t i = 0; i < names.size(); ++i) {
      if (fields[2] == names[i]) ids[i] = fields[0];
    }
  }
  return ids;
}

TEST_F(StatusPageTest, ABrowserShowsEveryMemberAndTheLeaderThenAMemberThatWentDown) {
  absl::StatusOr<std::vector<int>> ports = cli::PickFreePorts(3);
  ASSERT_TRUE(ports.ok()) << ports.status();
  metrics_ports_ = *ports;
  StartCluster();
  ASSERT_EQ(Etcdctl("put shown yes").exit_code, 0);
  const int leader = WaitForLeader();
  CommandResult list = Etcdctl("member list");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  const std::vector<std::string> names = {cluster_->name(0), cluster_->name(1), cluster_->name(2)};
  const std::vector<std::string> ids = MemberIds(list.output, names);
  for (const std::string& id : ids) ASSERT_FALSE(id.empty()) << list.output;

  const int viewer = (leader + 1) % 3;  // a follower's page
  const std::string page = RenderedPage(viewer);
  EXPECT_THAT(page, HasSubstr(absl::StrCat("<span id=\"leader\">", ids[leader], "</span>")));
  for (int i = 0; i < 3; ++i) {
    const std::string row = Row(page, ids[i]);
    ASSERT_FALSE(row.empty()) << "member " << i << " missing from\n" << page;
    EXPECT_THAT(row, HasSubstr("<td>" + names[i] + "</td>"));
    EXPECT_THAT(row, HasSubstr("<td>ok</td>")) << row;
    EXPECT_THAT(row, Not(HasSubstr("unreachable")));
    if (i == leader) {
      EXPECT_THAT(row, HasSubstr("class=\"leader\"")) << row;
    }
  }
  EXPECT_THAT(Row(page, ids[viewer]), HasSubstr("(this member)"));
  EXPECT_THAT(page, HasSubstr("fsyncs, mean"));

  const int down = (leader + 2) % 3;  // the other follower
  cluster_->Kill(down);
  const std::string after = RenderedPage(viewer);
  EXPECT_THAT(Row(after, ids[down]), HasSubstr("unreachable")) << after;
  EXPECT_THAT(Row(after, ids[leader]), HasSubstr("<td>ok</td>"));
}

}  // namespace
}  // namespace raftkv::process_test
