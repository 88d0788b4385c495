#pragma once
/// Partition-affine worker lanes: N lanes, one worker thread each, each fed by its own
/// bounded single-producer / single-consumer ring (boost::lockfree::spsc_queue). Every item
/// submitted under a key (an input partition) goes to the same lane, so each lane handles
/// its keys' items one at a time, in submit order. Replaces worker_pool's round-robin dealing
/// (issue 9, "Partition-affine lanes").
///
/// Key → lane: bind(key) (on assignment) puts the key on the lane with the fewest bound keys;
/// unbind(key) (on revocation) frees its place; a key never bound goes to lane key % N.
/// IMPORTANT: a key must not move while any of its items is queued or being handled: bind it
/// before submitting its first item and unbind it only once its items are all handled (or
/// abandoned after stop()); otherwise its items may be handled out of order, on two lanes.
///
/// Waking: submit() only pushes. publish(), called once per batch by the submitting thread,
/// wakes each lane that received items since the last publish with one release() of that
/// lane's counting semaphore; a worker takes one token, drains its ring until empty (items
/// pushed but not yet published included) and takes the next token, sleeping in the
/// semaphore (a futex) when there is none. So a busy lane costs no syscall, an idle one at
/// most one per publish, and no wake-up is lost: every item pushed before a publish is seen
/// by the drain that follows the token that publish released. Items never published may wait
/// until the next publish (or until submit() finds their lane full, which wakes it).
///
/// Threading: the constructor, bind(), unbind(), lane_of(), submit(), publish(),
/// wait_for_room(), stop() and take_queued() belong to ONE thread (the processor's main
/// thread). Worker thread i calls make_handler(i) once, on itself (per-thread state such as
/// a payload_validator lives there), then the handler for each item of lane i; the handler
/// must not throw. depth() and lane_depth() are approximate metrics, callable from anywhere.
/// Lifetime: stop() (or the destructor) stops the workers after the item each is handling
/// and joins them; items still queued are not handled and stay owned by the caller, who gets
/// them back with take_queued(). The pool outlives its threads; handlers must not outlive
/// what they reference, so stop() before destroying what the handlers use.
/// Errors: submit() returns false when the key's lane is full (back-pressure: stop taking
/// input, publish, wait_for_room()) or after stop(); nothing throws after start() except
/// std::bad_alloc from bind() for keys of 65536 and above.
#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace cg::pipeline {

template <typename T>
class lane_pool {
 public:
  static_assert(std::is_trivially_copyable_v<T>, "items travel by value through lock-free rings");

  /// `n_lanes` lanes (at least 1) of `lane_capacity` items each. No thread starts yet.
  lane_pool(unsigned n_lanes, std::size_t lane_capacity) {
    n_lanes = std::max(1u, n_lanes);
    _lanes.reserve(n_lanes);
    for (unsigned i = 0; i < n_lanes; ++i)
      _lanes.push_back(std::make_unique<lane>(std::max<std::size_t>(1, lane_capacity)));
    _bound_per_lane.assign(n_lanes, 0);
  }
  ~lane_pool() { stop(); }
  lane_pool(const lane_pool&) = delete;
  lane_pool& operator=(const lane_pool&) = delete;

  /// Starts one thread per lane. `make_handler(i)` runs on thread i and returns a callable
  /// taking a T; it is called for every item of lane i, in submit order. Once only.
  template <typename MakeHandler>
  void start(MakeHandler make_handler) {
    if (!_threads.empty() || _stopped) return;
    for (unsigned i = 0; i < lanes(); ++i) {
      _threads.emplace_back([this, i, make_handler] {
        auto handle = make_handler(i);
        lane& l = *_lanes[i];
        T item;
        while (true) {
          l.wake.acquire();  // sleeps until a publish (or stop) gives a token
          if (_stop.load(std::memory_order_acquire)) return;
          while (l.ring.pop(item)) {
            handle(item);
            l.done.fetch_add(1, std::memory_order_relaxed);
            if (_stop.load(std::memory_order_relaxed)) return;
          }
        }
      });
    }
  }

  [[nodiscard]] unsigned lanes() const { return static_cast<unsigned>(_lanes.size()); }

  /// Binds `key` to the lane with the fewest bound keys (the lowest index on a tie) and
  /// returns that lane; a bound key keeps its lane. See IMPORTANT above.
  unsigned bind(std::uint32_t key) {
    if (const int bound = bound_lane(key); bound >= 0) return static_cast<unsigned>(bound);
    const auto least = std::min_element(_bound_per_lane.begin(), _bound_per_lane.end());
    const auto chosen = static_cast<unsigned>(least - _bound_per_lane.begin());
    ++*least;
    if (key < dense_keys) {
      if (_dense.size() <= key) _dense.resize(key + 1, -1);
      _dense[key] = static_cast<std::int32_t>(chosen);
    } else {
      _sparse[key] = chosen;
    }
    return chosen;
  }

  /// Unbinds `key`; it goes to lane key % N again. False when it was not bound.
  bool unbind(std::uint32_t key) {
    const int bound = bound_lane(key);
    if (bound < 0) return false;
    --_bound_per_lane[static_cast<std::size_t>(bound)];
    if (key < dense_keys) {
      _dense[key] = -1;
    } else {
      _sparse.erase(key);
    }
    return true;
  }

  /// The lane `key`'s items go to.
  [[nodiscard]] unsigned lane_of(std::uint32_t key) const {
    const int bound = bound_lane(key);
    return bound >= 0 ? static_cast<unsigned>(bound) : key % lanes();
  }
  /// How many keys are bound to lane `i`.
  [[nodiscard]] std::size_t bound_keys(unsigned i) const { return _bound_per_lane[i]; }

  /// Queues `item` on `key`'s lane without waking it (see publish()). False when that lane is
  /// full (the lane is then woken, so it makes room) or the pool is stopped. Never blocks.
  [[nodiscard]] bool submit(std::uint32_t key, T item) {
    if (_stopped) return false;
    lane& l = *_lanes[lane_of(key)];
    if (!l.ring.push(item)) {
      wake(l);
      return false;
    }
    ++l.unpublished;
    l.pushed.store(l.pushed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
  }

  /// Wakes every lane that received items since the last publish: one semaphore release
  /// each (a syscall only if that worker sleeps). Call once per batch of submits.
  void publish() {
    for (auto& l : _lanes) wake(*l);
  }

  /// After submit() returned false: waits until `key`'s lane has room for one item (true) or
  /// `timeout` passes (false). Publishes that lane first. Polls (the lane frees room within
  /// one item's handling time); for the back-pressure path, not the steady state.
  bool wait_for_room(std::uint32_t key, std::chrono::milliseconds timeout) {
    lane& l = *_lanes[lane_of(key)];
    wake(l);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int spins = 0; l.ring.write_available() == 0; ++spins) {
      if (_stopped || std::chrono::steady_clock::now() >= deadline) return false;
      if (spins < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
    return true;
  }

  /// Items submitted and not yet handled (queued or being handled), over all lanes.
  [[nodiscard]] std::size_t depth() const {
    std::size_t n = 0;
    for (unsigned i = 0; i < lanes(); ++i) n += lane_depth(i);
    return n;
  }
  /// Likewise for lane `i`.
  [[nodiscard]] std::size_t lane_depth(unsigned i) const {
    const lane& l = *_lanes[i];
    const auto pushed = l.pushed.load(std::memory_order_relaxed);
    const auto done = l.done.load(std::memory_order_relaxed);
    return pushed > done ? static_cast<std::size_t>(pushed - done) : 0;
  }

  /// Stops the workers (each after the item it is handling) and joins them. Items still
  /// queued stay queued: take them back with take_queued(). Idempotent.
  void stop() {
    if (_stopped) return;
    _stopped = true;
    _stop.store(true, std::memory_order_release);
    for (auto& l : _lanes) l->wake.release();
    for (auto& t : _threads) {
      if (t.joinable()) t.join();
    }
    _threads.clear();
  }

  /// After stop(): hands each item never handled to `f` (lane by lane, in submit order) and
  /// returns how many there were. Does nothing (0) before stop().
  template <typename F>
  std::size_t take_queued(F f) {
    if (!_stopped) return 0;
    std::size_t n = 0;
    for (auto& l : _lanes) {
      T item;
      while (l->ring.pop(item)) {
        f(item);
        l->done.fetch_add(1, std::memory_order_relaxed);
        ++n;
      }
    }
    return n;
  }

 private:
  static constexpr std::uint32_t dense_keys = 65536;  // partition ids below this: a flat table

  struct lane {
    explicit lane(std::size_t capacity) : ring(capacity) {}
    boost::lockfree::spsc_queue<T> ring;
    std::counting_semaphore<> wake{0};
    // Submitting thread only (pushed is atomic for lane_depth() readers).
    alignas(64) std::size_t unpublished{0};
    std::atomic<std::uint64_t> pushed{0};
    alignas(64) std::atomic<std::uint64_t> done{0};  // the worker
  };

  void wake(lane& l) {
    if (l.unpublished == 0) return;
    l.unpublished = 0;
    l.wake.release();
  }

  [[nodiscard]] int bound_lane(std::uint32_t key) const {
    if (key < dense_keys) return key < _dense.size() ? _dense[key] : -1;
    const auto it = _sparse.find(key);
    return it == _sparse.end() ? -1 : static_cast<int>(it->second);
  }

  std::vector<std::unique_ptr<lane>> _lanes;
  // Submitting thread only.
  std::vector<std::int32_t> _dense;  // key → lane, -1 = unbound
  std::unordered_map<std::uint32_t, unsigned> _sparse;
  std::vector<std::size_t> _bound_per_lane;
  bool _stopped{false};
  std::vector<std::thread> _threads;
  std::atomic<bool> _stop{false};
};

}  // namespace cg::pipeline
