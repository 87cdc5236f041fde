// One step of the simulator's running hashes (the safety checker's applied-entry chains and
// the observed state digests): the SplitMix64 finaliser over h ^ v, cheap and sensitive to
// every bit of both.
#pragma once

#include <cstdint>

namespace raftkv::sim {

inline uint64_t HashMix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace raftkv::sim
