#include "server/membership.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace raftkv::server {
namespace {

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // SplitMix64's finaliser spreads nearby inputs over the whole range.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;  // 0 means "none" to raft
}

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ErrnoError("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", dir);
  return absl::OkStatus();
}

}  // namespace

uint64_t ComputeMemberId(const std::vector<std::string>& peer_urls, const std::string& token) {
  std::vector<std::string> sorted = peer_urls;
  std::sort(sorted.begin(), sorted.end());
  std::string bytes;
  for (const std::string& url : sorted) absl::StrAppend(&bytes, url, "\n");
  absl::StrAppend(&bytes, token);
  return Fnv1a(bytes);
}

uint64_t ComputeClusterId(const std::vector<uint64_t>& member_ids, const std::string& token) {
  std::vector<uint64_t> sorted = member_ids;
  std::sort(sorted.begin(), sorted.end());
  std::string bytes;
  for (uint64_t id : sorted) absl::StrAppend(&bytes, id, ",");
  absl::StrAppend(&bytes, token);
  return Fnv1a(bytes);
}

absl::StatusOr<peerpb::ClusterFile> ReadClusterFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no membership file at ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  peerpb::ClusterFile file;
  if (!file.ParseFromString(buffer.str()) || file.cluster_id() == 0 || file.member_id() == 0) {
    return absl::DataLossError(absl::StrCat("the membership file ", path,
                                            " is corrupt; restore the data directory "
                                            "from a backup or remove it and rejoin"));
  }
  return file;
}

absl::Status WriteClusterFile(const std::string& path, const peerpb::ClusterFile& file) {
  const std::string tmp = path + ".tmp";
  const std::string bytes = file.SerializeAsString();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  ssize_t written = ::write(fd, bytes.data(), bytes.size());
  if (written != static_cast<ssize_t>(bytes.size()) || ::fsync(fd) != 0) {
    ::close(fd);
    return ErrnoError("cannot write", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename", tmp);
  std::string dir = path.substr(0, path.find_last_of('/'));
  return SyncDirectory(dir.empty() ? "." : dir);
}

Membership::Membership(const peerpb::ClusterFile& founding)
    : cluster_id_(founding.cluster_id()),
      local_id_(founding.member_id()),
      members_(std::vector<peerpb::Member>(founding.members().begin(), founding.members().end())) {}

std::vector<peerpb::Member> Membership::List() const {
  absl::MutexLock lock(&mu_);
  return members_.List();
}

bool Membership::Contains(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return members_.Contains(id);
}

std::optional<peerpb::Member> Membership::Find(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return members_.Find(id);
}

std::optional<peerpb::Member> Membership::FindByPeerUrl(
    const std::vector<std::string>& peer_urls) const {
  absl::MutexLock lock(&mu_);
  return members_.FindByPeerUrl(peer_urls);
}

bool Membership::WasRemoved(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return members_.WasRemoved(id);
}

std::vector<uint64_t> Membership::RemovedIds() const {
  absl::MutexLock lock(&mu_);
  return members_.RemovedIds();
}

node::MemberList Membership::Get() const {
  absl::MutexLock lock(&mu_);
  return members_;
}

void Membership::Set(const node::MemberList& members) {
  absl::MutexLock lock(&mu_);
  members_ = members;
}

}  // namespace raftkv::server
