#include "server/url.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace raftkv::server {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseUrl(const std::string& url) {
  absl::string_view rest = url;
  HostPort out;
  out.tls = absl::ConsumePrefix(&rest, "https://");
  if (!out.tls && !absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL ", url, " must look like http://host:port or https://host:port"));
  }
  absl::ConsumeSuffix(&rest, "/");
  absl::string_view port;
  if (absl::ConsumePrefix(&rest, "[")) {
    size_t close = rest.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("URL ", url, " has no port"));
    }
    out.host = std::string(rest.substr(0, close));
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL ", url, " has no port (http://host:port)"));
    }
    out.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  }
  if (out.host.empty() || out.host.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL ", url, " has no valid host"));
  }
  if (!absl::SimpleAtoi(port, &out.port) || out.port < 0 || out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL ", url, " has an invalid port '", port, "'"));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseUrlList(const std::string& list) {
  std::vector<std::string> urls;
  for (absl::string_view piece : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string url(absl::StripAsciiWhitespace(piece));
    absl::StatusOr<HostPort> parsed = ParseUrl(url);
    if (!parsed.ok()) return parsed.status();
    urls.push_back(url);
  }
  if (urls.empty()) return absl::InvalidArgumentError("empty URL list");
  return urls;
}

}  // namespace raftkv::server
