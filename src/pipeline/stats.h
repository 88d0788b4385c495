#pragma once
/// Counters of the running pipeline. Written by the pipeline threads with relaxed atomics,
/// read by anyone (the demo summary, later the metrics endpoint). Lives as long as the
/// processor that writes it.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/reason.h"

namespace cg::pipeline {

/// Fixed-bucket histogram with relaxed atomic counters: observe() is wait-free.
template <std::size_t N>
struct atomic_histogram {
  std::array<double, N> bounds;  ///< upper bounds in seconds, ascending
  std::array<std::atomic<std::uint64_t>, N + 1> counts{};
  std::atomic<std::uint64_t> sum_us{0};

  explicit constexpr atomic_histogram(std::array<double, N> b) : bounds(b) {}
  void observe(double seconds) noexcept {
    std::size_t i = 0;
    while (i < N && seconds > bounds[i]) ++i;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
};

/// What the main thread publishes about one assigned partition, about once a second.
struct partition_snapshot {
  std::int32_t partition{-1};
  std::size_t in_flight{0};
  std::int64_t oldest_in_flight_ts_ms{-1};
  bool stuck{false};  ///< stopped: an output could not be delivered
};

struct stats {
  std::atomic<std::uint64_t> messages_consumed{0};
  std::atomic<std::uint64_t> contacts_accepted{0};
  std::atomic<std::uint64_t> contacts_rejected{0};
  std::atomic<std::uint64_t> payloads_malformed{0};
  std::atomic<std::uint64_t> outputs_delivered{0};
  std::atomic<std::uint64_t> delivery_errors{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> rebalances{0};
  std::atomic<std::uint64_t> messages_committed{0};  ///< input messages whose outputs are all delivered
  std::atomic<std::uint64_t> paused_partitions{0};
  std::atomic<std::uint64_t> internal_errors{0};
  std::array<std::atomic<std::uint64_t>, reason_code_count * detail_count> by_reason{};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> worker_busy_ns{0};
  std::atomic<unsigned> workers{0};
  std::atomic<bool> joined{false};   ///< has received an assignment at least once
  std::atomic<bool> running{false};  ///< connected: topics found, subscribed (exactly_once: transactions ready)
  atomic_histogram<14> validation_seconds{
      {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 1e-1, 1.0}};
  atomic_histogram<14> end_to_end_seconds{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0}};

  void publish_partitions(std::vector<partition_snapshot> p) {
    std::lock_guard lk(_recent_mu);
    _partitions = std::move(p);
  }
  /// INTERNAL_SERVER_ERROR outcomes of the last 24 hours (what Twilio support asks for).
  struct internal_error {
    std::int64_t ts_ms{0};
    std::string correlation_id;  ///< empty when the contact had none
    std::string source;          ///< "topic/partition@offset[index]"
  };
  void remember_internal_error(internal_error e) {
    std::lock_guard lk(_recent_mu);
    _internal.push_back(std::move(e));
    prune_internal(_internal.back().ts_ms);
  }
  [[nodiscard]] std::vector<internal_error> recent_internal_errors(std::int64_t now_ms) const {
    std::lock_guard lk(_recent_mu);
    std::vector<internal_error> v;
    for (const auto& e : _internal) {
      if (e.ts_ms >= now_ms - 86'400'000) v.push_back(e);
    }
    return v;
  }

  [[nodiscard]] std::vector<partition_snapshot> partitions() const {
    std::lock_guard lk(_recent_mu);
    return _partitions;
  }

  void count_reason(reason_code c, detail d) noexcept {
    by_reason[static_cast<std::size_t>(c) * detail_count + static_cast<std::size_t>(d)].fetch_add(
        1, std::memory_order_relaxed);
  }

  /// Calls fn(code, detail, count) for every (code, detail) pair, in enum order.
  template <typename Fn>
  void for_each_reason(Fn&& fn) const {
    for (int c = 0; c < reason_code_count; ++c) {
      for (int d = 0; d < detail_count; ++d) {
        fn(static_cast<reason_code>(c), static_cast<detail>(d),
           by_reason[static_cast<std::size_t>(c * detail_count + d)].load(std::memory_order_relaxed));
      }
    }
  }

  /// A few recent rejections, already masked, for people to look at.
  void remember_rejection(std::string line) {
    std::lock_guard lk(_recent_mu);
    if (_recent.size() >= 20) _recent.erase(_recent.begin());
    _recent.push_back(std::move(line));
  }
  [[nodiscard]] std::vector<std::string> recent_rejections() const {
    std::lock_guard lk(_recent_mu);
    return _recent;
  }

 private:
  mutable std::mutex _recent_mu;  // cold path only: sampled rejections, partition snapshots
  std::vector<std::string> _recent;
  std::vector<partition_snapshot> _partitions;
  std::vector<internal_error> _internal;
  void prune_internal(std::int64_t now_ms) {
    std::size_t drop = 0;
    while (drop < _internal.size() && (_internal[drop].ts_ms < now_ms - 86'400'000 || _internal.size() - drop > 10'000))
      ++drop;
    if (drop) _internal.erase(_internal.begin(), _internal.begin() + static_cast<long>(drop));
  }
};

}  // namespace cg::pipeline
