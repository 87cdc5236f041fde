#include "server/etcd/watch_service.h"

#include <utility>

#include "server/etcd/watch_stream.h"

namespace raftkv::server::etcd {

WatchService::WatchService(Backend* backend, WatchOptions options)
    : backend_(backend), options_(std::move(options)), hub_(backend, options_) {}

::grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>*
WatchService::Watch(::grpc::CallbackServerContext*) {
  // The stream owns itself until gRPC is done with it (WatchStream::OnDone).
  return WatchStream::Create(backend_, &hub_, options_).get();
}

}  // namespace raftkv::server::etcd
