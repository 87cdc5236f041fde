#include "transport/grpc_transport.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/grpcpp.h"
#include "raftkv/peerpb/peer.grpc.pb.h"
#include "transport/peer_sender.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::transport {

// The receiving half: validates every batch and hands its messages to the Receiver.
class PeerService final : public peerpb::Peer::Service {
 public:
  explicit PeerService(GrpcTransport* transport) : transport_(transport) {}

  grpc::Status Stream(grpc::ServerContext* context,
                      grpc::ServerReader<peerpb::MessageBatch>* reader,
                      peerpb::StreamSummary* summary) override {
    peerpb::MessageBatch batch;
    uint64_t batches = 0;
    while (reader->Read(&batch)) {
      if (grpc::Status refused = Check(context, batch.cluster_id(), batch.from(), batch.to());
          !refused.ok()) {
        return refused;
      }
      std::vector<raftpb::Message> messages;
      messages.reserve(batch.messages_size());
      for (raftpb::Message& m : *batch.mutable_messages()) {
        // The batch header was checked; a message inside it must agree with it.
        if (m.from() != batch.from() || m.to() != batch.to()) {
          transport_->logger().warn(
              "dropping a raft message from {:x} to {:x} inside a batch "
              "from {:x} to {:x}",
              m.from(), m.to(), batch.from(), batch.to());
          continue;
        }
        messages.push_back(std::move(m));
      }
      transport_->receiver()->Receive(std::move(messages));
      ++batches;
    }
    summary->set_batches(batches);
    return grpc::Status::OK;
  }

  grpc::Status SendSnapshot(grpc::ServerContext* context,
                            grpc::ServerReader<peerpb::SnapshotChunk>* reader,
                            peerpb::SnapshotReceipt* receipt) override {
    // A leader sends one snapshot per follower at a time; more streams than the bound are
    // refused rather than buffered, so that forged streams cannot multiply memory.
    const int receiving = receiving_snapshots_.fetch_add(1) + 1;
    absl::Cleanup done_receiving = [this] { receiving_snapshots_.fetch_sub(1); };
    if (receiving > transport_->options().max_concurrent_snapshots) {
      transport_->logger().warn("refusing a snapshot stream from {}: {} already in progress",
                                context->peer(), receiving - 1);
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "too many snapshot transfers in progress");
    }
    SnapshotAssembler assembler(transport_->options().max_snapshot_bytes,
                                &transport_->options().received_checkpoints);
    peerpb::SnapshotChunk chunk;
    while (!assembler.complete() && reader->Read(&chunk)) {
      if (grpc::Status refused = Check(context, chunk.cluster_id(), chunk.from(), chunk.to());
          !refused.ok()) {
        return refused;
      }
      const uint64_t from = chunk.from();
      if (absl::Status s = assembler.Add(std::move(chunk)); !s.ok()) {
        transport_->logger().warn("refusing a snapshot from {:x}: {}", from,
                                  std::string(s.message()));
        // absl's codes are gRPC's.
        return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
      }
    }
    if (!assembler.complete()) {
      if (assembler.has_checkpoint()) {
        transport_->logger().info(
            "a checkpoint stream ended after {} of its bytes; a transfer of the same checkpoint "
            "resumes from there",
            assembler.received_bytes());
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "snapshot stream ended early");
    }
    const uint64_t received_bytes = assembler.received_bytes();
    const uint64_t resumed_from = assembler.resumed_from();
    const bool as_files = assembler.has_checkpoint();
    const std::string kept_in = as_files ? assembler.checkpoint_path() : std::string();
    raftpb::Message message = assembler.TakeMessage();
    if (as_files) {
      // The files are complete and durable under their final name before raft hears of the
      // snapshot: once raft has persisted it, a restart can always install them.
      if (resumed_from > 0) {
        transport_->logger().info(
            "received snapshot at index {} from peer {:x} as a checkpoint of {} bytes in {} "
            "(resumed at byte {})",
            message.snapshot().metadata().index(), message.from(), received_bytes, kept_in,
            resumed_from);
      } else {
        transport_->logger().info(
            "received snapshot at index {} from peer {:x} as a checkpoint of {} bytes in {}",
            message.snapshot().metadata().index(), message.from(), received_bytes, kept_in);
      }
    } else {
      transport_->logger().info("received snapshot at index {} ({} bytes) from peer {:x}",
                                message.snapshot().metadata().index(), received_bytes,
                                message.from());
    }
    std::vector<raftpb::Message> messages;
    messages.push_back(std::move(message));
    transport_->receiver()->Receive(std::move(messages));
    // The bytes this stream carried: a resumed stream carries less than the checkpoint's size.
    receipt->set_received_bytes(received_bytes - resumed_from);
    return grpc::Status::OK;
  }

  grpc::Status CheckpointOffset(grpc::ServerContext* context,
                                const peerpb::CheckpointOffsetRequest* request,
                                peerpb::CheckpointOffsetResponse* response) override {
    if (grpc::Status refused =
            Check(context, request->cluster_id(), request->from(), request->to());
        !refused.ok()) {
      return refused;
    }
    absl::StatusOr<uint64_t> held = HeldCheckpointBytes(transport_->options().received_checkpoints,
                                                        request->index(), request->transfer_id());
    if (!held.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(held.status().code()),
                          std::string(held.status().message()));
    }
    response->set_offset(*held);
    return grpc::Status::OK;
  }

  grpc::Status Members(grpc::ServerContext* context, const peerpb::MembersRequest*,
                       peerpb::MembersResponse* response) override {
    if (absl::Status s = CheckCommonName(*context); !s.ok()) {
      transport_->logger().error("refusing the membership to {}: {}", context->peer(),
                                 std::string(s.message()));
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(s.message()));
    }
    const auto& members = transport_->options().members;
    if (!members) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "membership not served");
    response->set_cluster_id(transport_->options().cluster_id);
    for (peerpb::Member& m : members()) *response->add_members() = std::move(m);
    return grpc::Status::OK;
  }

  grpc::Status Probe(grpc::ServerContext* context, const peerpb::ProbeRequest* request,
                     peerpb::ProbeResponse*) override {
    return Check(context, request->cluster_id(), request->from(), request->to());
  }

 private:
  grpc::Status Check(grpc::ServerContext* context, uint64_t cluster_id, uint64_t from,
                     uint64_t to) {
    absl::Status s = CheckCommonName(*context);
    if (s.ok()) s = transport_->CheckIncoming(cluster_id, from, to);
    if (s.ok()) return grpc::Status::OK;
    transport_->logger().error("refusing raft traffic from {}: {}", context->peer(),
                               std::string(s.message()));
    return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
  }

  // --peer-cert-allowed-cn: the TLS handshake verified the certificate; its common name must
  // also be the allowed one.
  absl::Status CheckCommonName(const grpc::ServerContext& context) const {
    const std::string& allowed = transport_->options().allowed_peer_cn;
    if (allowed.empty()) return absl::OkStatus();
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth != nullptr) {
      for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
        if (std::string(cn.data(), cn.size()) == allowed) return absl::OkStatus();
      }
    }
    return absl::PermissionDeniedError(absl::StrCat("the peer certificate's common name is not ",
                                                    allowed, " (--peer-cert-allowed-cn)"));
  }

  GrpcTransport* const transport_;
  std::atomic<int> receiving_snapshots_{0};
};

absl::Duration SnapshotStreamTimeout(const GrpcTransportOptions& options, uint64_t bytes) {
  const uint64_t rate = std::max<uint64_t>(options.snapshot_floor_bytes_per_second, 1);
  return options.snapshot_timeout +
         absl::Seconds(static_cast<double>(bytes) / static_cast<double>(rate));
}

absl::StatusOr<peerpb::MembersResponse> FetchMembers(
    const std::string& address, absl::Duration timeout,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  // A connection of its own: gRPC would otherwise reuse a live connection to the same address
  // made with other credentials.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      address, credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<peerpb::Peer::Stub> stub = peerpb::Peer::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  peerpb::MembersRequest request;
  peerpb::MembersResponse response;
  grpc::Status s = stub->Members(&context, request, &response);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot fetch the membership from ", address, ": ", s.error_message()));
  }
  return response;
}

GrpcTransport::GrpcTransport(GrpcTransportOptions options, Receiver* receiver)
    : options_(std::move(options)), receiver_(receiver) {
  if (options_.logger == nullptr) options_.logger = spdlog::default_logger();
  service_ = std::make_unique<PeerService>(this);
}

GrpcTransport::~GrpcTransport() { Stop(); }

absl::StatusOr<int> GrpcTransport::Start(const std::string& listen_address) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen_address,
                           options_.server_credentials != nullptr
                               ? options_.server_credentials
                               : grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<size_t>(options_.max_receive_message_bytes, std::numeric_limits<int>::max())));
  builder.SetMaxSendMessageSize(-1);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen for peers on ", listen_address,
                     ": the address is in use or not local (check --listen-peer-urls)"));
  }
  return port;
}

void GrpcTransport::Send(std::vector<raftpb::Message> messages) {
  for (raftpb::Message& m : messages) {
    std::shared_ptr<PeerSender> peer;
    {
      absl::MutexLock lock(&mu_);
      auto it = peers_.find(m.to());
      if (it != peers_.end() && !stopped_) peer = it->second;
    }
    if (peer == nullptr) {
      if (m.msg_type() == raftpb::MSG_SNAPSHOT) {
        receiver_->ReportSnapshot(m.to(), false);
      } else {
        receiver_->ReportUnreachable(m.to());
      }
      continue;
    }
    if (m.msg_type() == raftpb::MSG_SNAPSHOT) {
      peer->SendSnapshot(std::move(m));
    } else {
      peer->Send(std::move(m));
    }
  }
}

void GrpcTransport::AddPeer(uint64_t id, const std::string& address) {
  if (id == options_.local_id) return;
  {
    // Replaying the log on a restart announces known peers again; their streams stay up.
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second->address() == address) return;
  }
  auto sender = std::make_shared<PeerSender>(id, address, options_, receiver_);
  std::shared_ptr<PeerSender> replaced;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    replaced = std::exchange(peers_[id], std::move(sender));
  }
  if (replaced != nullptr) replaced->Stop();
}

void GrpcTransport::RemovePeer(uint64_t id) {
  std::shared_ptr<PeerSender> removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    removed = std::move(it->second);
    peers_.erase(it);
  }
  removed->Stop();
}

void GrpcTransport::Stop() {
  std::map<uint64_t, std::shared_ptr<PeerSender>> peers;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    peers.swap(peers_);
  }
  // Stop accepting first: in-flight peer streams are cancelled, so no Receive call can follow.
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  for (auto& [id, peer] : peers) peer->Stop();
}

absl::Status GrpcTransport::CheckIncoming(uint64_t cluster_id, uint64_t from, uint64_t to) const {
  if (cluster_id != options_.cluster_id) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "member %x belongs to cluster %x but this is cluster %x; the members were started with "
        "different --initial-cluster or --initial-cluster-token flags",
        from, cluster_id, options_.cluster_id));
  }
  if (to != options_.local_id) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "traffic for member %x reached member %x; check --initial-cluster", to, options_.local_id));
  }
  {
    absl::MutexLock lock(&mu_);
    if (peers_.contains(from)) return absl::OkStatus();
  }
  if (options_.is_removed && options_.is_removed(from)) {
    return absl::PermissionDeniedError(
        absl::StrFormat("member %x was removed from cluster %x", from, options_.cluster_id));
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("member %x is not a member of cluster %x", from, options_.cluster_id));
}

}  // namespace raftkv::transport
