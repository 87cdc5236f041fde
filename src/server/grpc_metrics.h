// gRPC server metrics with the names etcd exports (go-grpc-prometheus): per service and method,
// grpc_server_started_total, grpc_server_handled_total{grpc_code} and the handling-time histogram
// grpc_server_handling_seconds, plus grpc_server_msg_received_total / msg_sent_total for streams.
//
// Installed as a server interceptor, so every service (the etcd API and the peer transport alike)
// is counted without code in the services. Each method's series are created on its first call
// (all status codes at once, as go-grpc-prometheus does, so a rate() over a code that has not
// happened yet is 0 rather than absent) and cached, so a call costs one short lock and a few
// atomic additions.
//
// Thread-safety: the factory is used by gRPC from any thread.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "base/metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace raftkv::server {

class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `registry` is not owned and must outlive every server built with this factory.
  explicit GrpcMetricsInterceptorFactory(base::Registry* registry) : registry_(registry) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // The series of one method.
  struct MethodMetrics {
    base::Counter* started = nullptr;
    base::Counter* received = nullptr;
    base::Counter* sent = nullptr;
    std::array<base::Counter*, 17> handled{};  // by grpc::StatusCode
    base::Histogram* handling_seconds = nullptr;
  };

 private:
  const MethodMetrics& ForMethod(const char* full_name,
                                 grpc::experimental::ServerRpcInfo::Type type);

  base::Registry* const registry_;
  absl::Mutex mu_;
  // By full method name ("/etcdserverpb.KV/Put"). Entries are never removed, so references to
  // them stay valid (node-based map).
  absl::flat_hash_map<std::string, std::unique_ptr<MethodMetrics>> methods_ ABSL_GUARDED_BY(mu_);
};

// go-grpc-prometheus' spelling of a status code ("OK", "DeadlineExceeded", ...).
const char* GrpcCodeName(int code);

}  // namespace raftkv::server
