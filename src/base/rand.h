// Seeded pseudo-random source for deterministic components.
//
// The consensus core and the simulator never touch a global or time-seeded generator: every
// random choice comes from a Rand that was handed a seed, so one seed replays a whole run.
// Not thread-safe; each owner keeps its own instance.
#pragma once

#include <cstdint>

namespace raftkv::base {

// xoshiro256** seeded through SplitMix64 (Blackman & Vigna). Small, fast, and good enough for
// timers and fault injection; not for cryptography.
class Rand {
 public:
  explicit Rand(uint64_t seed) { Seed(seed); }

  void Seed(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) {
    // Lemire's multiply-shift reduction; the tiny bias is irrelevant for our uses.
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [lo, hi). REQUIRES: lo < hi.
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo); }

  // True with probability p (0 <= p <= 1).
  bool Bernoulli(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace raftkv::base
