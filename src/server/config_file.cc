#include "server/config_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/etcd_flag_table.h"
#include "yaml-cpp/yaml.h"

namespace raftkv::server {
namespace {

// The keys etcd nests under {client,peer}-transport-security (embed.securityConfig's yaml).
constexpr const char* kSecurityKeys[] = {"cert-file", "key-file", "trusted-ca-file",
                                         "client-cert-auth", "auto-tls"};

absl::Status ShapeError(const std::string& path, const std::string& key, const YAML::Node& node,
                        const char* wanted) {
  return absl::InvalidArgumentError(absl::StrCat("--config-file ", path, ": line ",
                                                 node.Mark().line + 1, ": ", key, " must be ",
                                                 wanted));
}

// Appends --flag=value for one key; `flag` is the etcd flag the key stands for.
absl::Status AddValue(const std::string& path, const std::string& key, const std::string& flag,
                      const YAML::Node& value, ConfigFileArgs& out) {
  if (value.IsNull()) return absl::OkStatus();
  if (value.IsScalar()) {
    out.args.push_back(absl::StrCat("--", flag, "=", value.Scalar()));
    return absl::OkStatus();
  }
  if (value.IsSequence()) {
    std::vector<std::string> items;
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) return ShapeError(path, key, item, "a list of plain values");
      items.push_back(item.Scalar());
    }
    out.args.push_back(absl::StrCat("--", flag, "=", absl::StrJoin(items, ",")));
    return absl::OkStatus();
  }
  return ShapeError(path, key, value, "a value or a list");
}

absl::Status AddSecurity(const std::string& path, const std::string& key,
                         const std::string& prefix, const YAML::Node& section,
                         ConfigFileArgs& out) {
  if (section.IsNull()) return absl::OkStatus();
  if (!section.IsMap()) return ShapeError(path, key, section, "a map");
  for (const auto& entry : section) {
    const std::string inner = entry.first.as<std::string>();
    bool known = false;
    for (const char* k : kSecurityKeys) known = known || inner == k;
    if (!known) {
      out.unknown_keys.push_back(absl::StrCat(key, ".", inner));
      continue;
    }
    if (absl::Status s = AddValue(path, key + "." + inner, prefix + inner, entry.second, out);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ConfigFileArgs> ParseConfigYaml(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config-file ", path, ": not valid YAML: ", e.what()));
  }
  ConfigFileArgs out;
  if (root.IsNull()) return out;  // an empty file sets nothing
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config-file ", path, ": the file must be a map of etcd's settings"));
  }
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return ShapeError(path, "a key", entry.first, "plain text");
    const std::string key = entry.first.Scalar();
    absl::Status status;
    if (key == "client-transport-security") {
      status = AddSecurity(path, key, "", entry.second, out);
    } else if (key == "peer-transport-security") {
      status = AddSecurity(path, key, "peer-", entry.second, out);
    } else if (key == "config-file" || FindEtcdFlag(key) == nullptr) {
      out.unknown_keys.push_back(key);
    } else {
      status = AddValue(path, key, key, entry.second, out);
    }
    if (!status.ok()) return status;
  }
  return out;
}

absl::StatusOr<ConfigFileArgs> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config-file ", path, ": cannot be read (does it exist?)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfigYaml(text.str(), path);
}

}  // namespace raftkv::server
