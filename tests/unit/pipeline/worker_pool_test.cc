// The worker pool and the processor's hand-off pattern (worker publishes a job with a
// release-store, one thread emits jobs in submission order). Run under ThreadSanitizer in CI.
#include "pipeline/worker_pool.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>

namespace cg::pipeline {
namespace {

struct item {
  int seq{0};
  std::string result;  // written by a worker, read by the emitter after `ready`
  std::atomic<bool> ready{false};
  std::atomic<int> times{0};
};

TEST(WorkerPool, EveryItemProcessedOnceAndEmittedInOrder) {
  constexpr int n = 20000;
  std::vector<std::unique_ptr<item>> items;
  for (int i = 0; i < n; ++i) {
    items.push_back(std::make_unique<item>());
    items.back()->seq = i;
  }
  std::atomic<int> handlers_made{0};
  worker_pool<item*> pool(1024);
  pool.start(4, [&](unsigned idx) {
    handlers_made.fetch_add(1);
    // Per-thread state, as the processor's per-thread validator.
    return [idx, scratch = std::string()](item* it) mutable {
      scratch = "w" + std::to_string(idx) + ":" + std::to_string(it->seq * 2);
      it->result = scratch;
      it->times.fetch_add(1, std::memory_order_relaxed);
      it->ready.store(true, std::memory_order_release);
    };
  });
  // Submit in bursts while emitting in order, like the consumer thread.
  std::deque<item*> in_flight;
  int next_submit = 0, emitted = 0;
  while (emitted < n) {
    while (next_submit < n && in_flight.size() < 500) {
      in_flight.push_back(items[static_cast<std::size_t>(next_submit)].get());
      pool.submit(items[static_cast<std::size_t>(next_submit++)].get());
    }
    while (!in_flight.empty() && in_flight.front()->ready.load(std::memory_order_acquire)) {
      item* it = in_flight.front();
      in_flight.pop_front();
      ASSERT_EQ(it->seq, emitted);
      const std::string suffix = ":" + std::to_string(it->seq * 2);
      ASSERT_EQ(it->result.substr(it->result.size() - suffix.size()), suffix);
      ++emitted;
    }
    std::this_thread::yield();
  }
  pool.stop();
  EXPECT_EQ(handlers_made.load(), 4);
  for (const auto& it : items) EXPECT_EQ(it->times.load(), 1) << it->seq;
}

TEST(WorkerPool, StopJoinsWithItemsStillQueued) {
  worker_pool<int> pool(16);
  std::atomic<int> seen{0};
  pool.start(2, [&](unsigned) {
    return [&](int) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      seen.fetch_add(1);
    };
  });
  for (int i = 0; i < 1000; ++i) pool.submit(i);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_GT(seen.load(), 0) << "workers never started";
  pool.stop();  // returns promptly: queued items are left to the caller
  EXPECT_LT(seen.load(), 1000);
}

}  // namespace
}  // namespace cg::pipeline
