#include "node/member_list.h"

#include <algorithm>

namespace raftkv::node {

MemberList::MemberList(const std::vector<peerpb::Member>& members) {
  for (const peerpb::Member& m : members) members_[m.id()] = m;
}

std::vector<peerpb::Member> MemberList::List() const {
  std::vector<peerpb::Member> out;
  out.reserve(members_.size());
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

std::optional<peerpb::Member> MemberList::Find(uint64_t id) const {
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::optional<peerpb::Member> MemberList::FindByPeerUrl(
    const std::vector<std::string>& peer_urls) const {
  for (const auto& [id, m] : members_) {
    for (const std::string& url : m.peer_urls()) {
      if (std::find(peer_urls.begin(), peer_urls.end(), url) != peer_urls.end()) return m;
    }
  }
  return std::nullopt;
}

void MemberList::Add(const peerpb::Member& member) {
  if (removed_.contains(member.id())) return;  // a removed id never comes back
  auto [it, inserted] = members_.try_emplace(member.id(), member);
  if (inserted) return;
  *it->second.mutable_peer_urls() = member.peer_urls();
  it->second.set_is_learner(member.is_learner());
}

void MemberList::Remove(uint64_t id) {
  members_.erase(id);
  removed_.insert(id);
}

void MemberList::UpdateAttributes(const peerpb::Member& attributes) {
  auto it = members_.find(attributes.id());
  if (it == members_.end()) return;
  it->second.set_name(attributes.name());
  *it->second.mutable_client_urls() = attributes.client_urls();
}

void MemberList::Restore(const std::vector<peerpb::Member>& members,
                         const std::vector<uint64_t>& removed_ids) {
  members_.clear();
  for (const peerpb::Member& m : members) members_[m.id()] = m;
  removed_ = {removed_ids.begin(), removed_ids.end()};
}

bool MemberList::operator==(const MemberList& other) const {
  if (removed_ != other.removed_ || members_.size() != other.members_.size()) return false;
  for (const auto& [id, m] : members_) {
    auto it = other.members_.find(id);
    if (it == other.members_.end() || it->second.SerializeAsString() != m.SerializeAsString()) {
      return false;
    }
  }
  return true;
}

}  // namespace raftkv::node
