// The store's alarms: etcd's AlarmRequest applied as replicated state (etcdserver/apply.go
// Alarm, api/v3alarm). GET lists, ACTIVATE raises an alarm for a member, DEACTIVATE disarms it;
// while a NOSPACE alarm is raised Store::Apply refuses writes that need space.
#include <utility>
#include <vector>

#include "kv/store.h"

namespace raftkv::kv {

std::vector<etcdserverpb::AlarmMember> Store::Alarms(etcdserverpb::AlarmType type) const {
  std::vector<etcdserverpb::AlarmMember> out;
  for (const auto& [member, alarm] : engine_->alarms()) {
    if (type != etcdserverpb::NONE && alarm != type) continue;
    etcdserverpb::AlarmMember& m = out.emplace_back();
    m.set_memberid(member);
    m.set_alarm(alarm);
  }
  return out;
}

int64_t Store::CountNoSpace(const AlarmSet& alarms) {
  int64_t count = 0;
  for (const auto& entry : alarms) count += entry.second == etcdserverpb::NOSPACE ? 1 : 0;
  return count;
}

absl::Status Store::ApplyAlarm(const etcdserverpb::AlarmRequest& request,
                               etcdserverpb::AlarmResponse* response) {
  response->mutable_header()->set_revision(meta_.revision);
  const std::pair<uint64_t, etcdserverpb::AlarmType> alarm{request.memberid(), request.alarm()};
  switch (request.action()) {
    case etcdserverpb::AlarmRequest::GET:
      // etcd lists by type only; the member id of a GET is ignored.
      for (etcdserverpb::AlarmMember& m : Alarms(request.alarm())) {
        *response->add_alarms() = std::move(m);
      }
      break;
    case etcdserverpb::AlarmRequest::ACTIVATE: {
      // Raising an alarm that is already raised answers it again and changes nothing.
      if (!engine_->alarms().contains(alarm)) {
        engine_->PutAlarm(alarm.first, alarm.second);
        if (alarm.second == etcdserverpb::NOSPACE) ++nospace_alarms_;
      }
      etcdserverpb::AlarmMember* m = response->add_alarms();
      m->set_memberid(alarm.first);
      m->set_alarm(alarm.second);
      break;
    }
    case etcdserverpb::AlarmRequest::DEACTIVATE:
      // Disarming an alarm that is not raised answers no alarm (etcd's answer).
      if (engine_->alarms().contains(alarm)) {
        engine_->DeleteAlarm(alarm.first, alarm.second);
        if (alarm.second == etcdserverpb::NOSPACE) --nospace_alarms_;
        etcdserverpb::AlarmMember* m = response->add_alarms();
        m->set_memberid(alarm.first);
        m->set_alarm(alarm.second);
      }
      break;
    default:
      break;  // ValidateRequest refuses any other action
  }
  return absl::OkStatus();
}

}  // namespace raftkv::kv
