#include "server/grpc_metrics.h"

#include <string_view>

#include "absl/time/clock.h"

namespace raftkv::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

// One call: counts its messages and, when the status goes out (or the call ends without one,
// as a cancelled call does), its code and duration.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(const GrpcMetricsInterceptorFactory::MethodMetrics* metrics)
      : metrics_(metrics), start_(absl::Now()) {
    metrics_->started->Add();
  }
  ~MetricsInterceptor() override {
    if (!finished_) Finish(grpc::StatusCode::CANCELLED);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      metrics_->received->Add();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      metrics_->sent->Add();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Finish(grpc::StatusCode code) {
    finished_ = true;
    const int index = static_cast<int>(code);
    if (index >= 0 && index < static_cast<int>(metrics_->handled.size())) {
      metrics_->handled[index]->Add();
    }
    metrics_->handling_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
  }

  const GrpcMetricsInterceptorFactory::MethodMetrics* metrics_;
  const absl::Time start_;
  bool finished_ = false;
};

}  // namespace

const char* GrpcCodeName(int code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",     "Unknown",           "InvalidArgument", "DeadlineExceeded",
      "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",   "Unimplemented",     "Internal",        "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

const GrpcMetricsInterceptorFactory::MethodMetrics& GrpcMetricsInterceptorFactory::ForMethod(
    const char* full_name, ServerRpcInfo::Type type) {
  absl::MutexLock lock(&mu_);
  auto& slot = methods_[full_name];
  if (slot != nullptr) return *slot;
  // "/etcdserverpb.KV/Put" → service "etcdserverpb.KV", method "Put".
  std::string_view name(full_name);
  if (name.starts_with('/')) name.remove_prefix(1);
  const size_t slash = name.rfind('/');
  const std::string service(slash == std::string_view::npos ? "" : name.substr(0, slash));
  const std::string method(slash == std::string_view::npos ? name : name.substr(slash + 1));
  const base::MetricLabels labels = {
      {"grpc_type", TypeName(type)}, {"grpc_service", service}, {"grpc_method", method}};
  slot = std::make_unique<MethodMetrics>();
  slot->started = registry_->GetCounter("grpc_server_started_total",
                                        "Total number of RPCs started on the server.", labels);
  slot->received = registry_->GetCounter(
      "grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.",
      labels);
  slot->sent = registry_->GetCounter("grpc_server_msg_sent_total",
                                     "Total number of gRPC stream messages sent by the server.",
                                     labels);
  for (int code = 0; code < static_cast<int>(slot->handled.size()); ++code) {
    base::MetricLabels with_code = labels;
    with_code["grpc_code"] = GrpcCodeName(code);
    slot->handled[code] = registry_->GetCounter(
        "grpc_server_handled_total",
        "Total number of RPCs completed on the server, regardless of success or failure.",
        with_code);
  }
  slot->handling_seconds = registry_->GetHistogram(
      "grpc_server_handling_seconds",
      "Histogram of response latency (seconds) of gRPC that had been application-level handled "
      "by the server.",
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}, labels);
  return *slot;
}

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  return new MetricsInterceptor(&ForMethod(info->method(), info->type()));
}

}  // namespace raftkv::server
