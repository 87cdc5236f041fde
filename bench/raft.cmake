# Core benchmark: a 3-node in-memory cluster driven through RawNode with instant delivery.
if(TARGET raftkv_raft)
  raftkv_add_benchmark(raft_bench
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/raft_bench.cc
    DEPS raftkv_raft)
endif()
