#include "sim/workload.h"

#include "fmt/format.h"

namespace raftkv::sim {

Workload::Workload(const WorkloadOptions& options, EventQueue* queue, base::Rand* rand,
                   Trace* trace, SafetyChecker* checker, ClientNetwork* network)
    : options_(options),
      queue_(queue),
      rand_(rand),
      trace_(trace),
      checker_(checker),
      network_(network) {
  clients_.resize(options_.clients);
  for (int i = 0; i < options_.clients; ++i) clients_[i].id = static_cast<uint64_t>(i + 1);
}

void Workload::Start() {
  stopped_ = false;
  for (Client& client : clients_) {
    if (client.busy) continue;
    queue_->After(rand_->Range(0, options_.max_think_us + 1),
                  [this, &client] { NextOperation(client); });
  }
}

bool Workload::Idle() const {
  for (const Client& client : clients_) {
    if (client.busy) return false;
  }
  return true;
}

lincheck::History Workload::History() const {
  lincheck::HistoryBuilder copy = history_;
  return std::move(copy).Finish();
}

uint64_t Workload::RandomNode() {
  const std::vector<uint64_t> ids = network_->node_ids();
  return ids[rand_->Uniform(ids.size())];
}

void Workload::NextOperation(Client& client) {
  if (stopped_ || client.busy) return;
  Command& c = client.command;
  c = Command{};
  c.client_id = client.id;
  c.seq = ++client.seq;
  c.key = fmt::format("k{}", rand_->Uniform(options_.keys));
  const double roll = static_cast<double>(rand_->Uniform(1000)) / 1000.0;
  const std::string value = fmt::format("v{}", next_value_++);
  const auto cid = static_cast<int64_t>(client.id);
  if (roll < options_.get_fraction) {
    c.kind = CommandKind::kGet;
    client.op = history_.InvokeGet(cid, c.key);
  } else if (roll < options_.get_fraction + options_.cas_fraction) {
    c.kind = CommandKind::kCas;
    c.value = value;
    // Compare against what this client last saw, so that some swaps succeed; sometimes
    // against "absent" or a stale guess, so that some fail.
    auto seen = client.last_seen.find(c.key);
    if (seen != client.last_seen.end() && rand_->Bernoulli(0.8)) c.expected = seen->second;
    client.op = history_.InvokeCas(cid, c.key, c.expected, c.value);
  } else {
    c.kind = CommandKind::kPut;
    c.value = value;
    client.op = history_.InvokePut(cid, c.key, c.value);
  }
  ++stats_.invoked;
  client.busy = true;
  client.maybe_applied = false;
  client.deadline_us = queue_->now_us() + options_.operation_deadline_us;
  if (client.target == 0) client.target = RandomNode();
  Attempt(client);
}

void Workload::Attempt(Client& client) {
  const uint64_t request_id = next_request_id_++;
  client.request_id = request_id;
  trace_->Add(TraceEvent{.at_us = queue_->now_us(),
                         .kind = TraceKind::kClientCall,
                         .a = client.id,
                         .b = client.target,
                         .c = client.op});
  network_->SendClientRequest(client.target, ClientRequest{.client_id = client.id,
                                                           .request_id = request_id,
                                                           .command = client.command,
                                                           .read_index = options_.read_index});
  queue_->After(options_.request_timeout_us, [this, &client, request_id] {
    if (!client.busy || client.request_id != request_id) return;
    // No answer: the node may have crashed, be cut off, or still be replicating. A write may
    // yet take effect.
    if (client.command.kind != CommandKind::kGet) client.maybe_applied = true;
    Retry(client, 0);
  });
}

void Workload::Retry(Client& client, uint64_t hint) {
  client.request_id = 0;
  if (queue_->now_us() >= client.deadline_us) {
    Finish(client,
           client.maybe_applied ? lincheck::OpStatus::kUnknown : lincheck::OpStatus::kFailed,
           CommandResult{});
    return;
  }
  client.target = hint != 0 && hint != client.target ? hint : RandomNode();
  queue_->After(options_.retry_backoff_us, [this, &client] {
    if (client.busy && client.request_id == 0) Attempt(client);
  });
}

void Workload::OnReply(const ClientReply& reply) {
  if (reply.client_id == 0 || reply.client_id > clients_.size()) return;
  Client& client = clients_[reply.client_id - 1];
  if (!client.busy || client.request_id != reply.request_id) return;  // a late answer
  trace_->Add(TraceEvent{.at_us = queue_->now_us(),
                         .kind = TraceKind::kClientDone,
                         .a = client.id,
                         .b = client.target,
                         .c = client.op,
                         .d = reply.code == ClientReply::Code::kOk ? 0u : 1u});
  if (reply.code == ClientReply::Code::kNotLeader) {
    Retry(client, reply.leader_hint);
    return;
  }
  if (client.command.kind != CommandKind::kGet) {
    checker_->ObserveAcknowledgedWrite(
        fmt::format("client {} op {} ({})", client.id, client.op, EncodeCommand(client.command)),
        reply.index, reply.term, reply.entry_data);
  }
  Finish(client, lincheck::OpStatus::kOk, reply.result);
}

void Workload::Finish(Client& client, lincheck::OpStatus status, const CommandResult& result) {
  const Command& c = client.command;
  switch (status) {
    case lincheck::OpStatus::kOk:
      ++stats_.ok;
      if (c.kind == CommandKind::kGet) {
        history_.OkGet(client.op, result.value);
        if (result.value.has_value()) client.last_seen[c.key] = *result.value;
      } else if (c.kind == CommandKind::kCas) {
        history_.OkCas(client.op, result.swapped);
        if (result.swapped) client.last_seen[c.key] = c.value;
      } else {
        history_.Ok(client.op);
        client.last_seen[c.key] = c.value;
      }
      break;
    case lincheck::OpStatus::kFailed:
      ++stats_.failed;
      history_.Fail(client.op);
      break;
    case lincheck::OpStatus::kUnknown:
      ++stats_.unknown;
      history_.Unknown(client.op);
      break;
  }
  client.busy = false;
  client.request_id = 0;
  if (stopped_) return;
  queue_->After(rand_->Range(0, options_.max_think_us + 1),
                [this, &client] { NextOperation(client); });
}

}  // namespace raftkv::sim
