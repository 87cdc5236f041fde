// CRC32C (Castagnoli), the checksum that guards every WAL record and snapshot file.
//
// Value/Extend pick the SSE4.2 crc32 instruction when the CPU has it (checked once at run time)
// and fall back to a table otherwise; both paths are exposed so tests can check each against the
// published vectors. Masking follows the LevelDB convention: a CRC stored next to the data it
// covers is rotated and offset so that a CRC of bytes that themselves contain CRCs does not
// degenerate. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace raftkv::base::crc32c {

// CRC32C of data[0, n) continuing from `crc`, the CRC of the preceding bytes (0 to start).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// The two implementations behind Extend.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n);  // REQUIRES: HasHardware()
bool HasHardware();

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace raftkv::base::crc32c
