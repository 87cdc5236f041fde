# raftkv-null-server: etcd's KV.Put and KV.Range from a map on one thread with gRPC's async API;
# the floor bench/etcd_compare.sh measures beside etcd and raftkv-server (docs/benchmarks.md).
find_package(CLI11 CONFIG REQUIRED)
add_executable(raftkv-null-server ${CMAKE_CURRENT_SOURCE_DIR}/null_server.cc)
target_link_libraries(raftkv-null-server PRIVATE raftkv_etcdpb PkgConfig::GRPCPP CLI11::CLI11)
raftkv_target_warnings(raftkv-null-server)
# Next to raftkv-server, where the script and the tests look for binaries.
set_target_properties(raftkv-null-server PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tools)
