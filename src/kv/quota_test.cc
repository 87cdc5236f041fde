// etcd's quota costs (etcdserver/quota.go): what each request is charged against
// --quota-backend-bytes.
#include "kv/quota.h"

#include "gtest/gtest.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using testing::CompactReq;
using testing::DelOp;
using testing::DelReq;
using testing::PutOp;
using testing::PutReq;
using testing::TxnOp;
using testing::Wrap;

TEST(QuotaCost, APutCostsItsKeyAndValuePlusEtcdsMetadataOverhead) {
  EXPECT_EQ(QuotaCost(Wrap(PutReq("key", "value"))), 256 + 3 + 5);
  EXPECT_EQ(QuotaCost(Wrap(PutReq("k", ""))), 256 + 1);
}

TEST(QuotaCost, ATxnCostsTheLargerOfItsBranches) {
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = PutOp("a", "1");
  *txn.add_failure() = PutOp("bb", "22");
  *txn.add_failure() = PutOp("c", "");
  *txn.add_failure() = DelOp("d");
  EXPECT_EQ(QuotaCost(Wrap(txn)), (256 + 4) + (256 + 1));
}

TEST(QuotaCost, PutsInNestedTxnsCount) {
  etcdserverpb::TxnRequest inner;
  *inner.add_success() = PutOp("x", "12345");
  *inner.add_failure() = PutOp("y", "1");
  etcdserverpb::TxnRequest outer;
  *outer.add_success() = TxnOp(inner);
  EXPECT_EQ(QuotaCost(Wrap(outer)), 256 + 6);
}

TEST(QuotaCost, AReadOnlyOrDeleteOnlyTxnCostsNothing) {
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = DelOp("a");
  *txn.add_failure() = testing::RangeOp("b");
  EXPECT_EQ(QuotaCost(Wrap(txn)), 0);
}

TEST(QuotaCost, ALeaseGrantCostsEtcdsLeaseOverhead) {
  kvpb::Request grant;
  grant.mutable_lease_grant()->set_ttl(10);
  EXPECT_EQ(QuotaCost(grant), 64);
}

TEST(QuotaCost, WhatMakesRoomCostsNothing) {
  EXPECT_EQ(QuotaCost(Wrap(DelReq("a"))), 0);
  EXPECT_EQ(QuotaCost(CompactReq(3)), 0);
  kvpb::Request revoke;
  revoke.mutable_lease_revoke()->set_id(7);
  EXPECT_EQ(QuotaCost(revoke), 0);
  kvpb::Request alarm;
  alarm.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::DEACTIVATE);
  EXPECT_EQ(QuotaCost(alarm), 0);
}

TEST(QuotaCost, DefaultQuotaIsEtcdsTwoGiB) { EXPECT_EQ(kDefaultQuotaBytes, 2147483648); }

}  // namespace
}  // namespace raftkv::kv
