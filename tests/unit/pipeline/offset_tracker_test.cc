// offset_tracker against hand-worked cases and against a brute-force reference model (every
// consumed offset kept, safe() recomputed from scratch) under random completion orders and
// random operation sequences with a fixed seed.
#include "pipeline/offset_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <vector>

namespace cg::pipeline {
namespace {

// The reference: keeps every offset consumed since the last reset and walks them all.
struct model_partition {
  enum st { pending, ok, failed };
  std::vector<std::pair<std::int64_t, st>> entries;  // consume order
  std::int64_t base_safe{-1};
  std::int64_t stuck{-1};
  std::int64_t min_next{0};
  std::int64_t committed{-1};

  // Length of the prefix that is done OK and below the stuck offset.
  [[nodiscard]] std::size_t done_prefix() const {
    std::size_t n = 0;
    while (n < entries.size() && entries[n].second == ok && (stuck < 0 || entries[n].first < stuck)) ++n;
    return n;
  }
  [[nodiscard]] std::int64_t safe() const {
    const std::size_t n = done_prefix();
    return n == 0 ? base_safe : entries[n - 1].first + 1;
  }
  [[nodiscard]] std::size_t in_flight() const { return entries.size() - done_prefix(); }
  [[nodiscard]] std::size_t pending_count() const {
    return static_cast<std::size_t>(
        std::count_if(entries.begin(), entries.end(), [](const auto& e) { return e.second == pending; }));
  }
  [[nodiscard]] std::int64_t oldest() const {
    const std::size_t n = done_prefix();
    return n == entries.size() ? -1 : entries[n].first;
  }
};

struct model {
  std::map<std::int32_t, model_partition> parts;

  bool consumed(std::int32_t p, std::int64_t o) {
    auto it = parts.find(p);
    if (it == parts.end() || o < it->second.min_next) return false;
    it->second.entries.emplace_back(o, model_partition::pending);
    it->second.min_next = o + 1;
    return true;
  }
  bool completed(std::int32_t p, std::int64_t o, bool ok) {
    auto it = parts.find(p);
    if (it == parts.end()) return false;
    auto& mp = it->second;
    // Entries already dropped by the tracker (the done prefix) count as unknown.
    const std::size_t from = mp.done_prefix();
    for (std::size_t i = from; i < mp.entries.size(); ++i) {
      if (mp.entries[i].first != o) continue;
      if (mp.entries[i].second != model_partition::pending) return false;
      mp.entries[i].second = ok ? model_partition::ok : model_partition::failed;
      if (!ok && (mp.stuck < 0 || o < mp.stuck)) mp.stuck = o;
      return true;
    }
    return false;
  }
  std::size_t rewind(std::int32_t p, std::int64_t from) {
    auto it = parts.find(p);
    if (it == parts.end()) return 0;
    auto& mp = it->second;
    const std::size_t n = mp.in_flight();
    mp.entries.clear();
    const std::int64_t at = from < 0 ? -1 : from;
    mp.committed = at;
    mp.base_safe = mp.stuck >= 0 ? std::min(at, mp.stuck) : at;
    mp.min_next = at < 0 ? 0 : at;
    return n;
  }
  [[nodiscard]] std::size_t total() const {
    std::size_t n = 0;
    for (const auto& [id, mp] : parts) n += mp.in_flight();
    return n;
  }
  [[nodiscard]] std::vector<commit_point> to_commit() const {
    std::vector<commit_point> out;
    for (const auto& [id, mp] : parts) {
      if (mp.safe() > mp.committed) out.push_back({id, mp.safe()});
    }
    return out;
  }
};

void expect_same(const offset_tracker& t, const model& m, std::int32_t p) {
  const auto it = m.parts.find(p);
  ASSERT_EQ(t.assigned(p), it != m.parts.end()) << "partition " << p;
  if (it == m.parts.end()) {
    EXPECT_EQ(t.safe(p), -1);
    EXPECT_EQ(t.in_flight(p), 0u);
    return;
  }
  const model_partition& mp = it->second;
  ASSERT_EQ(t.safe(p), mp.safe()) << "partition " << p;
  ASSERT_EQ(t.in_flight(p), mp.in_flight()) << "partition " << p;
  ASSERT_EQ(t.pending(p), mp.pending_count()) << "partition " << p;
  ASSERT_EQ(t.oldest_in_flight(p), mp.oldest()) << "partition " << p;
  ASSERT_EQ(t.stuck_at(p), mp.stuck) << "partition " << p;
  ASSERT_EQ(t.committed(p), mp.committed) << "partition " << p;
}

// Offsets from `first` with random gaps of 0..max_gap missing offsets between them.
std::vector<std::int64_t> offsets_with_gaps(std::mt19937_64& rng, std::size_t n, std::int64_t first, int max_gap) {
  std::uniform_int_distribution<int> gap(0, max_gap);
  std::vector<std::int64_t> out;
  std::int64_t o = first;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(o);
    o += 1 + (gap(rng) == 0 ? gap(rng) : 0);
  }
  return out;
}

TEST(OffsetTracker, NothingCompletedIsMinusOne) {
  offset_tracker t;
  t.assign(0);
  EXPECT_TRUE(t.assigned(0));
  EXPECT_EQ(t.safe(0), -1);
  EXPECT_EQ(t.stuck_at(0), -1);
  EXPECT_EQ(t.oldest_in_flight(0), -1);
  ASSERT_TRUE(t.consumed(0, 100));
  ASSERT_TRUE(t.consumed(0, 101));
  EXPECT_EQ(t.safe(0), -1);
  EXPECT_EQ(t.in_flight(0), 2u);
  EXPECT_EQ(t.oldest_in_flight(0), 100);
  EXPECT_TRUE(t.to_commit().empty());
  EXPECT_TRUE(t.completed(0, 101, true));  // behind a pending one: not safe yet
  EXPECT_EQ(t.safe(0), -1);
  EXPECT_EQ(t.in_flight(0), 2u);
  EXPECT_EQ(t.pending(0), 1u);
}

TEST(OffsetTracker, InOrderCompletionsAdvanceSafe) {
  offset_tracker t;
  t.assign(3);
  for (std::int64_t o = 0; o < 10; ++o) ASSERT_TRUE(t.consumed(3, o));
  for (std::int64_t o = 0; o < 10; ++o) {
    ASSERT_TRUE(t.completed(3, o, true));
    EXPECT_EQ(t.safe(3), o + 1);
    EXPECT_EQ(t.in_flight(3), static_cast<std::size_t>(9 - o));
  }
  EXPECT_EQ(t.in_flight_total(), 0u);
  EXPECT_EQ(t.oldest_in_flight(3), -1);
}

TEST(OffsetTracker, GapsSafeIsOnePastLastDone) {
  offset_tracker t;
  t.assign(0);
  ASSERT_TRUE(t.consumed(0, 5));
  ASSERT_TRUE(t.consumed(0, 8));   // 6 and 7 compacted away
  ASSERT_TRUE(t.consumed(0, 12));  // 9..11 transaction markers
  EXPECT_TRUE(t.completed(0, 5, true));
  EXPECT_EQ(t.safe(0), 6);
  EXPECT_TRUE(t.completed(0, 12, true));
  EXPECT_EQ(t.safe(0), 6);
  EXPECT_EQ(t.oldest_in_flight(0), 8);
  EXPECT_TRUE(t.completed(0, 8, true));
  EXPECT_EQ(t.safe(0), 13);
  EXPECT_EQ(t.in_flight(0), 0u);
}

TEST(OffsetTracker, ShuffledCompletionsMatchBruteForce) {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 5; ++round) {
    offset_tracker t;
    model m;
    t.assign(1);
    m.parts[1];
    const auto offs = offsets_with_gaps(rng, 4000, 1000 * round, 5);
    for (std::int64_t o : offs) {
      ASSERT_TRUE(t.consumed(1, o));
      ASSERT_TRUE(m.consumed(1, o));
    }
    std::vector<std::int64_t> order = offs;
    std::shuffle(order.begin(), order.end(), rng);
    for (std::int64_t o : order) {
      ASSERT_TRUE(t.completed(1, o, true));
      ASSERT_TRUE(m.completed(1, o, true));
      expect_same(t, m, 1);
      ASSERT_EQ(t.in_flight_total(), m.total());
    }
    EXPECT_EQ(t.safe(1), offs.back() + 1);
    EXPECT_EQ(t.in_flight(1), 0u);
  }
}

TEST(OffsetTracker, ConsumeAndCompleteInterleavedWithBoundedWindow) {
  // Streaming: consume while completing a random member of a window of 64 pending offsets;
  // the completed entries in front of the oldest pending one are dropped at once.
  std::mt19937_64 rng(7);
  offset_tracker t;
  model m;
  t.assign(2);
  m.parts[2];
  std::vector<std::int64_t> window;
  std::int64_t next = 0;
  for (int step = 0; step < 20000; ++step) {
    if (window.size() < 64) {
      ASSERT_TRUE(t.consumed(2, next));
      ASSERT_TRUE(m.consumed(2, next));
      window.push_back(next);
      next += 1 + static_cast<std::int64_t>(rng() % 3 == 0);
      continue;
    }
    const std::size_t i = rng() % window.size();
    ASSERT_TRUE(t.completed(2, window[i], true));
    ASSERT_TRUE(m.completed(2, window[i], true));
    window.erase(window.begin() + static_cast<std::ptrdiff_t>(i));
    // Everything before the oldest pending offset is dropped at once.
    ASSERT_EQ(t.pending(2), window.size());
    ASSERT_EQ(t.oldest_in_flight(2), *std::min_element(window.begin(), window.end()));
    if (step % 97 == 0) {
      expect_same(t, m, 2);
      // Keep the model small: drop what both agree is done.
      auto& mp = m.parts[2];
      const std::int64_t s = mp.safe();
      mp.entries.erase(mp.entries.begin(), mp.entries.begin() + static_cast<std::ptrdiff_t>(mp.done_prefix()));
      mp.base_safe = s;
    }
  }
}

TEST(OffsetTracker, FailureInTheMiddleStopsSafeForGood) {
  offset_tracker t;
  t.assign(0);
  for (std::int64_t o = 10; o < 20; ++o) ASSERT_TRUE(t.consumed(0, o));
  EXPECT_TRUE(t.completed(0, 15, false));
  EXPECT_EQ(t.stuck_at(0), 15);
  for (std::int64_t o = 10; o < 20; ++o) {
    if (o != 15) {
      EXPECT_TRUE(t.completed(0, o, true));
    }
  }
  EXPECT_EQ(t.safe(0), 15);  // 10..14 done: commit 15, the failed one is consumed again
  EXPECT_EQ(t.in_flight(0), 5u);
  EXPECT_EQ(t.pending(0), 0u);
  EXPECT_EQ(t.oldest_in_flight(0), 15);
  // More input is accepted (prefetched messages) but never becomes safe.
  ASSERT_TRUE(t.consumed(0, 20));
  EXPECT_TRUE(t.completed(0, 20, true));
  EXPECT_EQ(t.safe(0), 15);
  // A lower failure moves the stuck offset down.
  offset_tracker u;
  u.assign(0);
  for (std::int64_t o = 0; o < 10; ++o) ASSERT_TRUE(u.consumed(0, o));
  EXPECT_TRUE(u.completed(0, 7, false));
  EXPECT_TRUE(u.completed(0, 3, false));
  EXPECT_EQ(u.stuck_at(0), 3);
  EXPECT_TRUE(u.completed(0, 8, false));
  EXPECT_EQ(u.stuck_at(0), 3);
  for (std::int64_t o : {0, 1, 2}) EXPECT_TRUE(u.completed(0, o, true));
  EXPECT_EQ(u.safe(0), 3);
}

TEST(OffsetTracker, FailureAtTheFrontKeepsSafeWhereItWas) {
  offset_tracker t;
  t.assign(0);
  ASSERT_TRUE(t.consumed(0, 0));
  ASSERT_TRUE(t.consumed(0, 1));
  EXPECT_TRUE(t.completed(0, 0, true));
  EXPECT_EQ(t.safe(0), 1);
  EXPECT_TRUE(t.completed(0, 1, false));
  EXPECT_EQ(t.safe(0), 1);
  EXPECT_EQ(t.stuck_at(0), 1);
  EXPECT_FALSE(t.completed(0, 1, true));  // completed once already
}

TEST(OffsetTracker, RevokeReturnsAbandonedAndForgets) {
  offset_tracker t;
  t.assign(0);
  t.assign(1);
  for (std::int64_t o = 0; o < 6; ++o) {
    ASSERT_TRUE(t.consumed(0, o));
    ASSERT_TRUE(t.consumed(1, o));
  }
  EXPECT_TRUE(t.completed(0, 0, true));
  EXPECT_TRUE(t.completed(0, 3, true));  // done but behind 1 and 2: abandoned too
  EXPECT_EQ(t.in_flight_total(), 11u);
  EXPECT_EQ(t.revoke(0), 5u);
  EXPECT_FALSE(t.assigned(0));
  EXPECT_EQ(t.in_flight_total(), 6u);
  EXPECT_EQ(t.safe(0), -1);
  EXPECT_EQ(t.in_flight(0), 0u);
  EXPECT_EQ(t.oldest_in_flight(0), -1);
  EXPECT_FALSE(t.consumed(0, 6));
  EXPECT_FALSE(t.completed(0, 1, true));  // a late completion of a revoked partition
  EXPECT_EQ(t.revoke(0), 0u);
  EXPECT_EQ(t.revoke(42), 0u);
  EXPECT_EQ(t.partitions(), std::vector<std::int32_t>{1});
  EXPECT_EQ(t.revoke(1), 6u);
  EXPECT_EQ(t.in_flight_total(), 0u);
}

TEST(OffsetTracker, ReassignStartsFresh) {
  offset_tracker t;
  t.assign(4);
  for (std::int64_t o = 100; o < 110; ++o) ASSERT_TRUE(t.consumed(4, o));
  EXPECT_TRUE(t.completed(4, 100, true));
  EXPECT_TRUE(t.completed(4, 105, false));
  ASSERT_TRUE(t.mark_committed(4, 101));
  t.assign(4);  // assigned again (e.g. lost and regained): fresh
  EXPECT_EQ(t.in_flight(4), 0u);
  EXPECT_EQ(t.in_flight_total(), 0u);
  EXPECT_EQ(t.safe(4), -1);
  EXPECT_EQ(t.stuck_at(4), -1);
  EXPECT_EQ(t.committed(4), -1);
  ASSERT_TRUE(t.consumed(4, 50));  // lower than before: the new owner's committed position
  EXPECT_TRUE(t.completed(4, 50, true));
  EXPECT_EQ(t.safe(4), 51);
  // Revoked and assigned again, likewise.
  EXPECT_EQ(t.revoke(4), 0u);
  t.assign(4);
  EXPECT_EQ(t.safe(4), -1);
  ASSERT_TRUE(t.consumed(4, 0));
}

TEST(OffsetTracker, RewindDropsInFlightAndRefusesStaleOffsets) {
  offset_tracker t;
  t.assign(0);
  t.assign(1);
  for (std::int64_t o = 0; o < 10; ++o) ASSERT_TRUE(t.consumed(0, o));
  ASSERT_TRUE(t.consumed(1, 0));
  for (std::int64_t o = 0; o < 4; ++o) EXPECT_TRUE(t.completed(0, o, true));
  EXPECT_EQ(t.safe(0), 4);
  EXPECT_EQ(t.rewind(0, 2), 6u);  // the transaction committed 2; 2..9 come again
  EXPECT_EQ(t.in_flight(0), 0u);
  EXPECT_EQ(t.pending(0), 0u);
  EXPECT_EQ(t.in_flight_total(), 1u);  // partition 1 untouched
  EXPECT_EQ(t.safe(0), 2);
  EXPECT_EQ(t.committed(0), 2);
  EXPECT_TRUE(t.to_commit().empty());
  EXPECT_FALSE(t.completed(0, 5, true));  // a worker finishing a dropped message
  // Prefetched before the rewind: stale, refused.
  EXPECT_FALSE(t.consumed(0, 0));
  EXPECT_FALSE(t.consumed(0, 1));
  // Consumed again from 2.
  ASSERT_TRUE(t.consumed(0, 2));
  ASSERT_TRUE(t.consumed(0, 3));
  EXPECT_FALSE(t.consumed(0, 3));
  EXPECT_TRUE(t.completed(0, 2, true));
  EXPECT_EQ(t.safe(0), 3);
  EXPECT_EQ((t.to_commit()), (std::vector<commit_point>{{0, 3}}));
  // Never committed: from = -1, anything is accepted again.
  EXPECT_EQ(t.rewind(0, -1), 1u);
  EXPECT_EQ(t.safe(0), -1);
  EXPECT_EQ(t.committed(0), -1);
  EXPECT_TRUE(t.consumed(0, 0));
  EXPECT_EQ(t.rewind(9, 0), 0u);  // unknown partition
}

TEST(OffsetTracker, RewindKeepsStuckOffset) {
  offset_tracker t;
  t.assign(0);
  for (std::int64_t o = 0; o < 10; ++o) ASSERT_TRUE(t.consumed(0, o));
  EXPECT_TRUE(t.completed(0, 6, false));
  t.rewind(0, 4);
  EXPECT_EQ(t.stuck_at(0), 6);
  for (std::int64_t o = 4; o < 10; ++o) ASSERT_TRUE(t.consumed(0, o));
  for (std::int64_t o = 4; o < 10; ++o) EXPECT_TRUE(t.completed(0, o, true));  // 6 succeeds this time
  EXPECT_EQ(t.safe(0), 6);  // still never at or past the stuck offset
  EXPECT_EQ(t.in_flight(0), 4u);
  // A rewind to past the stuck offset does not make it safe either.
  t.rewind(0, 8);
  EXPECT_EQ(t.safe(0), 6);
  EXPECT_EQ(t.committed(0), 8);
  EXPECT_TRUE(t.to_commit().empty());
}

TEST(OffsetTracker, CommitBookkeeping) {
  offset_tracker t;
  for (std::int32_t p : {2, 0, 1}) t.assign(p);
  for (std::int32_t p : {0, 1, 2}) {
    for (std::int64_t o = 0; o < 5; ++o) ASSERT_TRUE(t.consumed(p, o));
  }
  EXPECT_TRUE(t.completed(2, 0, true));
  EXPECT_TRUE(t.completed(0, 0, true));
  EXPECT_TRUE(t.completed(0, 1, true));
  EXPECT_EQ((t.to_commit()), (std::vector<commit_point>{{0, 2}, {2, 1}}));  // ordered by partition
  EXPECT_TRUE(t.mark_committed(0, 2));
  EXPECT_TRUE(t.mark_committed(2, 1));
  EXPECT_TRUE(t.to_commit().empty());
  EXPECT_TRUE(t.completed(0, 2, true));
  std::vector<commit_point> buf{{9, 9}};
  t.to_commit(buf);
  EXPECT_EQ(buf, (std::vector<commit_point>{{0, 3}}));
  EXPECT_TRUE(t.mark_committed(0, 3));
  // The asynchronous commit of 3 failed: it is listed again.
  EXPECT_TRUE(t.commit_failed(0, 3));
  EXPECT_EQ(t.committed(0), 2);
  EXPECT_EQ((t.to_commit()), (std::vector<commit_point>{{0, 3}}));
  EXPECT_TRUE(t.mark_committed(0, 3));
  // A failure of an older commit, reported after a newer one was queued, changes nothing.
  EXPECT_TRUE(t.completed(0, 3, true));
  EXPECT_TRUE(t.mark_committed(0, 4));
  EXPECT_FALSE(t.commit_failed(0, 3));
  EXPECT_EQ(t.committed(0), 4);
  EXPECT_TRUE(t.to_commit().empty());
  // Marks never go back through mark_committed.
  EXPECT_FALSE(t.mark_committed(0, 1));
  EXPECT_EQ(t.committed(0), 4);
  EXPECT_TRUE(t.mark_committed(0, 4));  // the same again is harmless
  // Unknown partitions.
  EXPECT_FALSE(t.mark_committed(7, 1));
  EXPECT_FALSE(t.commit_failed(7, 1));
  EXPECT_EQ(t.committed(7), -1);
}

TEST(OffsetTracker, MisuseReturnsFalseAndChangesNothing) {
  offset_tracker t;
  EXPECT_FALSE(t.consumed(0, 0));  // not assigned
  EXPECT_FALSE(t.completed(0, 0, true));
  EXPECT_FALSE(t.assigned(0));
  EXPECT_EQ(t.in_flight_total(), 0u);
  t.assign(0);
  EXPECT_FALSE(t.consumed(0, -1));
  EXPECT_FALSE(t.consumed(0, -1001));  // RD_KAFKA_OFFSET_* sentinels
  ASSERT_TRUE(t.consumed(0, 10));
  EXPECT_FALSE(t.consumed(0, 10));  // duplicate
  EXPECT_FALSE(t.consumed(0, 9));   // decreasing
  ASSERT_TRUE(t.consumed(0, 12));
  EXPECT_FALSE(t.completed(0, 11, true));  // never consumed (a gap)
  EXPECT_FALSE(t.completed(0, 13, true));  // past the last
  EXPECT_FALSE(t.completed(0, 5, true));   // before the first
  EXPECT_FALSE(t.completed(1, 10, true));  // other partition
  EXPECT_EQ(t.in_flight(0), 2u);
  EXPECT_EQ(t.pending(0), 2u);
  EXPECT_TRUE(t.completed(0, 12, true));
  EXPECT_FALSE(t.completed(0, 12, true));   // twice
  EXPECT_FALSE(t.completed(0, 12, false));  // twice, as a failure
  EXPECT_EQ(t.stuck_at(0), -1);
  EXPECT_TRUE(t.completed(0, 10, true));
  EXPECT_FALSE(t.completed(0, 10, true));  // already dropped
  EXPECT_EQ(t.safe(0), 13);
  EXPECT_EQ(t.in_flight_total(), 0u);
}

TEST(OffsetTracker, InFlightTotalSumsPartitions) {
  offset_tracker t;
  for (std::int32_t p = 0; p < 8; ++p) {
    t.assign(p);
    for (std::int64_t o = 0; o < p; ++o) ASSERT_TRUE(t.consumed(p, o));
  }
  EXPECT_EQ(t.in_flight_total(), 28u);
  EXPECT_TRUE(t.completed(7, 0, true));
  EXPECT_EQ(t.in_flight_total(), 27u);
  EXPECT_EQ(t.rewind(6, 0), 6u);
  EXPECT_EQ(t.in_flight_total(), 21u);
  t.assign(5);
  EXPECT_EQ(t.in_flight_total(), 16u);
  EXPECT_EQ(t.revoke(4), 4u);
  EXPECT_EQ(t.in_flight_total(), 12u);
}

TEST(OffsetTracker, RingGrowsAcrossWrapAround) {
  // The ring wraps (front dropped, back pushed) and then grows: the order survives.
  offset_tracker t;
  t.assign(0);
  std::int64_t next = 0, first = 0;
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(t.consumed(0, next++));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.completed(0, first++, true));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(t.consumed(0, next++));  // wraps, then doubles twice
  EXPECT_EQ(t.in_flight(0), 102u);
  for (std::int64_t o = next - 1; o >= first; --o) ASSERT_TRUE(t.completed(0, o, true)) << o;
  EXPECT_EQ(t.safe(0), next);
  EXPECT_EQ(t.in_flight(0), 0u);
}

TEST(OffsetTracker, PropertyRandomOperationsMatchModel) {
  std::mt19937_64 rng(0xC0FFEE);
  constexpr std::int32_t n_parts = 4;
  for (int round = 0; round < 200; ++round) {
    offset_tracker t;
    model m;
    std::map<std::int32_t, std::int64_t> next;  // next offset to consume per partition
    for (int step = 0; step < 400; ++step) {
      const auto p = static_cast<std::int32_t>(rng() % n_parts);
      const unsigned op = static_cast<unsigned>(rng() % 100);
      if (op < 3) {  // assign (or re-assign)
        t.assign(p);
        m.parts[p] = model_partition{};
        next[p] = static_cast<std::int64_t>(rng() % 50);
      } else if (op < 5) {  // revoke
        ASSERT_EQ(t.revoke(p), m.parts.count(p) ? m.parts[p].in_flight() : 0u);
        m.parts.erase(p);
      } else if (op < 45) {  // consume, with gaps, sometimes stale or duplicate
        std::int64_t o = next[p];
        if (rng() % 20 == 0) {
          o -= static_cast<std::int64_t>(rng() % 3) + 1;
        } else {
          next[p] = o + 1 + static_cast<std::int64_t>(rng() % 4 == 0 ? rng() % 5 : 0);
        }
        ASSERT_EQ(t.consumed(p, o), m.consumed(p, o)) << "consume " << p << "@" << o;
      } else if (op < 85) {  // complete an in-flight offset (or a bogus one)
        std::int64_t o = static_cast<std::int64_t>(rng() % 200);
        const auto it = m.parts.find(p);
        if (it != m.parts.end() && !it->second.entries.empty() && rng() % 8 != 0) {
          o = it->second.entries[rng() % it->second.entries.size()].first;
        }
        const bool ok = rng() % 50 != 0;
        ASSERT_EQ(t.completed(p, o, ok), m.completed(p, o, ok)) << "complete " << p << "@" << o;
      } else if (op < 93) {  // commit what is listed
        const auto want = m.to_commit();
        ASSERT_EQ(t.to_commit(), want);
        for (const commit_point& c : want) {
          ASSERT_TRUE(t.mark_committed(c.partition, c.offset));
          m.parts[c.partition].committed = c.offset;
        }
      } else if (op < 97) {  // an asynchronous commit failed (maybe an old one)
        const auto it = m.parts.find(p);
        const std::int64_t o = it != m.parts.end() && rng() % 2 ? it->second.committed : 3;
        bool want = false;
        if (it != m.parts.end() && it->second.committed == o && o >= 0) {
          it->second.committed = o - 1;
          want = true;
        }
        ASSERT_EQ(t.commit_failed(p, o), want);
      } else {  // exactly_once abort: rewind to the committed mark
        const auto it = m.parts.find(p);
        const std::int64_t from = it != m.parts.end() ? it->second.committed : 0;
        ASSERT_EQ(t.rewind(p, from), m.rewind(p, from));
        if (it != m.parts.end()) next[p] = std::max<std::int64_t>(from, 0) + static_cast<std::int64_t>(rng() % 2);
      }
      for (std::int32_t q = 0; q < n_parts; ++q) {
        expect_same(t, m, q);
        if (HasFatalFailure()) FAIL() << "round " << round << " step " << step;
      }
      ASSERT_EQ(t.in_flight_total(), m.total());
    }
  }
}

}  // namespace
}  // namespace cg::pipeline
