#pragma once
/// The operator's view of a running processor: samples lag every 5 s, keeps partition
/// status and a short history, and renders /metrics (Prometheus text, via prometheus-cpp's
/// serializer), /api/summary (JSON for the dashboard page) and readiness.
///
/// Threading: start() runs one sampling thread; the render functions are safe from any
/// thread (they read atomics and a mutex-protected snapshot). Lifetime: borrows the stats
/// and validator_info, which must outlive it; stop() (or the destructor) joins the thread.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "emit/records.h"
#include "metrics/lag.h"
#include "pipeline/stats.h"

namespace cg::metrics {

class monitor {
 public:
  monitor(const config::settings& s, std::string bootstrap, const pipeline::stats& st, const emit::validator_info& info,
          std::chrono::milliseconds interval = std::chrono::seconds(5));
  ~monitor();
  monitor(const monitor&) = delete;
  monitor& operator=(const monitor&) = delete;

  void start();
  void stop();

  [[nodiscard]] std::string prometheus_text() const;
  [[nodiscard]] std::string summary_json() const;
  /// INTERNAL_SERVER_ERROR outcomes of the last 24 h: {"internal_errors":[{ts, correlation_id, source}]}.
  [[nodiscard]] std::string recent_internal_errors_json() const;
  /// Ready = connected and not failed: the processor found its topics and subscribed (with
  /// exactly_once, transactions are initialised), Kafka answered within the last 30 s, and no
  /// partition is stopped by a delivery failure. An instance that owns no partition (more
  /// instances than partitions) is ready; lag STALL/STOP is not a readiness matter (it shows
  /// in /api/summary, the partition status metric and the alerts), so a stall neither hangs a
  /// rollout nor makes every pod unready.
  [[nodiscard]] bool ready(std::string& why) const;
  /// Kafka unanswered for longer than this makes the instance unready.
  static constexpr std::int64_t unreachable_ready_ms = 30'000;

 private:
  struct sample {
    std::int64_t ts_ms{0};
    std::uint64_t outcomes{0};
    std::uint64_t consumed{0};
    std::map<std::int32_t, std::int64_t> lag;
  };

  void loop();
  void sample_once();

  const config::settings& _cfg;
  std::string _bootstrap;
  const pipeline::stats& _st;
  const emit::validator_info& _info;
  std::chrono::milliseconds _interval;

  std::atomic<bool> _stop{false};
  std::thread _thread;

  mutable std::mutex _mu;  // guards everything below
  std::vector<partition_lag> _lag;
  std::map<std::int32_t, status_window> _status;
  std::vector<sample> _history;  // the last 10 minutes
  double _busy_ratio{0};
  std::uint64_t _last_busy_ns{0};
  std::int64_t _last_sample_ms{0};
  std::string _lag_error;
  std::int64_t _unreachable_since_ms{0};  // first failed contact of the current run of failures; 0: answering
};

}  // namespace cg::metrics
