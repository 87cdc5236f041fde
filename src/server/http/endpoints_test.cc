// /health, /version and /metrics answer as etcd 3.4's do (etcdserver/api/etcdhttp).
#include "server/http/endpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "server/http/http_server.h"

namespace raftkv::server::http {
namespace {

using ::testing::HasSubstr;

struct FakeNode {
  uint64_t leader = 0;
  bool alarm = false;
  bool quorum_read_ok = true;
  int quorum_reads = 0;
  base::Registry registry;

  EndpointSources Sources() {
    return {.leader = [this] { return leader; },
            .alarm_active = [this] { return alarm; },
            .quorum_read =
                [this] {
                  ++quorum_reads;
                  return quorum_read_ok;
                },
            .registry = &registry,
            .server_version = "3.4.0",
            .cluster_version = "3.4.0"};
  }
};

TEST(EndpointsTest, HealthyWithALeaderAndAQuorumRead) {
  FakeNode node{.leader = 2};
  EndpointResponse r = Health(node.Sources());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"health":"true"})");
  EXPECT_EQ(node.quorum_reads, 1);
  EXPECT_THAT(node.registry.Exposition(), HasSubstr("\netcd_server_health_success 1\n"));
}

TEST(EndpointsTest, UnhealthyWithoutALeaderWithoutTryingAQuorumRead) {
  FakeNode node;
  EndpointResponse r = Health(node.Sources());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"health\":\"false\"}\n");
  EXPECT_EQ(node.quorum_reads, 0);
  EXPECT_THAT(node.registry.Exposition(), HasSubstr("\netcd_server_health_failures 1\n"));
}

TEST(EndpointsTest, UnhealthyWhenTheQuorumReadFails) {
  FakeNode node{.leader = 2, .quorum_read_ok = false};
  EXPECT_EQ(Health(node.Sources()).status, 503);
}

TEST(EndpointsTest, UnhealthyWhileAnAlarmIsRaised) {
  FakeNode node{.leader = 1, .alarm = true};
  EXPECT_EQ(Health(node.Sources()).status, 503);
}

TEST(EndpointsTest, VersionIsEtcdsJson) {
  FakeNode node;
  EXPECT_EQ(Version(node.Sources()).body, R"({"etcdserver":"3.4.0","etcdcluster":"3.4.0"})");
}

TEST(EndpointsTest, MetricsAreTheRegistryInTextFormat) {
  FakeNode node;
  node.registry.AddGauge("etcd_server_has_leader", "Whether or not a leader exists.", [] {
    return 1.0;
  });
  EndpointResponse r = Metrics(node.Sources());
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body, node.registry.Exposition());
  EXPECT_THAT(r.body, HasSubstr("\netcd_server_has_leader 1\n"));
}

TEST(EndpointsTest, TheStatusPageIsSelfContainedHtmlAndItsDataComesFromTheSource) {
  FakeNode node;
  EXPECT_EQ(StatusPage(node.Sources()).status, 404);  // no status source
  EndpointSources sources = node.Sources();
  sources.status_json = [] { return std::string(R"({"members":[]})"); };
  EndpointResponse page = StatusPage(sources);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr("fetch(\"/status.json\""));
  EXPECT_THAT(page.body, ::testing::Not(HasSubstr("src=\"http")));  // nothing from elsewhere
  EndpointResponse data = StatusData(sources);
  EXPECT_EQ(data.content_type, "application/json");
  EXPECT_EQ(data.body, R"({"members":[]})");
}

TEST(HttpServerTest, ServesTheEndpointsOverHttp) {
  FakeNode node;
  node.registry.AddGauge("etcd_server_has_leader", "Whether or not a leader exists.",
                         [&] { return node.leader != 0 ? 1.0 : 0.0; });
  HttpServer server(node.Sources());
  absl::StatusOr<int> port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::Client client("127.0.0.1", *port);

  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  node.leader = 3;
  health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"health":"true"})");

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("\netcd_server_has_leader 1\n"));
  auto version = client.Get("/version");
  ASSERT_TRUE(version);
  EXPECT_THAT(version->body, HasSubstr("etcdserver"));
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // A body on a GET is refused beyond the small limit, not buffered.
  auto big = client.Post("/health", std::string(1 << 20, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_NE(big->status, 200);
  server.Stop();
}

TEST(HttpServerTest, AnAddressInUseIsAClearError) {
  FakeNode node;
  HttpServer first(node.Sources());
  absl::StatusOr<int> port = first.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  HttpServer second(node.Sources());
  absl::StatusOr<int> again = second.Start("127.0.0.1", *port);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("--listen-metrics-urls"));
}

}  // namespace
}  // namespace raftkv::server::http
