// The gRPC implementation of Transport.
//
// Each member runs one peer gRPC server (on its --listen-peer-urls) and, for every other
// member, one sender thread holding one long-lived client stream (Peer.Stream) that carries
// batches of raft messages in order. A snapshot travels on its own stream (Peer.SendSnapshot)
// in checksummed chunks so that it neither blocks nor is blocked by the heartbeats; the
// snapshot of a state on disk travels as the files of a checkpoint (transport/checkpoint.h).
//
// Every batch names the cluster id and the sender; the receiving side refuses, with a log line
// and an error on the stream, batches from another cluster or from a member it does not know.
//
// Thread-safety: thread-safe. No lock is held while a sender writes to the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "raftkv/peerpb/peer.pb.h"
#include "spdlog/spdlog.h"
#include "transport/checkpoint.h"
#include "transport/checkpoint_sink.h"
#include "transport/transport.h"

namespace grpc {
class ChannelCredentials;
class Server;
class ServerCredentials;
}  // namespace grpc

namespace raftkv::transport {

class PeerSender;
class PeerService;

struct GrpcTransportOptions {
  uint64_t cluster_id = 0;
  uint64_t local_id = 0;
  // Per-peer send queue; when it is full, further messages are dropped and reported.
  size_t queue_capacity_messages = 4096;
  // Upper bound on the encoded raft messages in one batch (a single larger message goes alone).
  size_t max_batch_bytes = 4 << 20;
  // Reconnect backoff of a broken peer stream (and the bounds of its channel's reconnect
  // timer): doubles from min to max. A member that comes back is reached within max_backoff of
  // listening (etcd dials a lost peer every 100 ms); a dead one costs a refused connection
  // attempt that often.
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Milliseconds(100);
  size_t snapshot_chunk_bytes = 1 << 20;
  // One snapshot stream may take snapshot_timeout plus the time its bytes need at
  // snapshot_floor_bytes_per_second (SnapshotStreamTimeout): a deadline sized for a small state
  // would cut a large one off again and again.
  absl::Duration snapshot_timeout = absl::Minutes(5);
  uint64_t snapshot_floor_bytes_per_second = 10 << 20;
  // How long a checkpoint whose transfer broke is kept for the next snapshot to the same peer
  // to resume (one per peer at most).
  absl::Duration keep_checkpoint_for = absl::Minutes(5);
  // The peer listener's and the peer channels' credentials (transport::MakeServerCredentials
  // and MakeChannelCredentials from the --peer-* TLS flags). Null: plain text.
  std::shared_ptr<grpc::ServerCredentials> server_credentials;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
  // --peer-cert-allowed-cn: when set, traffic from a peer whose verified client certificate
  // has another common name is refused (with a log line).
  std::string allowed_peer_cn;
  // Bounds on what a peer may make this member allocate. Without mutual TLS peer traffic is
  // not authenticated, so nothing a peer announces is trusted. One received gRPC message (a batch, or a
  // snapshot chunk) may not exceed max_receive_message_bytes: it must exceed max_batch_bytes
  // plus the largest single raft message (the core's max_size_per_msg plus one entry of the
  // largest client request). A snapshot's data may not exceed max_snapshot_bytes, and at most
  // max_concurrent_snapshots are received at a time (a leader sends one per follower).
  size_t max_receive_message_bytes = 64 << 20;
  uint64_t max_snapshot_bytes = uint64_t{8} << 30;
  int max_concurrent_snapshots = 2;
  // Snapshots of a state on disk travel as the files of a checkpoint (transport/checkpoint.h).
  // Sending: the member's source of checkpoints (null: every snapshot's data is sent inline); it
  // must outlive the transport. Receiving: where checkpoint files go and what is accepted
  // (received_checkpoints.dir empty: snapshots as files are refused).
  CheckpointSource* checkpoint_source = nullptr;
  CheckpointSinkOptions received_checkpoints;
  // Every probe_interval each sender times one round trip to its peer (Peer.Probe, given up
  // after probe_timeout) and reports it to on_round_trip, from the sender's prober thread
  // (etcd_network_peer_round_trip_time_seconds). Unset on_round_trip: no probes.
  absl::Duration probe_interval = absl::Seconds(5);
  absl::Duration probe_timeout = absl::Seconds(1);
  std::function<void(uint64_t peer_id, absl::Duration round_trip)> on_round_trip;
  // Null means spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
  // Answers Peer.Members (the current members, for a member joining at run time); unset, the
  // call answers UNAVAILABLE. Called from gRPC threads.
  std::function<std::vector<peerpb::Member>()> members;
  // Whether `id` was a member and has been removed: its traffic is then refused with
  // PERMISSION_DENIED, which tells it to stop (its sender reports ReportRemovedFromCluster).
  // Unset: no id counts as removed. Called from gRPC threads.
  std::function<bool(uint64_t id)> is_removed;
};

// The deadline of a snapshot stream that sends `bytes`: options.snapshot_timeout plus the time
// the bytes need at options.snapshot_floor_bytes_per_second.
absl::Duration SnapshotStreamTimeout(const GrpcTransportOptions& options, uint64_t bytes);

// Asks the member listening for peers at `address` (host:port) for the cluster id and members.
// Null credentials: plain text.
absl::StatusOr<peerpb::MembersResponse> FetchMembers(
    const std::string& address, absl::Duration timeout,
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

class GrpcTransport final : public Transport {
 public:
  // REQUIRES: receiver outlives the transport (or at least Stop()).
  GrpcTransport(GrpcTransportOptions options, Receiver* receiver);
  ~GrpcTransport() override;

  // Starts the peer server on `listen_address` (host:port; port 0 picks a free one) and
  // returns the port it is bound to. Unavailable with the reason when it cannot listen.
  absl::StatusOr<int> Start(const std::string& listen_address);

  void Send(std::vector<raftpb::Message> messages) override;
  void AddPeer(uint64_t id, const std::string& address) override;
  void RemovePeer(uint64_t id) override;
  void Stop() override;

  // OK when a batch claiming to come from `from` in `cluster_id`, addressed to `to`, should
  // be accepted; otherwise FailedPrecondition saying why, or PermissionDenied for a member the
  // cluster removed. Used by the peer service.
  absl::Status CheckIncoming(uint64_t cluster_id, uint64_t from, uint64_t to) const;

  Receiver* receiver() const { return receiver_; }
  const GrpcTransportOptions& options() const { return options_; }
  spdlog::logger& logger() const { return *options_.logger; }

 private:
  GrpcTransportOptions options_;
  Receiver* const receiver_;
  std::unique_ptr<PeerService> service_;
  std::unique_ptr<grpc::Server> server_;

  mutable absl::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<PeerSender>> peers_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace raftkv::transport
