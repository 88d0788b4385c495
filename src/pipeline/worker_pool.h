#pragma once
/// A fixed pool of threads that take items from a lock-free MPMC queue (Boost.Lockfree,
/// nodes preallocated to the capacity hint) and hand each to a per-thread handler. Idle
/// workers sleep on a C++20 counting semaphore instead of spinning. (moodycamel's queue
/// was used first; its fence-based slots are reported by ThreadSanitizer, this is not.)
///
/// Threading: submit() from any thread; each worker thread builds its own handler once
/// (so per-thread state such as a payload_validator lives on that thread) and calls it for
/// every item it dequeues. Items are processed at most once, in no particular order:
/// callers that need order publish results (e.g. with a release-store of a flag) and emit
/// them in their own order, as processor does per partition.
/// Lifetime: stop() (or the destructor) joins the threads; items still queued then are
/// not processed and stay owned by the caller. Capacity is a hint: the caller bounds the
/// number in flight (processor pauses partitions above pipeline.max_in_flight).
#include <boost/lockfree/queue.hpp>

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <chrono>
#include <functional>
#include <semaphore>
#include <thread>
#include <vector>

namespace cg::pipeline {

template <typename T>
class worker_pool {
 public:
  explicit worker_pool(std::size_t capacity_hint) : _queue(capacity_hint) {}
  static_assert(std::is_trivially_copyable_v<T>, "items travel by value through a lock-free queue");
  ~worker_pool() { stop(); }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Starts `n` threads. `make_handler(i)` runs on thread i and returns a callable that
  /// takes a T; it is called for every item that thread dequeues.
  template <typename MakeHandler>
  void start(unsigned n, MakeHandler make_handler) {
    for (unsigned i = 0; i < n; ++i) {
      _threads.emplace_back([this, i, make_handler] {
        auto handle = make_handler(i);
        T item;
        while (!_stop.load(std::memory_order_acquire)) {
          if (!_items.try_acquire_for(std::chrono::milliseconds(50))) continue;
          while (!_queue.pop(item)) std::this_thread::yield();  // released after the push
          _taken.fetch_add(1, std::memory_order_relaxed);
          handle(item);
        }
      });
    }
  }

  void submit(T item) {
    while (!_queue.push(item)) std::this_thread::yield();  // only if a node cannot be allocated
    _depth.fetch_add(1, std::memory_order_relaxed);
    _items.release();
  }

  /// Approximate number of queued items (a metric, not a synchronisation point).
  [[nodiscard]] std::size_t depth() const {
    const auto d = _depth.load(std::memory_order_relaxed) - _taken.load(std::memory_order_relaxed);
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
  boost::lockfree::queue<T> _queue;
  std::counting_semaphore<> _items{0};
  std::atomic<std::int64_t> _depth{0}, _taken{0};
  std::vector<std::thread> _threads;
  std::atomic<bool> _stop{false};
};

}  // namespace cg::pipeline
