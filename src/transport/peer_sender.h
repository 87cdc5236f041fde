// The sending half of the connection to one peer: a bounded queue drained by one thread into a
// long-lived gRPC stream, reconnecting with exponential backoff when the stream breaks, and,
// when the transport asks for round-trip times, a second thread that probes the peer.
//
// Snapshots go on a thread of their own. A checkpoint whose transfer broke is kept (at most
// one per peer, for options.keep_checkpoint_for) and the next snapshot to the peer reuses it if
// it is at or after that snapshot's index, resuming at the offset the peer says it holds
// (Peer.CheckpointOffset); it is released once delivered, replaced by a newer one, expired, or
// when the sender stops (the member was removed, the transport stopped).
//
// Thread-safety: Send/SendSnapshot/Stop may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "raftkv/peerpb/peer.grpc.pb.h"
#include "transport/checkpoint.h"
#include "transport/grpc_transport.h"
#include "transport/message_queue.h"

namespace raftkv::transport {

// Channel arguments of a peer client: no message size limit (a snapshot chunk or an append of
// a large entry may exceed gRPC's 4 MiB default) and the channel's reconnect timer within the
// stream's backoff (options.min_backoff to max_backoff), since gRPC's own grows to minutes by
// default and a stream opened while the channel waits to reconnect fails at once.
grpc::ChannelArguments PeerChannelArguments(const GrpcTransportOptions& options);

class PeerSender {
 public:
  PeerSender(uint64_t peer_id, std::string address, const GrpcTransportOptions& options,
             Receiver* receiver);
  ~PeerSender();
  PeerSender(const PeerSender&) = delete;
  PeerSender& operator=(const PeerSender&) = delete;

  void Send(raftpb::Message message);
  // Streams the snapshot on its own thread; one at a time (a second one while the first is in
  // flight is reported as failed, and raft will retry it).
  void SendSnapshot(raftpb::Message message);
  void Stop();
  const std::string& address() const { return address_; }

 private:
  void Run();
  // Writes batches to one stream until it breaks or the sender stops; true if any was sent.
  bool Pump(grpc::ClientWriter<peerpb::MessageBatch>* writer);
  void StreamSnapshot(raftpb::Message message);
  // Ends a snapshot transfer: frees the sender for the next one, then reports the outcome.
  void FinishSnapshot(bool delivered);
  // The checkpoint to send for `snapshot`: the kept one when it serves (`reused` set), else a
  // new one from the source; nullopt when the snapshot's data is sent inline.
  absl::StatusOr<std::optional<CheckpointFiles>> CheckpointFor(const raftpb::Snapshot& snapshot,
                                                               bool* reused);
  // How many bytes of `checkpoint`'s stream the peer holds from a broken transfer.
  absl::StatusOr<uint64_t> ResumeOffset(const CheckpointFiles& checkpoint);
  // Keeps the checkpoint of a transfer that broke, for the next snapshot to resume.
  void Keep(CheckpointFiles checkpoint);
  // Hands the kept checkpoint over (nullopt when there is none or it expired; an expired one is
  // released).
  std::optional<CheckpointFiles> TakeKept();
  void ReleaseExpiredCheckpoint();
  // The prober thread: one timed Peer.Probe every options_.probe_interval until Stop.
  void Probe();
  void ReportUnreachable();

  const uint64_t peer_id_;
  const std::string address_;
  const GrpcTransportOptions& options_;
  Receiver* const receiver_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<peerpb::Peer::Stub> stub_;
  MessageQueue queue_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The contexts of the calls in progress, so that Stop can cancel them.
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* snapshot_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientContext* probe_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread snapshot_thread_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> snapshot_in_flight_{false};
  // The checkpoint of the last transfer that broke, and until when it is kept.
  absl::Mutex kept_mu_;
  std::optional<CheckpointFiles> kept_ ABSL_GUARDED_BY(kept_mu_);
  absl::Time kept_until_ ABSL_GUARDED_BY(kept_mu_);
  std::thread thread_;
  std::thread probe_thread_;
};

}  // namespace raftkv::transport
