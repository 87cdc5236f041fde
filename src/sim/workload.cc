#include "sim/workload.h"

#include "fmt/format.h"

namespace raftkv::sim {
namespace {

std::string Describe(const Command& c) {
  switch (c.kind) {
    case Command::Kind::kGet:
      return fmt::format("get {}", c.key);
    case Command::Kind::kPut:
      return fmt::format("put {}={}", c.key, c.value);
    case Command::Kind::kCas:
      return fmt::format("cas {} {}->{}", c.key, c.expected.value_or("<absent>"), c.value);
  }
  return "";
}

std::optional<std::string> ValueOf(
    const google::protobuf::RepeatedPtrField<mvccpb::KeyValue>& kvs) {
  if (kvs.empty()) return std::nullopt;
  return kvs.Get(0).value();
}

}  // namespace

kvpb::Request RequestFor(const Command& command) {
  kvpb::Request request;
  switch (command.kind) {
    case Command::Kind::kPut: {
      etcdserverpb::PutRequest* put = request.mutable_put();
      put->set_key(command.key);
      put->set_value(command.value);
      break;
    }
    case Command::Kind::kCas: {
      etcdserverpb::TxnRequest* txn = request.mutable_txn();
      etcdserverpb::Compare* compare = txn->add_compare();
      compare->set_key(command.key);
      compare->set_result(etcdserverpb::Compare::EQUAL);
      if (command.expected.has_value()) {
        compare->set_target(etcdserverpb::Compare::VALUE);
        compare->set_value(*command.expected);
      } else {
        // etcd's way of saying "the key does not exist".
        compare->set_target(etcdserverpb::Compare::CREATE);
        compare->set_create_revision(0);
      }
      etcdserverpb::PutRequest* put = txn->add_success()->mutable_request_put();
      put->set_key(command.key);
      put->set_value(command.value);
      break;
    }
    case Command::Kind::kGet: {
      // A read-only transaction: replicated and applied like a write, so it is linearizable.
      etcdserverpb::TxnRequest* txn = request.mutable_txn();
      txn->add_success()->mutable_request_range()->set_key(command.key);
      break;
    }
  }
  return request;
}

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
  c.key = fmt::format("k{}", rand_->Uniform(options_.keys));
  const double roll = static_cast<double>(rand_->Uniform(1000)) / 1000.0;
  const std::string value = fmt::format("v{}", next_value_++);
  const auto cid = static_cast<int64_t>(client.id);
  if (roll < options_.get_fraction) {
    c.kind = Command::Kind::kGet;
    client.op = history_.InvokeGet(cid, c.key);
  } else if (roll < options_.get_fraction + options_.cas_fraction) {
    c.kind = Command::Kind::kCas;
    c.value = value;
    // Compare against what this client last saw, so that some swaps succeed; sometimes
    // against "absent" or a stale guess, so that some fail.
    auto seen = client.last_seen.find(c.key);
    if (seen != client.last_seen.end() && rand_->Bernoulli(0.8)) c.expected = seen->second;
    client.op = history_.InvokeCas(cid, c.key, c.expected, c.value);
  } else {
    c.kind = Command::Kind::kPut;
    c.value = value;
    client.op = history_.InvokePut(cid, c.key, c.value);
  }
  ++stats_.invoked;
  client.busy = true;
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
  ClientRequest request{.client_id = client.id, .request_id = request_id};
  if (client.command.kind == Command::Kind::kGet && options_.read_index) {
    request.read_index_key = client.command.key;
  } else {
    request.request = RequestFor(client.command);
  }
  network_->SendClientRequest(client.target, request);
  queue_->After(options_.request_timeout_us, [this, &client, request_id] {
    if (!client.busy || client.request_id != request_id) return;
    // No answer: the node may have crashed, be cut off, or still be replicating. A write may
    // yet take effect, so it is not sent again.
    if (client.command.kind != Command::Kind::kGet) {
      Finish(client, lincheck::OpStatus::kUnknown);
      return;
    }
    Retry(client, 0);
  });
}

void Workload::Retry(Client& client, uint64_t hint) {
  client.request_id = 0;
  if (queue_->now_us() >= client.deadline_us) {
    // Every attempt so far was certainly not proposed (or was a read).
    Finish(client, lincheck::OpStatus::kFailed);
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
                         .d = static_cast<uint64_t>(reply.code)});
  const bool read = client.command.kind == Command::Kind::kGet;
  switch (reply.code) {
    case ClientReply::Code::kNotProposed:
      return Retry(client, reply.leader_hint);
    case ClientReply::Code::kUnknown:
      if (read) return Retry(client, 0);
      return Finish(client, lincheck::OpStatus::kUnknown);
    case ClientReply::Code::kFailed:
      return Finish(client, lincheck::OpStatus::kFailed);
    case ClientReply::Code::kOk:
      return OnOk(client, reply);
  }
}

void Workload::OnOk(Client& client, const ClientReply& reply) {
  const Command& c = client.command;
  if (c.kind == Command::Kind::kGet) {
    if (options_.read_index)
      return Finish(client, lincheck::OpStatus::kOk, ValueOf(reply.range.kvs()));
    const auto& responses = reply.response.txn().responses();
    if (responses.empty()) return Finish(client, lincheck::OpStatus::kFailed);
    return Finish(client, lincheck::OpStatus::kOk,
                  ValueOf(responses.Get(0).response_range().kvs()));
  }
  checker_->ObserveAcknowledgedWrite(
      fmt::format("client {} op {} ({})", client.id, client.op, Describe(c)), reply.index,
      reply.term, reply.entry_data);
  const bool swapped = c.kind == Command::Kind::kCas && reply.response.txn().succeeded();
  Finish(client, lincheck::OpStatus::kOk, std::nullopt, swapped);
}

void Workload::Finish(Client& client, lincheck::OpStatus status,
                      const std::optional<std::string>& value, bool swapped) {
  const Command& c = client.command;
  switch (status) {
    case lincheck::OpStatus::kOk:
      ++stats_.ok;
      if (c.kind == Command::Kind::kGet) {
        history_.OkGet(client.op, value);
        if (value.has_value()) client.last_seen[c.key] = *value;
      } else if (c.kind == Command::Kind::kCas) {
        history_.OkCas(client.op, swapped);
        if (swapped) client.last_seen[c.key] = c.value;
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
