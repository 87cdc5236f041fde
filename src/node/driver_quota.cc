// The node driver's space quota (etcd's backend quota and its NOSPACE alarm): a write that
// would take the store past --quota-backend-bytes is refused before it is proposed, and this
// member then raises its NOSPACE alarm through the log, so that every member refuses writes
// that need space until an operator makes room and disarms it. The alarm is the store's
// replicated state (kv/alarm.cc); the quota is this member's own setting, as in etcd.
#include "fmt/format.h"
#include "kv/quota.h"
#include "node/driver.h"

namespace raftkv::node {

bool Driver::ExceedsQuota(const kvpb::Request& request) const {
  if (options_.quota_bytes <= 0) return false;
  const int64_t cost = kv::QuotaCost(request);
  // etcd's backendQuota.Available: a write without cost always fits, so that deletes and
  // compactions can make room; any other must leave the size below the quota.
  return cost > 0 && applier_->store().size_bytes() + cost >= options_.quota_bytes;
}

void Driver::ObserveAppliedForQuota(const kvpb::Request& request, const WriteResult& result) {
  // etcd's apply-time check: the writes proposed before the store reached the quota (by any
  // member, each checking its own size) may carry it past; the member that sees it raises its
  // alarm. The write itself stands and is answered as applied.
  if (options_.quota_bytes <= 0 || !result.ok() || kv::QuotaCost(request) == 0) return;
  if (applier_->store().size_bytes() >= options_.quota_bytes) RaiseNoSpaceAlarm();
}

void Driver::RaiseNoSpaceAlarm() {
  const kv::Store& store = applier_->store();
  if (store.HasAlarm(options_.id, etcdserverpb::NOSPACE)) return;
  // One proposal at a time: refused writes keep arriving until the alarm is applied.
  if (ticks_ < next_nospace_alarm_tick_) return;
  next_nospace_alarm_tick_ = ticks_ + static_cast<uint64_t>(options_.alarm_retry_ticks);
  Log(raft::LogLevel::kWarn,
      fmt::format("the store's {} bytes reach the space quota of {} bytes; raising the NOSPACE "
                  "alarm (writes are refused until it is disarmed)",
                  store.size_bytes(), options_.quota_bytes));
  kvpb::Request alarm;
  alarm.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  alarm.mutable_alarm()->set_memberid(options_.id);
  alarm.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  ProposeUnwaited(alarm);
}

}  // namespace raftkv::node
