#pragma once
/// A fixed pool of worker threads, each fed by its own bounded single-producer /
/// single-consumer lock-free ring (boost::lockfree::spsc_queue): the submitting thread
/// (the processor's consumer thread) deals items round-robin to the lanes, skipping full
/// ones; each worker pops only from its own lane. Idle workers sleep on a C++20 counting
/// semaphore instead of spinning.
///
/// Why SPSC lanes: one producer thread exists anyway, and the SPSC ring synchronises with
/// plain acquire/release atomics, which ThreadSanitizer checks exactly; MPMC queues with
/// node recycling (moodycamel's, Boost's lockfree::queue) were tried first and are reported
/// by TSan as racy by design.
///
/// Threading: submit() from ONE thread only. Each worker thread builds its own handler once
/// (so per-thread state such as a payload_validator lives on that thread) and calls it for
/// every item of its lane. Items are processed once each, in no particular global order:
/// callers that need order publish results (a release-store of a flag) and emit them in
/// their own order, as processor does per partition.
/// Lifetime: stop() (or the destructor) joins the threads; items still queued then are not
/// processed and stay owned by the caller. Capacity: the lanes hold `capacity_hint` items
/// in all; when every lane is full, submit() waits (the processor pauses partitions above
/// pipeline.max_in_flight long before that).
#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <vector>

namespace cg::pipeline {

template <typename T>
class worker_pool {
 public:
  static_assert(std::is_trivially_copyable_v<T>, "items travel by value through lock-free rings");

  explicit worker_pool(std::size_t capacity_hint) : _capacity(capacity_hint) {}
  ~worker_pool() { stop(); }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Starts `n` threads. `make_handler(i)` runs on thread i and returns a callable that
  /// takes a T; it is called for every item of lane i.
  template <typename MakeHandler>
  void start(unsigned n, MakeHandler make_handler) {
    const std::size_t per_lane = _capacity / std::max(1u, n) + 64;
    for (unsigned i = 0; i < n; ++i) _lanes.push_back(std::make_unique<lane>(per_lane));
    for (unsigned i = 0; i < n; ++i) {
      _threads.emplace_back([this, i, make_handler] {
        auto handle = make_handler(i);
        lane& l = *_lanes[i];
        T item;
        while (!_stop.load(std::memory_order_acquire)) {
          if (!l.items.try_acquire_for(std::chrono::milliseconds(50))) continue;
          if (!l.ring.pop(item)) continue;  // cannot happen: released after each push
          _taken.fetch_add(1, std::memory_order_relaxed);
          handle(item);
        }
      });
    }
  }

  /// Hands `item` to the next lane with room (call start() first; one thread only).
  void submit(T item) {
    const std::size_t n = _lanes.size();
    while (true) {
      for (std::size_t k = 0; k < n; ++k) {
        lane& l = *_lanes[(_next + k) % n];
        if (l.ring.push(item)) {
          _next = (_next + k + 1) % n;
          _submitted.fetch_add(1, std::memory_order_relaxed);
          l.items.release();
          return;
        }
      }
      std::this_thread::yield();  // every lane full
    }
  }

  /// Approximate number of queued items (a metric, not a synchronisation point).
  [[nodiscard]] std::size_t depth() const {
    const auto d = _submitted.load(std::memory_order_relaxed) - _taken.load(std::memory_order_relaxed);
    return d > 0 ? static_cast<std::size_t>(d) : 0;
  }

  void stop() {
    _stop.store(true, std::memory_order_release);
    for (auto& t : _threads) {
      if (t.joinable()) t.join();
    }
    _threads.clear();
  }

 private:
  struct lane {
    explicit lane(std::size_t capacity) : ring(capacity) {}
    boost::lockfree::spsc_queue<T> ring;
    std::counting_semaphore<> items{0};
  };

  std::size_t _capacity;
  std::vector<std::unique_ptr<lane>> _lanes;
  std::size_t _next{0};  // submitting thread only
  std::vector<std::thread> _threads;
  std::atomic<bool> _stop{false};
  std::atomic<std::int64_t> _submitted{0}, _taken{0};
};

}  // namespace cg::pipeline
