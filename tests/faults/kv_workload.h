// The harness's clients: a few threads, each with its own gRPC channel to every member, doing
// get, put and compare-and-set on a few keys, and recording every operation (invoke, then ok,
// fail or unknown) into one linearizability history.
//
// Each client works against one member at a time, now and then picking another at random, and
// moves to another member after any failure. Before sending, it makes sure its channel to the
// member is connected (a member that is down is skipped without recording anything), which keeps
// refused connections from turning into unknown writes. Values are unique ("c<client>-<n>"), so
// a read names the write it saw. The keys in use are renewed every `key_lifetime`.
//
//   get: a Range of the key, linearizable (or serializable when asked: the teeth test)
//   put: a Put
//   cas: a Txn comparing the value (or create_revision == 0 for "absent") and putting on
//        success; the failure branch reads the key so that the client's next cas has a
//        current expectation
//
// How failures are recorded: see client_outcome.h.
//
// Thread-safety: Start/Stop from one thread; History and Counts from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lincheck/history.h"

namespace raftkv::faults {

struct WorkloadOptions {
  int clients = 4;
  int keys = 3;
  // Keys are retired after this long and replaced by fresh ones ("k<epoch>-<i>"), like Jepsen's
  // independent keys: every key's history stays short, so checking a run costs time in
  // proportion to its length instead of growing much faster with each key's history (a
  // 30-minute run on three keys for good was beyond a 10-minute check budget). Zero: the same
  // keys ("k<i>") for the whole run.
  absl::Duration key_lifetime = absl::Seconds(20);
  // Gets answered from the member's own store without asking the leader (etcd's
  // serializable reads): not linearizable under partitions, which the teeth test shows.
  bool serializable_reads = false;
  // Each call's deadline.
  absl::Duration op_timeout = absl::Seconds(1);
  // A pause between a client's operations, which bounds the history's size.
  absl::Duration think_time = absl::Milliseconds(10);
  uint64_t seed = 1;
};

struct WorkloadCounts {
  // [kind][status]: kind 0 get, 1 put, 2 cas; status as lincheck::OpStatus.
  int64_t ops[3][3] = {};
  int64_t cas_swapped = 0;
  // Times a client found its member unreachable and moved on without sending.
  int64_t unreachable_skips = 0;
  int64_t total() const;
  int64_t with_status(lincheck::OpStatus status) const;
};

class KvWorkload {
 public:
  // `endpoints`: host:port of every member's client URL (they do not change when a member is
  // replaced: the new member takes the old one's addresses).
  KvWorkload(WorkloadOptions options, std::vector<std::string> endpoints);
  ~KvWorkload();
  KvWorkload(const KvWorkload&) = delete;
  KvWorkload& operator=(const KvWorkload&) = delete;

  void Start();
  // Asks the clients to stop and waits for them (each finishes its call in flight first).
  void Stop();

  // The history so far; operations still in flight are unknown.
  lincheck::History History() const;
  WorkloadCounts Counts() const;
  // "4217 ops: get 1800 ok / 12 fail, put ..., cas ...".
  std::string Summary() const;

 private:
  void RunClient(int client);

  const WorkloadOptions options_;
  const std::vector<std::string> endpoints_;
  absl::Time start_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;

  mutable absl::Mutex mu_;
  lincheck::HistoryBuilder history_ ABSL_GUARDED_BY(mu_);
  WorkloadCounts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace raftkv::faults
