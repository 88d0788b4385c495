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
  std::array<std::atomic<std::uint64_t>, reason_code_count * detail_count> by_reason{};

  void count_reason(reason_code c, detail d) noexcept {
    by_reason[static_cast<std::size_t>(c) * detail_count + static_cast<std::size_t>(d)].fetch_add(
        1, std::memory_order_relaxed);
  }

  /// A few recent rejections, already masked, for people to look at.
  void remember_rejection(std::string line) {
    std::lock_guard lk(_recent_mu);
    if (_recent.size() >= 8) _recent.erase(_recent.begin());
    _recent.push_back(std::move(line));
  }
  [[nodiscard]] std::vector<std::string> recent_rejections() const {
    std::lock_guard lk(_recent_mu);
    return _recent;
  }

 private:
  mutable std::mutex _recent_mu;  // cold path only: sampled rejections
  std::vector<std::string> _recent;
};

}  // namespace cg::pipeline
