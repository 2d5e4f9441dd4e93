#include "auth/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace ioc::auth {
namespace {

constexpr int64_t kWindow = 60'000;
constexpr int64_t kT0 = 1'700'000'000'000;

TEST(FailureLimiter, BlocksAfterMaxFailures) {
  FailureLimiter lim(3, kWindow);
  EXPECT_EQ(lim.retryAfterMs("bob", kT0), 0);
  lim.recordFailure("bob", kT0);
  lim.recordFailure("bob", kT0 + 1000);
  EXPECT_EQ(lim.retryAfterMs("bob", kT0 + 2000), 0);
  lim.recordFailure("bob", kT0 + 2000);
  // The window started with the first failure: blocked until kT0 + kWindow.
  EXPECT_EQ(lim.retryAfterMs("bob", kT0 + 2000), kWindow - 2000);
  EXPECT_EQ(lim.retryAfterMs("bob", kT0 + kWindow - 1), 1);
}

TEST(FailureLimiter, UnblocksWhenTheWindowEnds) {
  FailureLimiter lim(2, kWindow);
  lim.recordFailure("k", kT0);
  lim.recordFailure("k", kT0 + 10);
  EXPECT_GT(lim.retryAfterMs("k", kT0 + 10), 0);
  EXPECT_EQ(lim.retryAfterMs("k", kT0 + kWindow), 0);
  // A fresh window: one failure is not enough to block again.
  lim.recordFailure("k", kT0 + kWindow + 5);
  EXPECT_EQ(lim.retryAfterMs("k", kT0 + kWindow + 6), 0);
  lim.recordFailure("k", kT0 + kWindow + 7);
  EXPECT_EQ(lim.retryAfterMs("k", kT0 + kWindow + 7), kWindow - 2);
}

TEST(FailureLimiter, FailuresInAnExpiredWindowDoNotCarryOver) {
  FailureLimiter lim(2, kWindow);
  lim.recordFailure("k", kT0);
  // No retryAfterMs call in between: recordFailure itself must start a new window.
  lim.recordFailure("k", kT0 + kWindow + 1);
  EXPECT_EQ(lim.retryAfterMs("k", kT0 + kWindow + 2), 0);
}

TEST(FailureLimiter, ResetClearsTheKey) {
  FailureLimiter lim(2, kWindow);
  lim.recordFailure("k", kT0);
  lim.recordFailure("k", kT0);
  EXPECT_GT(lim.retryAfterMs("k", kT0), 0);
  lim.reset("k");
  EXPECT_EQ(lim.retryAfterMs("k", kT0), 0);
  lim.recordFailure("k", kT0);
  EXPECT_EQ(lim.retryAfterMs("k", kT0), 0);  // counting starts again from zero
  lim.reset("never-seen");                   // harmless
}

TEST(FailureLimiter, KeysAreIndependent) {
  FailureLimiter lim(1, kWindow);
  lim.recordFailure("alice", kT0);
  EXPECT_GT(lim.retryAfterMs("alice", kT0), 0);
  EXPECT_EQ(lim.retryAfterMs("bob", kT0), 0);
  EXPECT_EQ(lim.retryAfterMs("alice2", kT0), 0);
  lim.reset("bob");
  EXPECT_GT(lim.retryAfterMs("alice", kT0), 0);
}

TEST(FailureLimiter, MemoryIsBoundedByMaxKeys) {
  FailureLimiter lim(1, kWindow, /*max_keys=*/3);
  lim.recordFailure("k1", kT0);
  lim.recordFailure("k2", kT0 + 1);
  lim.recordFailure("k3", kT0 + 2);
  for (const char* k : {"k1", "k2", "k3"}) EXPECT_GT(lim.retryAfterMs(k, kT0 + 3), 0) << k;
  // A fourth key evicts the oldest window (k1); the others stay blocked.
  lim.recordFailure("k4", kT0 + 3);
  EXPECT_EQ(lim.retryAfterMs("k1", kT0 + 4), 0);
  for (const char* k : {"k2", "k3", "k4"}) EXPECT_GT(lim.retryAfterMs(k, kT0 + 4), 0) << k;
}

TEST(FailureLimiter, ExpiredWindowsAreEvictedBeforeLiveOnes) {
  FailureLimiter lim(1, kWindow, /*max_keys=*/2);
  lim.recordFailure("old", kT0);
  lim.recordFailure("live", kT0 + kWindow - 10);
  // At kT0 + kWindow "old" has expired: it makes room, and "live" keeps its block.
  lim.recordFailure("new", kT0 + kWindow);
  EXPECT_GT(lim.retryAfterMs("live", kT0 + kWindow), 0);
  EXPECT_GT(lim.retryAfterMs("new", kT0 + kWindow), 0);
  EXPECT_EQ(lim.retryAfterMs("old", kT0 + kWindow), 0);
}

TEST(FailureLimiter, ExistingKeyAtCapacityEvictsNothing) {
  FailureLimiter lim(2, kWindow, /*max_keys=*/2);
  lim.recordFailure("a", kT0);
  lim.recordFailure("b", kT0 + 1);
  lim.recordFailure("b", kT0 + 2);  // b is already tracked: a must survive
  lim.recordFailure("a", kT0 + 3);
  EXPECT_GT(lim.retryAfterMs("a", kT0 + 4), 0);
  EXPECT_GT(lim.retryAfterMs("b", kT0 + 4), 0);
}

}  // namespace
}  // namespace ioc::auth
