// The installed storage component at work: a durable log written, closed and recovered.
//
// Opens a DurableStorage in a fresh directory, gives it a founding configuration, saves two
// entries and a hard state with a sync, closes it, opens the directory again and checks that
// recovery returns exactly what was saved. Exits 0 when it does.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "raftkv/io/env.h"
#include "raftkv/raftpb/raft.pb.h"
#include "raftkv/storage/durable_storage.h"

namespace {

namespace raftpb = raftkv::raftpb;
using raftkv::storage::DurableStorage;

int Fail(const std::string& what) {
  std::cerr << "durable_log_check: " << what << "\n";
  return EXIT_FAILURE;
}

raftpb::Entry MakeEntry(uint64_t index, uint64_t term, const std::string& data) {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(data);
  return e;
}

int Check(const std::string& dir) {
  raftkv::io::Env* env = raftkv::io::Env::Default();
  raftkv::storage::DurableStorageOptions options;
  options.wal.segment_bytes = 1 << 20;
  options.wal.preallocate = false;
  {
    auto storage = DurableStorage::Open(env, dir, options);
    if (!storage.ok()) return Fail("open: " + storage.status().ToString());
    raftpb::ConfState founders;
    founders.add_voters(1);
    if (absl::Status s = (*storage)->Bootstrap(founders); !s.ok()) return Fail(s.ToString());
    raftpb::HardState hs;
    hs.set_term(2);
    hs.set_vote(1);
    hs.set_commit(2);
    std::vector<raftpb::Entry> entries = {MakeEntry(1, 1, "a"), MakeEntry(2, 2, "b")};
    if (absl::Status s = (*storage)->Save(hs, entries, /*must_sync=*/true); !s.ok()) {
      return Fail("save: " + s.ToString());
    }
  }
  auto storage = DurableStorage::Open(env, dir, options);
  if (!storage.ok()) return Fail("reopen: " + storage.status().ToString());
  raftpb::HardState hs;
  raftpb::ConfState cs;
  if (absl::Status s = (*storage)->InitialState(&hs, &cs); !s.ok()) return Fail(s.ToString());
  if (hs.term() != 2 || hs.vote() != 1 || hs.commit() != 2) return Fail("hard state not recovered");
  if (cs.voters_size() != 1 || cs.voters(0) != 1) return Fail("configuration not recovered");
  auto entries = (*storage)->Entries(1, 3, raftkv::raft::kNoLimit);
  if (!entries.ok()) return Fail("entries: " + entries.status().ToString());
  if (entries->size() != 2 || (*entries)[0].data() != "a" || (*entries)[1].data() != "b" ||
      (*entries)[1].term() != 2) {
    return Fail("entries not recovered");
  }
  std::cout << "recovered hard state, configuration and " << entries->size() << " entries\n";
  return EXIT_SUCCESS;
}

}  // namespace

int main() {
  std::string pattern = (std::filesystem::temp_directory_path() / "raftkv-durable-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return Fail("mkdtemp failed");
  const int result = Check(pattern + "/data");
  std::filesystem::remove_all(pattern);
  return result;
}
