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
    : cluster_id_(founding.cluster_id()), local_id_(founding.member_id()) {
  for (const peerpb::Member& m : founding.members()) members_[m.id()] = m;
}

std::vector<peerpb::Member> Membership::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<peerpb::Member> out;
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

bool Membership::Contains(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return members_.contains(id);
}

std::optional<peerpb::Member> Membership::Find(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::optional<peerpb::Member> Membership::FindByPeerUrl(
    const std::vector<std::string>& peer_urls) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, m] : members_) {
    for (const std::string& url : m.peer_urls()) {
      if (std::find(peer_urls.begin(), peer_urls.end(), url) != peer_urls.end()) return m;
    }
  }
  return std::nullopt;
}

void Membership::Add(const peerpb::Member& member) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = members_.try_emplace(member.id(), member);
  if (inserted) return;
  *it->second.mutable_peer_urls() = member.peer_urls();
  it->second.set_is_learner(member.is_learner());
}

void Membership::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  members_.erase(id);
  removed_.insert(id);
}

bool Membership::WasRemoved(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  return removed_.contains(id);
}

std::vector<uint64_t> Membership::RemovedIds() const {
  absl::MutexLock lock(&mu_);
  return {removed_.begin(), removed_.end()};
}

void Membership::UpdateAttributes(const peerpb::Member& attributes) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(attributes.id());
  if (it == members_.end()) return;
  it->second.set_name(attributes.name());
  *it->second.mutable_client_urls() = attributes.client_urls();
}

void Membership::Restore(const std::vector<peerpb::Member>& members,
                         const std::vector<uint64_t>& removed_ids) {
  absl::MutexLock lock(&mu_);
  members_.clear();
  for (const peerpb::Member& m : members) members_[m.id()] = m;
  removed_.clear();
  removed_.insert(removed_ids.begin(), removed_ids.end());
}

}  // namespace raftkv::server
