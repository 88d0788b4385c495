#pragma once
/// Consumer lag of a consumer group, measured the way lag dashboards do: log end offset
/// minus the group's committed offset, per partition, plus the age of the oldest
/// unprocessed message. Also the Burrow-style partition status.
///
/// Threading: a lag_probe owns a librdkafka handle (with the group's id, never joining the
/// group) and is used by one thread at a time. Errors: measure() returns false and a message
/// when Kafka does not answer; construction throws on bad configuration.
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/kafka.h"

namespace cg::metrics {

struct partition_lag {
  std::int32_t partition{-1};
  std::int64_t committed{-1};  ///< -1: the group has no committed offset
  std::int64_t log_start{0};
  std::int64_t log_end{0};
  std::int64_t lag{0};
  double time_lag_s{0};  ///< age of the oldest unprocessed message; 0 when lag is 0; -1 unknown
};

class lag_probe {
 public:
  lag_probe(const config::settings& s, const std::string& bootstrap, const std::string& group);

  /// Measures `topic` (all partitions, or only `only` when not empty). `oldest_ts_ms` may
  /// give, per partition, the timestamp of the oldest message known to be in flight;
  /// otherwise the message at the committed offset is read to learn its timestamp.
  /// Whether Kafka answers a metadata request for `topic` (how an idle instance, owning no
  /// partition, knows it is still connected).
  [[nodiscard]] bool reachable(const std::string& topic, int timeout_ms, std::string& error);

  [[nodiscard]] bool measure(const std::string& topic, const std::vector<std::int32_t>& only,
                             const std::map<std::int32_t, std::int64_t>& oldest_ts_ms, int timeout_ms,
                             std::vector<partition_lag>& out, std::string& error);

 private:
  std::int64_t timestamp_at(const std::string& topic, std::int32_t partition, std::int64_t offset, int timeout_ms);
  pipeline::rk_ptr _rk;
};

enum class partition_status { ok, warn, stall, stop };
[[nodiscard]] const char* to_string(partition_status s) noexcept;

/// Burrow-style evaluation over a sliding window of lag samples of one partition.
class status_window {
 public:
  explicit status_window(std::size_t size = 10) : _size(size) {}
  void add(std::int64_t committed, std::int64_t lag);
  [[nodiscard]] partition_status status() const;

 private:
  std::size_t _size;
  std::deque<std::pair<std::int64_t, std::int64_t>> _samples;  // (committed, lag)
};

}  // namespace cg::metrics
