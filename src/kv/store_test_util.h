// Builders and a driver shared by the store's tests.
// Thread-safety: test-only, single-threaded.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kv/store.h"

namespace raftkv::kv::testing {

inline etcdserverpb::PutRequest PutReq(std::string key, std::string value) {
  etcdserverpb::PutRequest request;
  request.set_key(std::move(key));
  request.set_value(std::move(value));
  return request;
}

inline etcdserverpb::DeleteRangeRequest DelReq(std::string key, std::string range_end = "") {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::move(key));
  request.set_range_end(std::move(range_end));
  return request;
}

inline etcdserverpb::RangeRequest RangeReq(std::string key, std::string range_end = "") {
  etcdserverpb::RangeRequest request;
  request.set_key(std::move(key));
  request.set_range_end(std::move(range_end));
  return request;
}

inline etcdserverpb::RequestOp PutOp(std::string key, std::string value) {
  etcdserverpb::RequestOp op;
  *op.mutable_request_put() = PutReq(std::move(key), std::move(value));
  return op;
}

inline etcdserverpb::RequestOp DelOp(std::string key, std::string range_end = "") {
  etcdserverpb::RequestOp op;
  *op.mutable_request_delete_range() = DelReq(std::move(key), std::move(range_end));
  return op;
}

inline etcdserverpb::RequestOp RangeOp(std::string key, std::string range_end = "") {
  etcdserverpb::RequestOp op;
  *op.mutable_request_range() = RangeReq(std::move(key), std::move(range_end));
  return op;
}

inline etcdserverpb::RequestOp TxnOp(etcdserverpb::TxnRequest txn) {
  etcdserverpb::RequestOp op;
  *op.mutable_request_txn() = std::move(txn);
  return op;
}

inline kvpb::Request Wrap(etcdserverpb::PutRequest put) {
  kvpb::Request request;
  *request.mutable_put() = std::move(put);
  return request;
}
inline kvpb::Request Wrap(etcdserverpb::DeleteRangeRequest del) {
  kvpb::Request request;
  *request.mutable_delete_range() = std::move(del);
  return request;
}
inline kvpb::Request Wrap(etcdserverpb::TxnRequest txn) {
  kvpb::Request request;
  *request.mutable_txn() = std::move(txn);
  return request;
}
inline kvpb::Request CompactReq(int64_t revision) {
  kvpb::Request request;
  request.mutable_compaction()->set_revision(revision);
  return request;
}

// Feeds requests to a Store the way the apply loop does: one raft index after another.
class StoreDriver {
 public:
  Store& store() { return store_; }

  absl::StatusOr<kvpb::Response> Apply(const kvpb::Request& request) {
    return store_.Apply(request, store_.applied_index() + 1);
  }

  etcdserverpb::PutResponse Put(std::string key, std::string value) {
    auto response = Apply(Wrap(PutReq(std::move(key), std::move(value))));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->put() : etcdserverpb::PutResponse();
  }

  etcdserverpb::DeleteRangeResponse Delete(std::string key, std::string range_end = "") {
    auto response = Apply(Wrap(DelReq(std::move(key), std::move(range_end))));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->delete_range() : etcdserverpb::DeleteRangeResponse();
  }

  etcdserverpb::TxnResponse Txn(const etcdserverpb::TxnRequest& txn) {
    auto response = Apply(Wrap(txn));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->txn() : etcdserverpb::TxnResponse();
  }

  etcdserverpb::RangeResponse Get(const etcdserverpb::RangeRequest& request) {
    auto response = store_.Range(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : etcdserverpb::RangeResponse();
  }

  // The live key `key` at the current revision; fails the test if absent.
  mvccpb::KeyValue GetOne(std::string key) {
    etcdserverpb::RangeResponse response = Get(RangeReq(std::move(key)));
    EXPECT_EQ(response.kvs_size(), 1);
    return response.kvs_size() == 1 ? response.kvs(0) : mvccpb::KeyValue();
  }

  std::vector<std::string> Keys(const etcdserverpb::RangeRequest& request) {
    std::vector<std::string> keys;
    const etcdserverpb::RangeResponse response = Get(request);
    for (const auto& kv : response.kvs()) keys.push_back(kv.key());
    return keys;
  }

 private:
  Store store_;
};

}  // namespace raftkv::kv::testing
