#include "key_generator.h"

#include <cassert>

namespace raftkv::bench {

KeyGenerator::KeyGenerator(int key_size, uint64_t key_space, uint64_t seed)
    : key_size_(key_size), key_space_(key_space), rand_(seed) {
  assert(KeySpaceFits(key_space, key_size));
}

KeyGenerator::KeyGenerator(int key_size, uint64_t key_space, std::atomic<uint64_t>* sequence)
    : key_size_(key_size), key_space_(key_space), rand_(0), sequence_(sequence) {
  assert(KeySpaceFits(key_space, key_size));
}

void KeyGenerator::Next(std::string* key) {
  const uint64_t index = sequence_ != nullptr
                             ? sequence_->fetch_add(1, std::memory_order_relaxed) % key_space_
                             : rand_.Uniform(key_space_);
  Format(index, key_size_, key);
}

void KeyGenerator::Format(uint64_t index, int key_size, std::string* key) {
  key->assign(static_cast<size_t>(key_size), '0');
  for (int i = key_size - 1; i >= 0 && index > 0; --i, index /= 10) {
    (*key)[static_cast<size_t>(i)] = static_cast<char>('0' + index % 10);
  }
}

std::string KeyGenerator::KeyAt(uint64_t index, int key_size) {
  std::string key;
  Format(index, key_size, &key);
  return key;
}

bool KeyGenerator::KeySpaceFits(uint64_t key_space, int key_size) {
  // The largest key is key_space - 1; count the digits it needs.
  uint64_t largest = key_space == 0 ? 0 : key_space - 1;
  int digits = 1;
  while (largest >= 10) {
    largest /= 10;
    ++digits;
  }
  return digits <= key_size;
}

}  // namespace raftkv::bench
