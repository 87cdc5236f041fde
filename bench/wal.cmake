# WAL throughput, raw disk limits and recovery time (see docs/benchmarks.md, "Storage").
raftkv_add_benchmark(raftkv_wal_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/wal_bench.cc
  DEPS raftkv_storage)
