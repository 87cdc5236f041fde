#include "sim/lease_clients.h"

#include <algorithm>

#include "fmt/format.h"

namespace raftkv::sim {

LeaseClients::LeaseClients(const LeaseClientOptions& options, EventQueue* queue,
                           base::Rand* rand, LeaseChecker* checker, ClientNetwork* network)
    : options_(options), queue_(queue), rand_(rand), checker_(checker), network_(network) {
  clients_.resize(options_.clients);
  for (size_t i = 0; i < clients_.size(); ++i) clients_[i].id = options_.first_client_id + i;
}

TimeUs LeaseClients::TtlUs(int64_t ttl_seconds) const {
  const uint64_t ticks =
      (static_cast<uint64_t>(ttl_seconds) * 1000 + options_.tick_millis - 1) / options_.tick_millis;
  return static_cast<TimeUs>(ticks) * options_.tick_us;
}

void LeaseClients::Start() {
  stopped_ = false;
  for (Client& c : clients_) {
    if (c.busy) continue;
    queue_->After(rand_->Range(options_.min_think_us, options_.max_think_us + 1),
                  [this, &c] { Next(c); });
  }
}

bool LeaseClients::Idle() const {
  return std::none_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.busy; });
}

uint64_t LeaseClients::RandomNode() {
  const std::vector<uint64_t> ids = network_->node_ids();
  return ids[rand_->Uniform(ids.size())];
}

void LeaseClients::Next(Client& c) {
  if (stopped_ || c.busy) return;
  ClientRequest request;
  const TimeUs now = queue_->now_us();
  if (c.lease != 0 && !c.keep_alive && now > c.renewed_at + 3 * TtlUs(c.ttl)) {
    c.lease = 0;  // long expired: the revoke may have been lost with its leader, and retried
  }
  if (c.lease == 0) {
    c.op = Op::kGrant;
    // Ids of the client's own choosing: unique in the run, so a grant is never confused.
    c.lease = static_cast<int64_t>((c.id << 24) | ++c.leases_granted);
    c.ttl = 2 + static_cast<int64_t>(rand_->Uniform(2));
    c.keep_alive = rand_->Bernoulli(0.6);
    etcdserverpb::LeaseGrantRequest* grant = request.request.mutable_lease_grant();
    grant->set_id(c.lease);
    grant->set_ttl(c.ttl);
  } else if (c.keep_alive && now >= c.renewed_at + TtlUs(c.ttl) / 3) {
    c.op = Op::kKeepAlive;
    request.renew_lease_id = c.lease;
  } else {
    const uint64_t roll = rand_->Uniform(100);
    if (roll < 4) {
      c.op = Op::kRevoke;
      request.request.mutable_lease_revoke()->set_id(c.lease);
      checker_->ObserveClientRevoke(c.lease, now);
    } else if (roll < 6 && c.last_revision > 3) {
      // Close to the head, so that watchers reading a member just compacted must restart.
      c.op = Op::kCompact;
      request.request.mutable_compaction()->set_revision(
          c.last_revision - static_cast<int64_t>(rand_->Uniform(3)));
    } else {
      c.op = Op::kPut;
      etcdserverpb::PutRequest* put = request.request.mutable_put();
      put->set_key(fmt::format("l{}-{}", c.id, rand_->Uniform(3)));
      put->set_value(fmt::format("lease{:x}@{}", c.lease, now));
      put->set_lease(c.lease);
    }
  }
  c.busy = true;
  if (c.target == 0) c.target = RandomNode();
  Send(c, std::move(request));
}

void LeaseClients::Send(Client& c, ClientRequest request) {
  request.client_id = c.id;
  request.request_id = next_request_id_++;
  c.request_id = request.request_id;
  network_->SendClientRequest(c.target, request);
  const uint64_t request_id = request.request_id;
  queue_->After(options_.request_timeout_us, [this, &c, request_id] {
    if (!c.busy || c.request_id != request_id) return;
    // No answer: whatever the lease's fate, this client stops relying on it.
    if (c.op != Op::kCompact) c.lease = 0;
    c.target = 0;
    Done(c);
  });
}

void LeaseClients::Done(Client& c) {
  c.busy = false;
  c.request_id = 0;
  if (stopped_) return;
  queue_->After(rand_->Range(options_.min_think_us, options_.max_think_us + 1),
                [this, &c] { Next(c); });
}

void LeaseClients::OnReply(const ClientReply& reply) {
  Client& c = clients_.at(reply.client_id - options_.first_client_id);
  if (!c.busy || c.request_id != reply.request_id) return;
  switch (reply.code) {
    case ClientReply::Code::kOk:
      OnOk(c, reply);
      break;
    case ClientReply::Code::kNotProposed:
      // Nothing happened; ask again at the member named (a grant keeps its id).
      c.target = reply.leader_hint != 0 ? reply.leader_hint : RandomNode();
      if (c.op == Op::kGrant) c.lease = 0;
      break;
    case ClientReply::Code::kUnknown:
    case ClientReply::Code::kFailed:
      // A put or keep-alive refused: the lease is gone (expired or revoked).
      if (c.op != Op::kCompact) {
        if (c.op != Op::kGrant) ++stats_.expired_seen;
        c.lease = 0;
      }
      break;
  }
  Done(c);
}

void LeaseClients::OnOk(Client& c, const ClientReply& reply) {
  if (reply.response.has_put()) c.last_revision = reply.response.put().header().revision();
  switch (c.op) {
    case Op::kGrant:
      ++stats_.granted;
      checker_->ObserveGranted(c.lease, reply.index);
      checker_->ObserveServed(c.lease, reply.served_term, reply.served_at_us, c.ttl);
      c.renewed_at = reply.served_at_us;
      break;
    case Op::kKeepAlive:
      if (reply.renewed_ttl <= 0) {
        ++stats_.expired_seen;
        c.lease = 0;
        break;
      }
      ++stats_.renewed;
      checker_->ObserveServed(c.lease, reply.served_term, reply.served_at_us, reply.renewed_ttl);
      c.renewed_at = reply.served_at_us;
      break;
    case Op::kRevoke:
      ++stats_.revoked;
      c.lease = 0;
      break;
    case Op::kCompact:
      ++stats_.compactions;
      break;
    case Op::kPut:
      break;
  }
}

}  // namespace raftkv::sim
