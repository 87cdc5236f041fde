#include "server/url.h"

#include <gtest/gtest.h>

namespace raftkv::server {
namespace {

TEST(UrlTest, ParsesHostAndPort) {
  absl::StatusOr<HostPort> hp = ParseUrl("http://127.0.0.1:2379");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 2379);
  EXPECT_EQ(hp->ToString(), "127.0.0.1:2379");
}

TEST(UrlTest, AcceptsATrailingSlashAndBracketedIpv6) {
  EXPECT_EQ(ParseUrl("http://localhost:80/")->ToString(), "localhost:80");
  EXPECT_EQ(ParseUrl("http://[::1]:2380")->ToString(), "[::1]:2380");
}

TEST(UrlTest, HttpsMeansTls) {
  absl::StatusOr<HostPort> secure = ParseUrl("https://127.0.0.1:2379");
  ASSERT_TRUE(secure.ok()) << secure.status();
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->ToString(), "127.0.0.1:2379");
  EXPECT_FALSE(ParseUrl("http://127.0.0.1:2379")->tls);
}

TEST(UrlTest, RefusesWhatItCannotServe) {
  EXPECT_FALSE(ParseUrl("127.0.0.1:2379").ok());
  EXPECT_FALSE(ParseUrl("unix://127.0.0.1:2379").ok());
  EXPECT_FALSE(ParseUrl("http://127.0.0.1").ok());
  EXPECT_FALSE(ParseUrl("http://127.0.0.1:99999").ok());
  EXPECT_FALSE(ParseUrl("http://:2379").ok());
  EXPECT_FALSE(ParseUrl("http://127.0.0.1:23x9").ok());
}

TEST(UrlTest, SplitsAList) {
  absl::StatusOr<std::vector<std::string>> urls =
      ParseUrlList("http://127.0.0.1:1, http://127.0.0.1:2");
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(*urls, (std::vector<std::string>{"http://127.0.0.1:1", "http://127.0.0.1:2"}));
  EXPECT_FALSE(ParseUrlList("http://127.0.0.1:1,bad").ok());
  EXPECT_FALSE(ParseUrlList("").ok());
}

}  // namespace
}  // namespace raftkv::server
