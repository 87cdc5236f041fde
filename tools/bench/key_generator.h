// The keys a benchmark client sends: the numbers [0, key_space) in decimal, zero-padded to
// key_size bytes ("00000042"), so that they sort in numeric order and a person can read them
// back with etcdctl.
//
// Uniform keys come from the client's own seeded generator. Sequential keys come from one
// counter shared by every client of the run, so that together they write 0, 1, 2, ...
// without gaps or repeats whatever their speed.
//
// Thread-safety: a KeyGenerator belongs to one client; only the shared counter is atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/rand.h"

namespace raftkv::bench {

class KeyGenerator {
 public:
  // Uniform keys drawn with a generator seeded with `seed`.
  KeyGenerator(int key_size, uint64_t key_space, uint64_t seed);
  // Sequential keys: the next value of `*sequence` modulo key_space.
  // REQUIRES: `sequence` outlives this generator.
  KeyGenerator(int key_size, uint64_t key_space, std::atomic<uint64_t>* sequence);

  // Overwrites `*key` with the next key; reuses its buffer.
  void Next(std::string* key);

  // Key number `index`, written into `*key`. REQUIRES: KeySpaceFits(index + 1, key_size).
  static void Format(uint64_t index, int key_size, std::string* key);
  static std::string KeyAt(uint64_t index, int key_size);
  // Whether every number below key_space can be written in key_size decimal digits.
  static bool KeySpaceFits(uint64_t key_space, int key_size);

 private:
  int key_size_;
  uint64_t key_space_;
  base::Rand rand_;
  std::atomic<uint64_t>* sequence_ = nullptr;  // null: uniform keys
};

}  // namespace raftkv::bench
