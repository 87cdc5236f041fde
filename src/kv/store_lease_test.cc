// Leases in the store: etcd's grant rules and errors, keys attached by put and detached by put
// or delete, revoke deleting every attached key at one revision, and snapshots carrying leases.
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kv/errors.h"
#include "kv/store_test_util.h"

namespace raftkv::kv {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::DelReq;
using testing::PutReq;
using testing::RangeReq;
using testing::StoreDriver;
using testing::Wrap;

kvpb::Request GrantReq(int64_t id, int64_t ttl) {
  kvpb::Request request;
  request.mutable_lease_grant()->set_id(id);
  request.mutable_lease_grant()->set_ttl(ttl);
  return request;
}

kvpb::Request RevokeReq(int64_t id) {
  kvpb::Request request;
  request.mutable_lease_revoke()->set_id(id);
  return request;
}

etcdserverpb::PutRequest LeasedPut(std::string key, std::string value, int64_t lease) {
  etcdserverpb::PutRequest put = PutReq(std::move(key), std::move(value));
  put.set_lease(lease);
  return put;
}

std::vector<std::string> KeysOf(const Store& store, int64_t lease) {
  auto state = store.FindLease(lease, /*with_keys=*/true);
  EXPECT_TRUE(state.has_value()) << "lease " << lease;
  return state.has_value() ? state->keys : std::vector<std::string>{};
}

TEST(StoreLease, GrantAnswersTheIdAndTtlWithoutChangingTheRevision) {
  StoreDriver d;
  auto response = d.Apply(GrantReq(7, 30));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->lease_grant().id(), 7);
  EXPECT_EQ(response->lease_grant().ttl(), 30);
  EXPECT_EQ(response->lease_grant().header().revision(), 1);
  EXPECT_EQ(d.store().revision(), 1);
  ASSERT_TRUE(d.store().FindLease(7, false).has_value());
  EXPECT_EQ(d.store().FindLease(7, false)->ttl, 30);
  EXPECT_EQ(d.store().lease_count(), 1u);
}

TEST(StoreLease, GrantingAnExistingIdFailsWithEtcdsError) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  auto again = d.Apply(GrantReq(7, 60));
  EXPECT_EQ(again.status(), LeaseExistsError());
  EXPECT_EQ(again.status().message(), "etcdserver: lease already exists");
  EXPECT_EQ(d.store().FindLease(7, false)->ttl, 30);
}

TEST(StoreLease, GrantAboveEtcdsMaximumTtlFails) {
  StoreDriver d;
  auto response = d.Apply(GrantReq(7, kMaxLeaseTtlSeconds + 1));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(response.status().message(), "etcdserver: too large lease TTL");
  EXPECT_TRUE(d.Apply(GrantReq(8, kMaxLeaseTtlSeconds)).ok());
}

TEST(StoreLease, IdZeroIsNoLeaseAndCannotBeGranted) {
  StoreDriver d;
  EXPECT_EQ(d.Apply(GrantReq(0, 30)).status(), LeaseNotFoundError());
  EXPECT_EQ(d.store().lease_count(), 0u);
}

TEST(StoreLease, PutWithAMissingLeaseFailsAndWritesNothing) {
  StoreDriver d;
  auto response = d.Apply(Wrap(LeasedPut("k", "v", 42)));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status().message(), "etcdserver: requested lease not found");
  EXPECT_EQ(d.store().revision(), 1);
  EXPECT_THAT(d.Keys(RangeReq("k")), IsEmpty());
}

TEST(StoreLease, PutWithALeaseAttachesTheKey) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("b", "1", 7))).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("a", "2", 7))).ok());
  EXPECT_EQ(d.GetOne("a").lease(), 7);
  EXPECT_THAT(KeysOf(d.store(), 7), ElementsAre("a", "b"));
}

TEST(StoreLease, PutWithoutALeaseDetachesAndIgnoreLeaseKeepsIt) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("a", "1", 7))).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("b", "1", 7))).ok());

  etcdserverpb::PutRequest keep = PutReq("a", "2");
  keep.set_ignore_lease(true);
  ASSERT_TRUE(d.Apply(Wrap(keep)).ok());
  EXPECT_EQ(d.GetOne("a").lease(), 7);
  EXPECT_EQ(d.GetOne("a").value(), "2");

  d.Put("b", "plain");
  EXPECT_EQ(d.GetOne("b").lease(), 0);
  EXPECT_THAT(KeysOf(d.store(), 7), ElementsAre("a"));
}

TEST(StoreLease, PutMovesAKeyFromOneLeaseToAnother) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  ASSERT_TRUE(d.Apply(GrantReq(8, 30)).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("a", "1", 7))).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("a", "2", 8))).ok());
  EXPECT_THAT(KeysOf(d.store(), 7), IsEmpty());
  EXPECT_THAT(KeysOf(d.store(), 8), ElementsAre("a"));
}

TEST(StoreLease, DeletingAKeyDetachesIt) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  ASSERT_TRUE(d.Apply(Wrap(LeasedPut("a", "1", 7))).ok());
  d.Delete("a");
  EXPECT_THAT(KeysOf(d.store(), 7), IsEmpty());
  // Revoking afterwards has nothing to delete, so the revision stays.
  const int64_t before = d.store().revision();
  ASSERT_TRUE(d.Apply(RevokeReq(7)).ok());
  EXPECT_EQ(d.store().revision(), before);
}

TEST(StoreLease, RevokeDeletesEveryAttachedKeyAtOneRevision) {
  StoreDriver d;
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  for (const char* key : {"c", "a", "b"}) ASSERT_TRUE(d.Apply(Wrap(LeasedPut(key, "v", 7))).ok());
  d.Put("other", "stays");
  const int64_t before = d.store().revision();

  auto response = d.Apply(RevokeReq(7));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(d.store().revision(), before + 1);
  EXPECT_EQ(response->lease_revoke().header().revision(), before + 1);
  EXPECT_THAT(d.Keys(RangeReq("a", "z")), ElementsAre("other"));
  EXPECT_FALSE(d.store().FindLease(7, false).has_value());

  // The deletions are ordinary history: a watcher sees three deletes at that one revision.
  auto events = d.store().Events("a", "z", before, before + 1, false, 100);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events.size(), 3u);
  for (const auto& event : events->events) {
    EXPECT_EQ(event.type(), mvccpb::Event::DELETE);
    EXPECT_EQ(event.kv().mod_revision(), before + 1);
  }
}

TEST(StoreLease, RevokingAMissingLeaseFailsWithEtcdsError) {
  StoreDriver d;
  EXPECT_EQ(d.Apply(RevokeReq(7)).status(), LeaseNotFoundError());
}

TEST(StoreLease, TxnPutOnTheTakenBranchChecksTheLease) {
  StoreDriver d;
  etcdserverpb::TxnRequest txn;
  *txn.add_success() = testing::PutOp("k", "v");
  txn.mutable_success(0)->mutable_request_put()->set_lease(9);
  EXPECT_EQ(d.Apply(Wrap(txn)).status(), LeaseNotFoundError());
  ASSERT_TRUE(d.Apply(GrantReq(9, 30)).ok());
  d.Txn(txn);
  EXPECT_THAT(KeysOf(d.store(), 9), ElementsAre("k"));
}

TEST(StoreLease, LeasesListsEveryLeaseInIdOrder) {
  StoreDriver d;
  for (int64_t id : {30, 10, 20}) ASSERT_TRUE(d.Apply(GrantReq(id, id)).ok());
  std::vector<int64_t> ids;
  for (const LeaseState& lease : d.store().Leases()) ids.push_back(lease.id);
  EXPECT_THAT(ids, ElementsAre(10, 20, 30));
}

TEST(StoreLease, SnapshotCarriesLeasesAndTheirKeys) {
  StoreDriver original;
  ASSERT_TRUE(original.Apply(GrantReq(7, 30)).ok());
  ASSERT_TRUE(original.Apply(GrantReq(8, 45)).ok());
  ASSERT_TRUE(original.Apply(Wrap(LeasedPut("a", "1", 7))).ok());
  ASSERT_TRUE(original.Apply(Wrap(LeasedPut("b", "1", 7))).ok());
  original.Delete("b");

  Store restored;
  ASSERT_TRUE(restored.Restore(original.store().Snapshot()).ok());
  EXPECT_THAT(KeysOf(restored, 7), ElementsAre("a"));
  EXPECT_THAT(KeysOf(restored, 8), IsEmpty());
  EXPECT_EQ(restored.FindLease(8, false)->ttl, 45);
  EXPECT_EQ(restored.size_bytes(), original.store().size_bytes());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());

  // The restored store revokes exactly like the original.
  const uint64_t next = original.store().applied_index() + 1;
  auto a = original.store().Apply(RevokeReq(7), next);
  auto b = restored.Apply(RevokeReq(7), next);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
}

// A snapshot in format version 1 (before leases): the current snapshot of a store without
// leases, alarms or sessions, minus its empty lease, alarm and session sections.
std::string VersionOneSnapshot(const Store& store) {
  const std::string current = store.Snapshot();
  std::string payload = current.substr(16, current.size() - 16 - 4);
  // The u64 lease count and u64 alarm count, both 0, the i64 log clock, 0, and the u64 session
  // count, 0.
  payload.resize(payload.size() - 32);
  std::string out = "RKVS";
  auto put = [&out](uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  };
  put(1, 4);
  put(payload.size(), 8);
  out += payload;
  put(base::crc32c::Value(payload), 4);
  return out;
}

TEST(StoreLease, VersionOneSnapshotsStillRestore) {
  StoreDriver original;
  original.Put("a", "1");
  original.Put("b", "2");
  original.Delete("a");
  Store restored;
  ASSERT_TRUE(restored.Restore(VersionOneSnapshot(original.store())).ok());
  EXPECT_EQ(restored.Snapshot(), original.store().Snapshot());
  EXPECT_EQ(restored.lease_count(), 0u);
}

TEST(StoreLease, LeaseCountsInTheStoreSize) {
  StoreDriver d;
  const int64_t before = d.store().size_bytes();
  ASSERT_TRUE(d.Apply(GrantReq(7, 30)).ok());
  EXPECT_GT(d.store().size_bytes(), before);
  ASSERT_TRUE(d.Apply(RevokeReq(7)).ok());
  EXPECT_EQ(d.store().size_bytes(), before);
}

}  // namespace
}  // namespace raftkv::kv
