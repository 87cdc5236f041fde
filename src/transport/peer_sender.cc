#include "transport/peer_sender.h"

#include <pthread.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/checkpoint_chunks.h"
#include "transport/snapshot_chunks.h"

namespace raftkv::transport {

namespace {

// Whether the peer turned a transfer down for what it is (it takes no checkpoints, has no room,
// found the stream malformed or corrupted): sending the same checkpoint again would not help.
// Anything else (the stream broke, timed out, was cancelled) is worth resuming.
bool RefusedByPeer(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

}  // namespace

grpc::ChannelArguments PeerChannelArguments(const GrpcTransportOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  const int min_ms = static_cast<int>(absl::ToInt64Milliseconds(options.min_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, min_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, min_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff)));
  return args;
}

PeerSender::PeerSender(uint64_t peer_id, std::string address, const GrpcTransportOptions& options,
                       Receiver* receiver)
    : peer_id_(peer_id),
      address_(std::move(address)),
      options_(options),
      receiver_(receiver),
      channel_(grpc::CreateCustomChannel(address_,
                                         options.channel_credentials != nullptr
                                             ? options.channel_credentials
                                             : grpc::InsecureChannelCredentials(),
                                         PeerChannelArguments(options))),
      stub_(peerpb::Peer::NewStub(channel_)),
      queue_(options.queue_capacity_messages) {
  thread_ = std::thread([this] {
    // Named for profilers and top -H (at most 15 characters).
    pthread_setname_np(pthread_self(), "peer-send");
    Run();
  });
  if (options_.on_round_trip) {
    probe_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "peer-probe");
      Probe();
    });
  }
}

PeerSender::~PeerSender() { Stop(); }

void PeerSender::Send(raftpb::Message message) {
  if (!queue_.Push(std::move(message))) ReportUnreachable();
}

void PeerSender::ReportUnreachable() { receiver_->ReportUnreachable(peer_id_); }

void PeerSender::Run() {
  absl::Duration backoff = options_.min_backoff;
  bool healthy = true;  // whether the last stream carried traffic; for logging transitions
  while (true) {
    grpc::ClientContext context;
    peerpb::StreamSummary summary;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stream_context_ = &context;
    }
    std::unique_ptr<grpc::ClientWriter<peerpb::MessageBatch>> writer =
        stub_->Stream(&context, &summary);
    bool sent = Pump(writer.get());
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    {
      absl::MutexLock lock(&mu_);
      stream_context_ = nullptr;
      if (stopping_) return;
    }
    if (sent) backoff = options_.min_backoff;
    if (sent || healthy) {
      options_.logger->warn("stream to peer {:x} at {} broke ({}: {}); reconnecting", peer_id_,
                            address_, static_cast<int>(status.error_code()),
                            status.error_message());
    }
    healthy = sent;
    if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      // The peer checked our cluster id and knows this member was removed.
      receiver_->ReportRemovedFromCluster(peer_id_);
    }
    // What was queued for a dead stream is stale by the time it reconnects; raft resends.
    if (queue_.Clear() > 0) ReportUnreachable();
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      if (stopping_) return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool PeerSender::Pump(grpc::ClientWriter<peerpb::MessageBatch>* writer) {
  bool sent = false;
  while (true) {
    std::vector<raftpb::Message> messages =
        queue_.PopBatch(options_.max_batch_bytes, absl::Milliseconds(200));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return sent;
    }
    // Woken at least every 200 ms: a kept checkpoint does not outlive its time by much.
    ReleaseExpiredCheckpoint();
    if (messages.empty()) continue;
    peerpb::MessageBatch batch;
    batch.set_cluster_id(options_.cluster_id);
    batch.set_from(options_.local_id);
    batch.set_to(peer_id_);
    batch.mutable_messages()->Reserve(static_cast<int>(messages.size()));
    for (raftpb::Message& m : messages) batch.add_messages()->Swap(&m);
    if (!writer->Write(batch)) {
      ReportUnreachable();
      return sent;
    }
    if (!sent) options_.logger->debug("stream to peer {:x} at {} is up", peer_id_, address_);
    sent = true;
  }
}

void PeerSender::SendSnapshot(raftpb::Message message) {
  if (snapshot_in_flight_.exchange(true)) {
    receiver_->ReportSnapshot(peer_id_, false);
    return;
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    snapshot_in_flight_ = false;
    receiver_->ReportSnapshot(peer_id_, false);
    return;
  }
  // The previous snapshot thread is done with mu_ (it clears snapshot_in_flight_ after its final
  // use of it, and then only reports to the receiver), so joining it here cannot deadlock.
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  snapshot_thread_ =
      std::thread([this, m = std::move(message)]() mutable { StreamSnapshot(std::move(m)); });
}

absl::StatusOr<std::optional<CheckpointFiles>> PeerSender::CheckpointFor(
    const raftpb::Snapshot& snapshot, bool* reused) {
  CheckpointSource* source = options_.checkpoint_source;
  if (std::optional<CheckpointFiles> kept = TakeKept(); kept.has_value()) {
    // A checkpoint holds only committed entries: one at or after the snapshot's index serves
    // it, with the snapshot's reference retargeted to it.
    if (kept->index >= snapshot.metadata().index()) {
      absl::StatusOr<std::optional<std::string>> data = source->Retarget(snapshot, kept->index);
      if (data.ok() && data->has_value()) {
        kept->snapshot_data = **std::move(data);
        *reused = true;
        return kept;
      }
    }
    // The snapshot is newer than the kept checkpoint (or goes inline): it is replaced.
    source->Release(*kept);
  }
  absl::StatusOr<std::optional<CheckpointFiles>> made = source->Make(snapshot);
  if (made.ok() && made->has_value() && (*made)->transfer_id == 0) {
    (*made)->transfer_id = NewTransferId();
  }
  return made;
}

absl::StatusOr<uint64_t> PeerSender::ResumeOffset(const CheckpointFiles& checkpoint) {
  peerpb::CheckpointOffsetRequest request;
  request.set_cluster_id(options_.cluster_id);
  request.set_from(options_.local_id);
  request.set_to(peer_id_);
  request.set_index(checkpoint.index);
  request.set_transfer_id(checkpoint.transfer_id);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + std::min(options_.snapshot_timeout, absl::Seconds(10))));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the sender is stopping");
    snapshot_context_ = &context;
  }
  peerpb::CheckpointOffsetResponse response;
  const grpc::Status status = stub_->CheckpointOffset(&context, request, &response);
  {
    absl::MutexLock lock(&mu_);
    snapshot_context_ = nullptr;
  }
  // A peer that cannot tell gets the whole stream.
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) return 0;
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("asking where to resume: ", status.error_message()));
  }
  return response.offset();
}

void PeerSender::Keep(CheckpointFiles checkpoint) {
  std::optional<CheckpointFiles> replaced;
  {
    absl::MutexLock lock(&kept_mu_);
    replaced = std::exchange(kept_, std::move(checkpoint));
    kept_until_ = absl::Now() + options_.keep_checkpoint_for;
  }
  if (replaced.has_value()) options_.checkpoint_source->Release(*replaced);
}

std::optional<CheckpointFiles> PeerSender::TakeKept() {
  std::optional<CheckpointFiles> kept;
  bool expired = false;
  {
    absl::MutexLock lock(&kept_mu_);
    kept = std::exchange(kept_, std::nullopt);
    expired = absl::Now() >= kept_until_;
  }
  if (kept.has_value() && expired) {
    options_.logger->info("releasing the checkpoint at index {} kept for peer {:x}: it expired",
                          kept->index, peer_id_);
    options_.checkpoint_source->Release(*kept);
    return std::nullopt;
  }
  return kept;
}

void PeerSender::ReleaseExpiredCheckpoint() {
  std::optional<CheckpointFiles> expired;
  {
    absl::MutexLock lock(&kept_mu_);
    if (!kept_.has_value() || absl::Now() < kept_until_) return;
    expired = std::exchange(kept_, std::nullopt);
  }
  options_.logger->info("releasing the checkpoint at index {} kept for peer {:x}: it expired",
                        expired->index, peer_id_);
  options_.checkpoint_source->Release(*expired);
}

void PeerSender::StreamSnapshot(raftpb::Message message) {
  const uint64_t index = message.snapshot().metadata().index();
  // A snapshot of a state on disk refers to the state; a checkpoint of it travels instead (it
  // holds the state at or after the snapshot's index): the one kept from a transfer that broke,
  // if it serves, or one made now.
  std::optional<CheckpointFiles> checkpoint;
  bool reused = false;
  uint64_t offset = 0;
  absl::Status prepared;
  if (options_.checkpoint_source != nullptr) {
    absl::StatusOr<std::optional<CheckpointFiles>> found =
        CheckpointFor(message.snapshot(), &reused);
    if (found.ok()) {
      checkpoint = *std::move(found);
    } else {
      prepared = found.status();
    }
  }
  // A fresh checkpoint has a new id: the peer cannot hold any of it.
  if (prepared.ok() && reused) {
    absl::StatusOr<uint64_t> held = ResumeOffset(*checkpoint);
    if (held.ok()) {
      offset = *held;
    } else {
      prepared = held.status();
    }
  }
  if (!prepared.ok()) {
    options_.logger->warn("cannot send the snapshot at index {} to peer {:x}: {}", index, peer_id_,
                          std::string(prepared.message()));
    if (checkpoint.has_value()) {
      if (RefusedByPeer(static_cast<grpc::StatusCode>(prepared.code()))) {
        options_.checkpoint_source->Release(*checkpoint);
      } else {
        Keep(*std::move(checkpoint));
      }
    }
    FinishSnapshot(false);
    return;
  }

  uint64_t stream_bytes = message.snapshot().data().size();
  if (checkpoint.has_value()) {
    stream_bytes = std::accumulate(
        checkpoint->files.begin(), checkpoint->files.end(), uint64_t{0},
        [](uint64_t sum, const CheckpointFile& file) { return sum + file.size_bytes; });
  }
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + SnapshotStreamTimeout(options_, stream_bytes)));
  {
    absl::MutexLock lock(&mu_);
    snapshot_context_ = &context;
  }
  peerpb::SnapshotReceipt receipt;
  std::unique_ptr<grpc::ClientWriter<peerpb::SnapshotChunk>> writer =
      stub_->SendSnapshot(&context, &receipt);
  bool written = true;
  uint64_t size_bytes = 0;
  // A failure of this member's own files: the checkpoint is not worth keeping.
  std::string failure;
  if (checkpoint.has_value()) {
    // An answer past the end cannot be about this checkpoint: the whole stream goes.
    if (offset > stream_bytes) offset = 0;
    // Only the bytes the peer lacks travel (the chunker reads the others for the checksum).
    CheckpointChunker chunker(message, *checkpoint, options_.cluster_id,
                              options_.snapshot_chunk_bytes, /*env=*/nullptr, offset);
    size_bytes = chunker.bytes_to_send();
    message.Clear();
    while (true) {
      absl::StatusOr<std::optional<peerpb::SnapshotChunk>> chunk = chunker.Next();
      if (!chunk.ok()) {
        failure = std::string(chunk.status().message());
        written = false;
        break;
      }
      if (!chunk->has_value()) break;
      if (!writer->Write(**chunk)) {
        written = false;
        break;
      }
    }
  } else {
    size_bytes = message.snapshot().data().size();
    std::vector<peerpb::SnapshotChunk> chunks =
        SplitSnapshot(message, options_.cluster_id, options_.snapshot_chunk_bytes);
    message.Clear();
    for (const peerpb::SnapshotChunk& chunk : chunks) {
      if (!writer->Write(chunk)) {
        written = false;
        break;
      }
    }
  }
  if (written) {
    writer->WritesDone();
  } else if (!failure.empty()) {
    context.TryCancel();
  }
  grpc::Status status = writer->Finish();
  {
    absl::MutexLock lock(&mu_);
    snapshot_context_ = nullptr;
  }
  const bool delivered = written && status.ok();
  if (delivered) {
    if (checkpoint.has_value()) {
      options_.logger->info(
          "sent snapshot at index {} to peer {:x} as a checkpoint at index {} ({} files, {} "
          "bytes{})",
          index, peer_id_, checkpoint->index, checkpoint->files.size(), size_bytes,
          offset > 0 ? absl::StrCat(", resumed at byte ", offset) : std::string());
    } else {
      options_.logger->info("sent snapshot at index {} ({} bytes) to peer {:x}", index, size_bytes,
                            peer_id_);
    }
  } else {
    options_.logger->warn("sending snapshot at index {} to peer {:x} failed: {}", index, peer_id_,
                          failure.empty() ? status.error_message() : failure);
  }
  if (checkpoint.has_value()) {
    if (delivered || !failure.empty() || RefusedByPeer(status.error_code())) {
      options_.checkpoint_source->Release(*checkpoint);
    } else {
      // The next snapshot to this peer resumes where this transfer stopped.
      Keep(*std::move(checkpoint));
    }
  }
  FinishSnapshot(delivered);
}

void PeerSender::FinishSnapshot(bool delivered) {
  // Free for the next snapshot before raft hears the outcome: a snapshot sent the moment the
  // report arrives must not be refused as one still in flight. The thread uses mu_ no more, so
  // SendSnapshot may join it while it reports.
  snapshot_in_flight_ = false;
  receiver_->ReportSnapshot(peer_id_, delivered);
}

void PeerSender::Probe() {
  peerpb::ProbeRequest request;
  request.set_cluster_id(options_.cluster_id);
  request.set_from(options_.local_id);
  request.set_to(peer_id_);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.probe_interval);
      if (stopping_) return;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.probe_timeout));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      probe_context_ = &context;
    }
    peerpb::ProbeResponse response;
    const absl::Time start = absl::Now();
    const grpc::Status status = stub_->Probe(&context, request, &response);
    const absl::Duration round_trip = absl::Now() - start;
    {
      absl::MutexLock lock(&mu_);
      probe_context_ = nullptr;
      if (stopping_) return;
    }
    // A refused or lost probe is not a round trip; the stream reports the peer's trouble.
    if (status.ok()) options_.on_round_trip(peer_id_, round_trip);
  }
}

void PeerSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
    if (snapshot_context_ != nullptr) snapshot_context_->TryCancel();
    if (probe_context_ != nullptr) probe_context_->TryCancel();
  }
  queue_.Close();
  if (thread_.joinable()) thread_.join();
  if (probe_thread_.joinable()) probe_thread_.join();
  std::thread snapshot_thread;
  {
    absl::MutexLock lock(&mu_);
    snapshot_thread = std::move(snapshot_thread_);
  }
  if (snapshot_thread.joinable()) snapshot_thread.join();
  std::optional<CheckpointFiles> kept;
  {
    absl::MutexLock lock(&kept_mu_);
    kept = std::exchange(kept_, std::nullopt);
  }
  if (kept.has_value()) options_.checkpoint_source->Release(*kept);
}

}  // namespace raftkv::transport
