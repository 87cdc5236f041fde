#include "io/fault_injection_env.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace raftkv::io {

// One file's bytes in both views, plus the unsynced operations that lead from one to the other.
struct FaultInjectionEnv::Node {
  enum class OpKind { kWrite, kResize, kGrow };
  struct PendingOp {
    OpKind kind;
    uint64_t offset_or_size;
    std::string data;  // kWrite only
    uint64_t seq;
  };

  std::string data;    // what readers see now
  std::string synced;  // what survives a crash
  std::vector<PendingOp> pending;

  static void Apply(std::string& bytes, const PendingOp& op, size_t write_len) {
    switch (op.kind) {
      case OpKind::kWrite: {
        const uint64_t end = op.offset_or_size + write_len;
        if (bytes.size() < end) bytes.resize(end, '\0');
        bytes.replace(op.offset_or_size, write_len, op.data, 0, write_len);
        break;
      }
      case OpKind::kResize:
        bytes.resize(op.offset_or_size, '\0');
        break;
      case OpKind::kGrow:
        if (bytes.size() < op.offset_or_size) bytes.resize(op.offset_or_size, '\0');
        break;
    }
  }

  void Record(PendingOp op) {
    Apply(data, op, op.data.size());
    pending.push_back(std::move(op));
  }
};

class FaultInjectionEnv::MemFile final : public File {
 public:
  MemFile(FaultInjectionEnv* env, std::shared_ptr<Node> node, std::string path, uint64_t gen)
      : env_(env), node_(std::move(node)), path_(std::move(path)), generation_(gen) {}

  absl::Status Append(std::string_view data) override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    RecordWrite(node_->data.size(), std::string(data));
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    RecordWrite(offset, std::string(data));
    return absl::OkStatus();
  }

  absl::Status GatherWriteAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    // One pending write of the concatenation, so that a torn crash may cut it anywhere, in the
    // middle of a piece or between two, like a single pwritev.
    std::string data;
    size_t bytes = 0;
    for (std::string_view p : pieces) bytes += p.size();
    data.reserve(bytes);
    for (std::string_view p : pieces) data.append(p);
    RecordWrite(offset, std::move(data));
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = env_->CheckAliveLocked(generation_); !s.ok()) return s;
    if (offset >= node_->data.size()) return size_t{0};
    const size_t len = std::min<uint64_t>(n, node_->data.size() - offset);
    std::copy_n(node_->data.data() + offset, len, scratch);
    return len;
  }

  absl::Status Sync() override { return DataSync(); }

  absl::Status DataSync() override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    node_->synced = node_->data;
    node_->pending.clear();
    ++env_->file_syncs_;
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    node_->Record({Node::OpKind::kResize, size, {}, ++env_->op_seq_});
    return absl::OkStatus();
  }

  absl::Status Allocate(uint64_t size) override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = Begin(); !s.ok()) return s;
    node_->Record({Node::OpKind::kGrow, size, {}, ++env_->op_seq_});
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() const override {
    std::lock_guard lock(env_->mu_);
    if (absl::Status s = env_->CheckAliveLocked(generation_); !s.ok()) return s;
    return node_->data.size();
  }

  absl::Status Close() override { return absl::OkStatus(); }

 private:
  absl::Status Begin() {
    if (absl::Status s = env_->CheckAliveLocked(generation_); !s.ok()) return s;
    return env_->BeginMutationLocked();
  }

  void RecordWrite(uint64_t offset, std::string data) {
    node_->Record({Node::OpKind::kWrite, offset, std::move(data), ++env_->op_seq_});
  }

  FaultInjectionEnv* env_;
  std::shared_ptr<Node> node_;
  std::string path_;
  uint64_t generation_;
};

class FaultInjectionEnv::MemLock final : public FileLock {
 public:
  MemLock(FaultInjectionEnv* env, std::string path, uint64_t gen)
      : env_(env), path_(std::move(path)), generation_(gen) {}
  ~MemLock() override {
    std::lock_guard lock(env_->mu_);
    if (env_->generation_ == generation_) env_->locks_.erase(path_);
  }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  uint64_t generation_;
};

namespace {
std::string Normalize(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}
}  // namespace

FaultInjectionEnv::FaultInjectionEnv(uint64_t seed) : rand_(seed) { dirs_.insert("/"); }
FaultInjectionEnv::~FaultInjectionEnv() = default;

absl::Status FaultInjectionEnv::CheckAliveLocked(uint64_t generation) const {
  if (generation != generation_) {
    return absl::FailedPreconditionError("file handle opened before a simulated crash");
  }
  if (frozen_) return absl::UnavailableError("simulated crash: the file system is frozen");
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::BeginMutationLocked() {
  if (frozen_) return absl::UnavailableError("simulated crash: the file system is frozen");
  if (ops_until_freeze_ == 0) {
    frozen_ = true;
    return absl::UnavailableError("simulated crash: the file system is frozen");
  }
  if (ops_until_freeze_ > 0) --ops_until_freeze_;
  ++mutating_ops_;
  return absl::OkStatus();
}

std::shared_ptr<FaultInjectionEnv::Node> FaultInjectionEnv::FindLocked(
    const std::string& path) const {
  auto it = names_.find(path);
  return it == names_.end() ? nullptr : it->second;
}

absl::StatusOr<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& raw_path,
                                                                  OpenMode mode) {
  const std::string path = Normalize(raw_path);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  std::shared_ptr<Node> node = FindLocked(path);
  const bool creates = mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive ||
                       mode == OpenMode::kCreateTruncate;
  if (node == nullptr && !creates) return ErrnoError(ENOENT, "open", path);
  if (node != nullptr && mode == OpenMode::kCreateExclusive) {
    return ErrnoError(EEXIST, "open", path);
  }
  if (dirs_.count(path) != 0) return ErrnoError(EISDIR, "open", path);
  if (node == nullptr) {
    if (dirs_.count(DirName(path)) == 0) return ErrnoError(ENOENT, "open", path);
    if (absl::Status s = BeginMutationLocked(); !s.ok()) return s;
    node = std::make_shared<Node>();
    names_[path] = node;
  } else if (mode == OpenMode::kCreateTruncate) {
    if (absl::Status s = BeginMutationLocked(); !s.ok()) return s;
    node->Record({Node::OpKind::kResize, 0, {}, ++op_seq_});
  }
  return std::make_unique<MemFile>(this, node, path, generation_);
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') {
      const std::string prefix = path.substr(0, pos);
      if (names_.count(prefix) != 0) return ErrnoError(ENOTDIR, "mkdir", prefix);
      dirs_.insert(prefix);
    }
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& raw_dir) {
  const std::string dir = Normalize(raw_dir);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  if (dirs_.count(dir) == 0) return ErrnoError(ENOENT, "open", dir);
  if (absl::Status s = BeginMutationLocked(); !s.ok()) return s;
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = DirName(it->first) == dir ? durable_names_.erase(it) : std::next(it);
  }
  for (const auto& [name, node] : names_) {
    if (DirName(name) == dir) durable_names_[name] = node;
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::Rename(const std::string& raw_from, const std::string& raw_to) {
  const std::string from = Normalize(raw_from), to = Normalize(raw_to);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  std::shared_ptr<Node> node = FindLocked(from);
  if (node == nullptr) return ErrnoError(ENOENT, "rename", fmt::format("{} -> {}", from, to));
  if (dirs_.count(DirName(to)) == 0) {
    return ErrnoError(ENOENT, "rename", fmt::format("{} -> {}", from, to));
  }
  if (absl::Status s = BeginMutationLocked(); !s.ok()) return s;
  names_.erase(from);
  names_[to] = std::move(node);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::Remove(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  if (names_.count(path) == 0) return ErrnoError(ENOENT, "unlink", path);
  if (absl::Status s = BeginMutationLocked(); !s.ok()) return s;
  names_.erase(path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& raw_dir) {
  const std::string dir = Normalize(raw_dir);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  if (dirs_.count(dir) == 0) return ErrnoError(ENOENT, "opendir", dir);
  std::vector<std::string> out;
  const size_t prefix = dir == "/" ? 1 : dir.size() + 1;
  for (const auto& [name, node] : names_) {
    if (DirName(name) == dir) out.push_back(name.substr(prefix));
  }
  for (const std::string& d : dirs_) {
    if (d != dir && DirName(d) == dir) out.push_back(d.substr(prefix));
  }
  return out;
}

absl::StatusOr<bool> FaultInjectionEnv::Exists(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  return names_.count(path) != 0 || dirs_.count(path) != 0;
}

absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  std::lock_guard lock(mu_);
  if (absl::Status s = CheckAliveLocked(generation_); !s.ok()) return s;
  if (dirs_.count(DirName(path)) == 0) return ErrnoError(ENOENT, "open", path);
  if (locks_.count(path) != 0) {
    return absl::FailedPreconditionError(
        fmt::format("lock {}: already held by another process or handle", path));
  }
  if (names_.count(path) == 0) names_[path] = std::make_shared<Node>();
  locks_.insert(path);
  return std::make_unique<MemLock>(this, path, generation_);
}

void FaultInjectionEnv::Crash(bool tear_last_write) {
  std::lock_guard lock(mu_);
  // The torn file is the one holding the most recent unsynced operation.
  Node* torn = nullptr;
  uint64_t last_seq = 0;
  std::set<Node*> nodes;
  for (const auto& [name, node] : durable_names_) nodes.insert(node.get());
  for (Node* node : nodes) {
    if (!node->pending.empty() && node->pending.back().seq > last_seq) {
      last_seq = node->pending.back().seq;
      torn = node;
    }
  }
  for (Node* node : nodes) {
    std::string survived = node->synced;
    if (tear_last_write && node == torn) {
      // Keep pending[0, keep) whole and pending[keep] cut at a random byte: a disk that
      // persists writes in order but lost power in the middle of one.
      const size_t keep = rand_.Uniform(node->pending.size());
      for (size_t i = 0; i < keep; ++i) {
        Node::Apply(survived, node->pending[i], node->pending[i].data.size());
      }
      const Node::PendingOp& cut = node->pending[keep];
      if (cut.kind == Node::OpKind::kWrite) {
        Node::Apply(survived, cut, cut.data.empty() ? 0 : rand_.Uniform(cut.data.size()));
      } else if (rand_.Bernoulli(0.5)) {
        Node::Apply(survived, cut, 0);
      }
    }
    node->data = survived;
    node->synced = std::move(survived);
    node->pending.clear();
  }
  FinishCrashLocked();
}

void FaultInjectionEnv::CrashWritingBackPagesInAnyOrder(uint64_t page_bytes) {
  std::lock_guard lock(mu_);
  std::set<Node*> nodes;
  for (const auto& [name, node] : durable_names_) nodes.insert(node.get());
  for (Node* node : nodes) {
    std::string survived = node->synced;
    survived.resize(node->data.size(), '\0');
    // Every page an unsynced write touched, each decided once.
    std::set<uint64_t> pages;
    for (const Node::PendingOp& op : node->pending) {
      if (op.kind != Node::OpKind::kWrite || op.data.empty()) continue;
      const uint64_t end = op.offset_or_size + op.data.size();
      for (uint64_t p = op.offset_or_size / page_bytes; p * page_bytes < end; ++p) pages.insert(p);
    }
    for (uint64_t p : pages) {
      const uint64_t begin = p * page_bytes;
      if (begin >= survived.size() || !rand_.Bernoulli(0.5)) continue;
      const uint64_t len = std::min<uint64_t>(page_bytes, survived.size() - begin);
      survived.replace(begin, len, node->data, begin, len);
    }
    node->data = survived;
    node->synced = std::move(survived);
    node->pending.clear();
  }
  FinishCrashLocked();
}

void FaultInjectionEnv::FinishCrashLocked() {
  names_ = durable_names_;
  locks_.clear();
  ++generation_;
  frozen_ = false;
  ops_until_freeze_ = -1;
}

void FaultInjectionEnv::CrashAfter(uint64_t ops) {
  std::lock_guard lock(mu_);
  ops_until_freeze_ = static_cast<int64_t>(ops);
}

bool FaultInjectionEnv::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

uint64_t FaultInjectionEnv::mutating_ops() const {
  std::lock_guard lock(mu_);
  return mutating_ops_;
}

uint64_t FaultInjectionEnv::file_syncs() const {
  std::lock_guard lock(mu_);
  return file_syncs_;
}

absl::StatusOr<std::string> FaultInjectionEnv::Contents(const std::string& path) const {
  std::lock_guard lock(mu_);
  std::shared_ptr<Node> node = FindLocked(Normalize(path));
  if (node == nullptr) return ErrnoError(ENOENT, "open", path);
  return node->data;
}

absl::Status FaultInjectionEnv::CorruptByte(const std::string& path, uint64_t offset,
                                            uint8_t mask) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Node> node = FindLocked(Normalize(path));
  if (node == nullptr) return ErrnoError(ENOENT, "open", path);
  if (offset >= node->data.size()) return absl::OutOfRangeError("offset past end of file");
  node->data[offset] = static_cast<char>(node->data[offset] ^ mask);
  if (offset < node->synced.size()) {
    node->synced[offset] = static_cast<char>(node->synced[offset] ^ mask);
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SetContents(const std::string& path, std::string data) {
  std::lock_guard lock(mu_);
  std::shared_ptr<Node> node = FindLocked(Normalize(path));
  if (node == nullptr) return ErrnoError(ENOENT, "open", path);
  node->data = data;
  node->synced = std::move(data);
  node->pending.clear();
  return absl::OkStatus();
}

}  // namespace raftkv::io
