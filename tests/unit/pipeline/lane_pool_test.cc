// lane_pool: per-key order, exactly-once handling, key binding, back-pressure, stop, and
// wake-ups (submit does not wake, publish does, none is lost). Run under ThreadSanitizer in
// CI (scripts/test.sh). Deadlines are generous for TSan on 2 shared cores.
#include "pipeline/lane_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace cg::pipeline {
namespace {

using namespace std::chrono_literals;

constexpr auto deadline_after = 60s;

struct rec {
  std::uint32_t key;
  std::uint32_t seq;   // per key, from 0
  std::uint32_t id;    // global, from 0
  std::uint32_t cost;  // busy-loop iterations in the handler
};

// Waits until `pred` holds or the deadline passes; returns pred().
template <typename Pred>
bool eventually(Pred pred, std::chrono::steady_clock::duration d = deadline_after) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(100us);
  }
  return true;
}

void burn(std::uint32_t n) {
  std::atomic<std::uint32_t> sink{0};
  for (std::uint32_t i = 0; i < n; ++i) sink.fetch_add(i, std::memory_order_relaxed);
}

// Per-key and per-item observations made by the workers. A key's slots are written by the
// one lane that owns the key; the test thread reads them after stop() (join) only, except
// the atomic totals.
struct observations {
  explicit observations(std::size_t keys, std::size_t items)
      : next_seq(keys, 0), lane_of_key(keys, -1), times(std::make_unique<std::atomic<int>[]>(items)) {}
  std::vector<std::uint32_t> next_seq;
  std::vector<int> lane_of_key;
  std::unique_ptr<std::atomic<int>[]> times;
  std::atomic<int> out_of_order{0}, wrong_lane{0};
  std::atomic<std::size_t> handled{0};
};

// Submits every item of `items` (publishing every `batch`), waiting for room when a lane is
// full, as the processor will.
void submit_all(lane_pool<rec>& pool, const std::vector<rec>& items, std::size_t batch) {
  std::size_t since_publish = 0;
  for (const rec& r : items) {
    while (!pool.submit(r.key, r)) {
      pool.publish();
      ASSERT_TRUE(pool.wait_for_room(r.key, 30000ms)) << "lane never made room";
    }
    if (++since_publish == batch) {
      pool.publish();
      since_publish = 0;
    }
  }
  pool.publish();
}

std::vector<rec> make_items(std::mt19937& rng, std::size_t n, std::uint32_t keys, std::uint32_t max_cost) {
  std::vector<std::uint32_t> seq(keys, 0);
  std::vector<rec> items;
  for (std::uint32_t id = 0; id < n; ++id) {
    const std::uint32_t k = static_cast<std::uint32_t>(rng() % keys);
    // Mostly cheap, sometimes expensive: lanes fall behind one another.
    const std::uint32_t cost = rng() % 16 == 0 ? static_cast<std::uint32_t>(rng() % max_cost) : 0;
    items.push_back(rec{k, seq[k]++, id, cost});
  }
  return items;
}

TEST(LanePool, PerKeyOrderPreservedAndEveryItemHandledOnce) {
  constexpr std::uint32_t keys = 40;
  constexpr std::size_t n = 30000;
  std::mt19937 rng(9);
  const auto items = make_items(rng, n, keys, 5000);
  observations obs(keys, n);
  lane_pool<rec> pool(3, 64);
  for (std::uint32_t k = 0; k < keys; k += 2) pool.bind(k);  // half bound, half key % 3
  pool.start([&](unsigned lane) {
    return [&obs, lane](rec r) {
      burn(r.cost);
      if (obs.next_seq[r.key] != r.seq) obs.out_of_order.fetch_add(1, std::memory_order_relaxed);
      obs.next_seq[r.key] = r.seq + 1;
      if (obs.lane_of_key[r.key] < 0) obs.lane_of_key[r.key] = static_cast<int>(lane);
      if (obs.lane_of_key[r.key] != static_cast<int>(lane)) obs.wrong_lane.fetch_add(1, std::memory_order_relaxed);
      obs.times[r.id].fetch_add(1, std::memory_order_relaxed);
      obs.handled.fetch_add(1, std::memory_order_release);
    };
  });
  submit_all(pool, items, 100);
  ASSERT_TRUE(eventually([&] { return obs.handled.load(std::memory_order_acquire) == n; }))
      << obs.handled.load() << " of " << n;
  EXPECT_EQ(pool.depth(), 0u);
  pool.stop();
  EXPECT_EQ(obs.out_of_order.load(), 0);
  EXPECT_EQ(obs.wrong_lane.load(), 0);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(obs.times[i].load(), 1) << "item " << i;
  for (std::uint32_t k = 0; k < keys; ++k) {
    if (obs.lane_of_key[k] >= 0) {
      EXPECT_EQ(obs.lane_of_key[k], static_cast<int>(pool.lane_of(k))) << "key " << k;
    }
  }
}

TEST(LanePool, OrderHoldsAcrossUnbindAndRebindOnceDrained) {
  // Revocation then re-assignment: the key moves lane only between drained rounds.
  constexpr std::uint32_t keys = 12;
  std::mt19937 rng(4);
  lane_pool<rec> pool(2, 32);
  std::vector<std::uint32_t> next(keys, 0);
  std::atomic<int> bad{0};
  std::atomic<std::size_t> handled{0};
  pool.start([&](unsigned) {
    return [&](rec r) {
      burn(r.cost);
      if (next[r.key] != r.seq) bad.fetch_add(1);
      next[r.key] = r.seq + 1;
      handled.fetch_add(1, std::memory_order_release);
    };
  });
  std::size_t total = 0;
  std::vector<std::uint32_t> seq(keys, 0);
  for (int round = 0; round < 20; ++round) {
    for (std::uint32_t k = 0; k < keys; ++k) {
      if (rng() % 2) pool.unbind(k);
      if (rng() % 2) pool.bind(k);
    }
    std::vector<rec> items;
    for (int i = 0; i < 500; ++i) {
      const auto k = static_cast<std::uint32_t>(rng() % keys);
      items.push_back(rec{k, seq[k]++, 0, static_cast<std::uint32_t>(rng() % 200)});
    }
    submit_all(pool, items, 50);
    total += items.size();
    ASSERT_TRUE(eventually([&] { return handled.load(std::memory_order_acquire) == total; }));
  }
  pool.stop();
  EXPECT_EQ(bad.load(), 0);
}

TEST(LanePool, BindPicksLeastLoadedLaneAndUnbindFreesIt) {
  lane_pool<int> pool(3, 8);
  EXPECT_EQ(pool.lanes(), 3u);
  // Unbound keys: key % 3.
  EXPECT_EQ(pool.lane_of(0), 0u);
  EXPECT_EQ(pool.lane_of(7), 1u);
  EXPECT_EQ(pool.lane_of(4000000000u), 4000000000u % 3);
  // Keys 10..18 spread evenly, lowest lane first on ties.
  std::vector<unsigned> got;
  for (std::uint32_t k = 10; k < 19; ++k) got.push_back(pool.bind(k));
  EXPECT_EQ(got, (std::vector<unsigned>{0, 1, 2, 0, 1, 2, 0, 1, 2}));
  for (unsigned i = 0; i < 3; ++i) EXPECT_EQ(pool.bound_keys(i), 3u);
  EXPECT_EQ(pool.lane_of(10), 0u);
  EXPECT_EQ(pool.lane_of(11), 1u);  // 11 % 3 would be 2
  EXPECT_EQ(pool.bind(11), 1u);     // already bound: unchanged
  EXPECT_EQ(pool.bound_keys(1), 3u);
  // Revoke two keys of lane 1: the next two assignments go there.
  EXPECT_TRUE(pool.unbind(11));
  EXPECT_TRUE(pool.unbind(14));
  EXPECT_FALSE(pool.unbind(14));
  EXPECT_FALSE(pool.unbind(99));
  EXPECT_EQ(pool.bound_keys(1), 1u);
  EXPECT_EQ(pool.lane_of(11), 2u);  // back to 11 % 3
  EXPECT_EQ(pool.bind(30), 1u);
  EXPECT_EQ(pool.bind(31), 1u);
  EXPECT_EQ(pool.bind(32), 0u);
  // Keys beyond the flat table.
  EXPECT_EQ(pool.bind(1u << 20), 1u);
  EXPECT_EQ(pool.lane_of(1u << 20), 1u);
  EXPECT_TRUE(pool.unbind(1u << 20));
  EXPECT_EQ(pool.lane_of(1u << 20), (1u << 20) % 3);
  // One lane: everything on lane 0; zero lanes means one.
  lane_pool<int> one(0, 8);
  EXPECT_EQ(one.lanes(), 1u);
  EXPECT_EQ(one.bind(5), 0u);
  EXPECT_EQ(one.lane_of(6), 0u);
}

TEST(LanePool, FullLaneSubmitReturnsFalse) {
  // Not started: nothing drains, the ring holds exactly its capacity.
  lane_pool<int> idle(2, 8);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(idle.submit(0, i));
  EXPECT_FALSE(idle.submit(0, 8));
  EXPECT_FALSE(idle.submit(2, 8));  // same lane (2 % 2)
  EXPECT_TRUE(idle.submit(1, 8));   // the other lane has room
  EXPECT_EQ(idle.lane_depth(0), 8u);
  EXPECT_EQ(idle.lane_depth(1), 1u);
  EXPECT_EQ(idle.depth(), 9u);

  // Started, with the worker held inside its first item.
  lane_pool<int> pool(1, 8);
  std::atomic<bool> entered{false}, gate{false};
  std::atomic<int> handled{0};
  pool.start([&](unsigned) {
    return [&](int v) {
      if (v == 0) {
        entered.store(true);
        while (!gate.load()) std::this_thread::sleep_for(100us);
      }
      handled.fetch_add(1);
    };
  });
  ASSERT_TRUE(pool.submit(7, 0));
  pool.publish();
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  for (int i = 1; i <= 8; ++i) ASSERT_TRUE(pool.submit(7, i));
  EXPECT_FALSE(pool.submit(7, 9));
  EXPECT_EQ(pool.lane_depth(0), 9u);          // 8 queued + 1 being handled
  EXPECT_FALSE(pool.wait_for_room(7, 20ms));  // still held
  gate.store(true);
  EXPECT_TRUE(pool.wait_for_room(7, 30000ms));  // submit() woke the lane when it found it full
  EXPECT_TRUE(pool.submit(7, 9));
  pool.publish();
  ASSERT_TRUE(eventually([&] { return handled.load() == 10; }));
  EXPECT_TRUE(eventually([&] { return pool.depth() == 0; }));
  pool.stop();
}

TEST(LanePool, StopLeavesQueuedItemsToTheCaller) {
  lane_pool<int> pool(2, 64);
  std::atomic<bool> entered{false}, gate{false};
  std::vector<std::unique_ptr<std::atomic<int>>> times;
  for (int i = 0; i < 40; ++i) times.push_back(std::make_unique<std::atomic<int>>(0));
  pool.start([&](unsigned) {
    return [&](int v) {
      if (v == 0) {
        entered.store(true);
        while (!gate.load()) std::this_thread::sleep_for(100us);
      }
      times[static_cast<std::size_t>(v)]->fetch_add(1);
    };
  });
  // Lane 0 (even keys) is held by item 0; lane 1 may handle some of its items.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(pool.submit(static_cast<std::uint32_t>(i % 2 == 0 ? 0 : 1), i));
  pool.publish();
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  std::atomic<bool> stopping{false};
  std::thread opener([&] {
    while (!stopping.load()) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(100ms);  // stop() sets its flag first thing
    gate.store(true);
  });
  EXPECT_EQ(pool.take_queued([](int) {}), 0u);  // before stop(): nothing
  stopping.store(true);
  pool.stop();  // waits for item 0's handler, then joins
  opener.join();
  EXPECT_FALSE(pool.submit(0, 99));
  std::vector<int> back;
  const std::size_t n = pool.take_queued([&](int v) { back.push_back(v); });
  EXPECT_EQ(n, back.size());
  EXPECT_GE(back.size(), 19u);  // lane 0's items 2, 4, ... 38 at least
  for (int v : back) times[static_cast<std::size_t>(v)]->fetch_add(1);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(times[static_cast<std::size_t>(i)]->load(), 1) << i;
  // Lane by lane, in submit order.
  for (std::size_t i = 1; i < back.size(); ++i) {
    if (back[i] % 2 == back[i - 1] % 2) {
      EXPECT_LT(back[i - 1], back[i]);
    }
  }
  EXPECT_EQ(pool.depth(), 0u);
  pool.stop();  // idempotent
}

TEST(LanePool, SubmitDoesNotWakePublishDoes) {
  lane_pool<int> pool(1, 16);
  std::atomic<int> handled{0};
  pool.start([&](unsigned) { return [&](int) { handled.fetch_add(1); }; });
  std::this_thread::sleep_for(20ms);  // the worker is asleep, with no token
  ASSERT_TRUE(pool.submit(0, 1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(handled.load(), 0) << "submit() woke the worker";
  pool.publish();
  EXPECT_TRUE(eventually([&] { return handled.load() == 1; }));
  pool.stop();
}

TEST(LanePool, NoLostWakeUpWhenPublishingRarely) {
  // Small bursts, one publish each, with pauses long enough for the workers to fall asleep
  // (and short ones that catch them going to sleep). Every burst must be handled; a lost
  // wake-up would leave one waiting forever.
  lane_pool<int> pool(2, 64);
  std::atomic<int> handled{0};
  pool.start([&](unsigned) { return [&](int) { handled.fetch_add(1, std::memory_order_relaxed); }; });
  std::mt19937 rng(11);
  int submitted = 0;
  for (int burst = 0; burst < 400; ++burst) {
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pool.submit(static_cast<std::uint32_t>(rng() % 4), submitted + i));
    submitted += n;
    pool.publish();
    if (burst % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    ASSERT_TRUE(eventually([&] { return handled.load() == submitted; }, 30s))
        << "burst " << burst << ": " << handled.load() << " of " << submitted;
  }
  pool.stop();
}

TEST(LanePool, HandlersAreMadeOnTheirOwnThreads) {
  const auto main_id = std::this_thread::get_id();
  std::atomic<int> made{0}, on_main{0};
  std::vector<std::atomic<int>> per_lane(3);
  lane_pool<int> pool(3, 16);
  pool.start([&](unsigned lane) {
    made.fetch_add(1);
    if (std::this_thread::get_id() == main_id) on_main.fetch_add(1);
    const auto mine = std::this_thread::get_id();
    return [&, lane, mine](int) {
      if (std::this_thread::get_id() == mine) per_lane[lane].fetch_add(1);
    };
  });
  for (std::uint32_t k = 0; k < 30; ++k) ASSERT_TRUE(pool.submit(k, 0));
  pool.publish();
  ASSERT_TRUE(eventually([&] { return per_lane[0] + per_lane[1] + per_lane[2] == 30; }));
  pool.stop();
  EXPECT_EQ(made.load(), 3);
  EXPECT_EQ(on_main.load(), 0);
  for (auto& c : per_lane) EXPECT_EQ(c.load(), 10);
}

}  // namespace
}  // namespace cg::pipeline
