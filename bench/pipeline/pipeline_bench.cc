// Hand-off cost per item from the submitting thread to the workers: worker_pool (round-robin,
// one semaphore release per item) against lane_pool (partition-affine, one publish per 1000
// items), with 1 and 2 worker lanes. The handler only counts, so the figure is the queueing
// and waking cost. Each iteration submits `batch` items (keys = 16 partitions) and waits
// until all are handled. Reports items/s end to end (ns per item = 1e9 / items_per_second)
// and submit_ns: the submitting thread's wall time per item in submit() and publish(),
// i.e. what the hand-off costs the processor's main thread.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "pipeline/lane_pool.h"
#include "pipeline/worker_pool.h"

namespace {

using namespace cg::pipeline;

constexpr std::int64_t batch = 100000;
constexpr std::size_t lane_capacity = 4096;
constexpr std::uint32_t partitions = 16;
constexpr std::int64_t publish_every = 1000;

struct alignas(64) counter {
  std::atomic<std::uint64_t> n{0};
};

std::uint64_t total(const std::array<counter, 2>& c) {
  return c[0].n.load(std::memory_order_acquire) + c[1].n.load(std::memory_order_acquire);
}

void report(benchmark::State& state, std::chrono::steady_clock::duration in_submit) {
  const auto items = state.iterations() * batch;
  state.SetItemsProcessed(items);
  state.counters["submit_ns"] =
      static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(in_submit).count()) /
      static_cast<double>(items);
}

void bm_worker_pool(benchmark::State& state) {
  const auto lanes = static_cast<unsigned>(state.range(0));
  std::array<counter, 2> handled;
  // worker_pool sizes each lane capacity_hint / n + 64: the same room per lane as below.
  worker_pool<std::uint32_t> pool(lane_capacity * lanes - 64 * lanes);
  pool.start(lanes, [&](unsigned i) {
    return [&c = handled[i].n](std::uint32_t) {
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    };
  });
  std::uint64_t submitted = 0;
  std::chrono::steady_clock::duration in_submit{};
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < batch; ++i) pool.submit(static_cast<std::uint32_t>(i));
    in_submit += std::chrono::steady_clock::now() - t0;
    submitted += batch;
    while (total(handled) < submitted) std::this_thread::yield();
  }
  pool.stop();
  report(state, in_submit);
}

void bm_lane_pool(benchmark::State& state) {
  const auto lanes = static_cast<unsigned>(state.range(0));
  std::array<counter, 2> handled;
  lane_pool<std::uint32_t> pool(lanes, lane_capacity);
  for (std::uint32_t p = 0; p < partitions; ++p) pool.bind(p);
  pool.start([&](unsigned i) {
    return [&c = handled[i].n](std::uint32_t) {
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    };
  });
  std::uint64_t submitted = 0;
  std::chrono::steady_clock::duration in_submit{};
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < batch; ++i) {
      const auto key = static_cast<std::uint32_t>(i) % partitions;
      while (!pool.submit(key, static_cast<std::uint32_t>(i))) {
        pool.publish();
        pool.wait_for_room(key, std::chrono::milliseconds(10000));
      }
      if ((i + 1) % publish_every == 0) pool.publish();
    }
    pool.publish();
    in_submit += std::chrono::steady_clock::now() - t0;
    submitted += batch;
    while (total(handled) < submitted) std::this_thread::yield();
  }
  pool.stop();
  report(state, in_submit);
}

BENCHMARK(bm_worker_pool)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_lane_pool)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
