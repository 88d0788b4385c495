#include <gtest/gtest.h>

#include "metrics/lag.h"

namespace cg::metrics {
namespace {

status_window feed(std::initializer_list<std::pair<std::int64_t, std::int64_t>> samples) {
  status_window w(5);
  for (auto [committed, lag] : samples) w.add(committed, lag);
  return w;
}

TEST(PartitionStatus, NoLagIsOk) {
  EXPECT_EQ(feed({{10, 0}, {10, 0}, {10, 0}, {10, 0}, {10, 0}}).status(), partition_status::ok);
  EXPECT_EQ(feed({{10, 5}, {10, 5}, {10, 5}, {10, 5}, {10, 0}}).status(), partition_status::ok);
}

TEST(PartitionStatus, NotEnoughSamplesIsOk) { EXPECT_EQ(feed({{10, 5}, {10, 5}}).status(), partition_status::ok); }

TEST(PartitionStatus, CommittedStuckWithLagIsStall) {
  EXPECT_EQ(feed({{10, 5}, {10, 6}, {10, 7}, {10, 7}, {10, 9}}).status(), partition_status::stall);
}

TEST(PartitionStatus, NeverCommittedWithLagIsStop) {
  EXPECT_EQ(feed({{-1, 5}, {-1, 6}, {-1, 7}, {-1, 7}, {-1, 9}}).status(), partition_status::stop);
}

TEST(PartitionStatus, MovingButLagAlwaysGrowingIsWarn) {
  EXPECT_EQ(feed({{10, 5}, {20, 8}, {30, 12}, {40, 20}, {50, 30}}).status(), partition_status::warn);
}

TEST(PartitionStatus, MovingWithLagNotAlwaysGrowingIsOk) {
  EXPECT_EQ(feed({{10, 5}, {20, 8}, {30, 7}, {40, 20}, {50, 30}}).status(), partition_status::ok);
}

TEST(PartitionStatus, OnlyTheLastWindowCounts) {
  status_window w(3);
  for (auto [c, l] : std::initializer_list<std::pair<std::int64_t, std::int64_t>>{{1, 9}, {1, 9}, {1, 9}}) w.add(c, l);
  EXPECT_EQ(w.status(), partition_status::stall);
  for (auto [c, l] : std::initializer_list<std::pair<std::int64_t, std::int64_t>>{{5, 4}, {9, 2}, {12, 1}}) w.add(c, l);
  EXPECT_EQ(w.status(), partition_status::ok);
}

}  // namespace
}  // namespace cg::metrics
