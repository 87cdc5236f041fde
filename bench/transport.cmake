# The receiving end of a checkpoint transfer, without the network (docs/storage.md).
raftkv_add_benchmark(checkpoint_sink_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint_sink_bench.cc
  DEPS raftkv_transport raftkv_base)
