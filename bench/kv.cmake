# The key-value store on the memory and the RocksDB engine, without raft (docs/storage.md).
raftkv_add_benchmark(kv_store_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/kv_store_bench.cc
  DEPS raftkv_kv_rocksdb raftkv_kv fmt::fmt)
