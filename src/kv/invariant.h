// Always-on invariant checks for the store: a broken invariant means replicas may diverge, so it
// stops the process even in release builds.
// Thread-safety: stateless.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RAFTKV_KV_INVARIANT(condition)                                                   \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: kv store invariant broken: %s\n", __FILE__, __LINE__, \
                   #condition);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
