#include "metrics/monitor.h"

#include <pthread.h>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <sstream>

#include "core/format.h"
#include "pipeline/log.h"

namespace cg::metrics {

namespace pm = prometheus;

monitor::monitor(const config::settings& s, std::string bootstrap, const pipeline::stats& st,
                 const emit::validator_info& info, std::chrono::milliseconds interval)
    : _cfg(s), _bootstrap(std::move(bootstrap)), _st(st), _info(info), _interval(interval) {}

monitor::~monitor() { stop(); }

void monitor::start() {
  _thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "cg-monitor");  // in top -H, perf, /proc/PID/task/*/comm
    loop();
  });
}

void monitor::stop() {
  _stop.store(true);
  if (_thread.joinable()) _thread.join();
}

void monitor::loop() {
  std::unique_ptr<lag_probe> probe;
  while (!_stop.load()) {
    try {
      // The probe is a third client: it connects only once the processor's own clients have
      // (st.running). Until then a wrong password or CA is tried by two clients, not three, and
      // stopping never waits for a probe blocked on an unreachable broker.
      if (!probe && _st.running.load()) probe = std::make_unique<lag_probe>(_cfg, _bootstrap, _cfg.group_id);
      const auto parts = _st.partitions();
      std::vector<std::int32_t> ids;
      std::map<std::int32_t, std::int64_t> oldest;
      for (const auto& p : parts) {
        ids.push_back(p.partition);
        if (p.oldest_in_flight_ts_ms > 0) oldest[p.partition] = p.oldest_in_flight_ts_ms;
      }
      std::vector<partition_lag> lag;
      std::string err;
      // Not connected yet: nothing measured, and Kafka is not counted as unreachable (ready()
      // already says "not connected").
      const bool measured = probe != nullptr;
      const bool ok = measured && (ids.empty() ? probe->reachable(_cfg.input_topic, 3000, err)
                                               : probe->measure(_cfg.input_topic, ids, oldest, 3000, lag, err));
      const std::int64_t now = pipeline::now_ms();
      std::lock_guard lk(_mu);
      if (ok)
        _unreachable_since_ms = 0;
      else if (measured && _unreachable_since_ms == 0)
        _unreachable_since_ms = now;
      if (ok) {
        _lag = lag;
        _lag_error.clear();
        std::map<std::int32_t, status_window> next;
        for (const auto& l : lag) {
          auto it = _status.find(l.partition);
          status_window w = it != _status.end() ? it->second : status_window{};
          w.add(l.committed, l.lag);
          next.emplace(l.partition, w);
        }
        _status = std::move(next);  // partitions no longer assigned are forgotten
      } else if (measured) {
        _lag_error = err;
      }
      sample s;
      s.ts_ms = now;
      s.outcomes = _st.contacts_accepted.load() + _st.contacts_rejected.load() + _st.payloads_malformed.load();
      s.consumed = _st.messages_consumed.load();
      for (const auto& l : _lag) s.lag[l.partition] = l.lag;
      _history.push_back(std::move(s));
      const std::size_t keep =
          static_cast<std::size_t>(std::max<long long>(12, 600'000 / std::max<long long>(1, _interval.count())));
      if (_history.size() > keep)
        _history.erase(_history.begin(), _history.begin() + static_cast<long>(_history.size() - keep));
      const std::uint64_t busy = _st.worker_busy_ns.load();
      if (_last_sample_ms > 0 && now > _last_sample_ms) {
        const double span_ns = static_cast<double>(now - _last_sample_ms) * 1e6 * std::max(1u, _st.workers.load());
        _busy_ratio = std::min(1.0, static_cast<double>(busy - _last_busy_ns) / span_ns);
      }
      _last_busy_ns = busy;
      _last_sample_ms = now;
    } catch (const std::exception& e) {
      std::lock_guard lk(_mu);
      _lag_error = e.what();
      if (_unreachable_since_ms == 0) _unreachable_since_ms = pipeline::now_ms();
    }
    for (auto waited = std::chrono::milliseconds(0); waited < _interval && !_stop.load();
         waited += std::chrono::milliseconds(100)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

bool monitor::ready(std::string& why) const {
  if (!_st.running.load()) {
    why = "not connected: waiting for Kafka, the topics or (exactly_once) transactions";
    return false;
  }
  const auto parts = _st.partitions();
  for (const auto& p : parts) {
    if (p.stuck) {
      why = "partition " + std::to_string(p.partition) + " is stopped: an output could not be delivered";
      return false;
    }
  }
  std::lock_guard lk(_mu);
  if (_unreachable_since_ms != 0 && pipeline::now_ms() - _unreachable_since_ms > unreachable_ready_ms) {
    why = "Kafka has not answered for " + std::to_string((pipeline::now_ms() - _unreachable_since_ms) / 1000) +
          " s: " + _lag_error;
    return false;
  }
  why = parts.empty() ? "ok: connected, no partition assigned (idle)"
                      : "ok: connected, " + std::to_string(parts.size()) + " partition(s) assigned";
  return true;
}

namespace {

pm::MetricFamily family(std::string name, std::string help, pm::MetricType type) {
  pm::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

pm::ClientMetric value_metric(double v, pm::MetricType type, std::vector<pm::ClientMetric::Label> labels = {}) {
  pm::ClientMetric m;
  m.label = std::move(labels);
  if (type == pm::MetricType::Counter)
    m.counter.value = v;
  else
    m.gauge.value = v;
  return m;
}

template <std::size_t N>
pm::ClientMetric histogram_metric(const pipeline::atomic_histogram<N>& h) {
  pm::ClientMetric m;
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cum += h.counts[i].load(std::memory_order_relaxed);
    m.histogram.bucket.push_back({cum, h.bounds[i]});
  }
  cum += h.counts[N].load(std::memory_order_relaxed);
  m.histogram.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cum;
  m.histogram.sample_sum = static_cast<double>(h.sum_us.load(std::memory_order_relaxed)) / 1e6;
  return m;
}

}  // namespace

std::string monitor::prometheus_text() const {
  using T = pm::MetricType;
  std::vector<pm::MetricFamily> fs;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    auto f = family(name, help, T::Counter);
    f.metric.push_back(value_metric(static_cast<double>(v), T::Counter));
    fs.push_back(std::move(f));
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    auto f = family(name, help, T::Gauge);
    f.metric.push_back(value_metric(v, T::Gauge));
    fs.push_back(std::move(f));
  };
  {
    auto f = family("contactgate_build_info", "Versions of contactgate and of the data it judges with", T::Gauge);
    f.metric.push_back(value_metric(1, T::Gauge,
                                    {{"version", _info.version},
                                     {"phone_data", _info.phone_data},
                                     {"country_data", _info.country_data},
                                     {"postal_data", _info.postal_data}}));
    fs.push_back(std::move(f));
  }
  counter("contactgate_messages_consumed_total", "Input messages consumed", _st.messages_consumed.load());
  counter("contactgate_messages_committed_total", "Input messages whose outputs were all delivered",
          _st.messages_committed.load());
  {
    auto f = family("contactgate_contacts_total", "Contacts judged, by outcome", T::Counter);
    f.metric.push_back(
        value_metric(static_cast<double>(_st.contacts_accepted.load()), T::Counter, {{"outcome", "accepted"}}));
    f.metric.push_back(
        value_metric(static_cast<double>(_st.contacts_rejected.load()), T::Counter, {{"outcome", "rejected"}}));
    fs.push_back(std::move(f));
  }
  {
    auto f = family("contactgate_rejections_total", "Failing reasons, by code and detail", T::Counter);
    _st.for_each_reason([&](reason_code c, detail d, std::uint64_t n) {
      // Every valid pair is exported from the start (at 0), so rate() sees the first one.
      if (n == 0 && !detail_belongs_to(c, d)) return;
      f.metric.push_back(value_metric(static_cast<double>(n), T::Counter,
                                      {{"code", std::string(to_string(c))}, {"detail", std::string(to_string(d))}}));
    });
    fs.push_back(std::move(f));
  }
  counter("contactgate_malformed_payloads_total", "Payloads rejected as MALFORMED_PAYLOAD",
          _st.payloads_malformed.load());
  counter("contactgate_internal_errors_total", "Contacts rejected with INTERNAL_SERVER_ERROR",
          _st.internal_errors.load());
  counter("contactgate_delivery_errors_total", "Outputs that could not be delivered", _st.delivery_errors.load());
  counter("contactgate_commits_total", "Offset commits", _st.commits.load());
  counter("contactgate_rebalances_total", "Rebalance callbacks", _st.rebalances.load());
  {
    auto f = family("contactgate_validation_seconds", "Time to validate one input message", T::Histogram);
    f.metric.push_back(histogram_metric(_st.validation_seconds));
    fs.push_back(std::move(f));
    auto g = family("contactgate_end_to_end_seconds", "Input message timestamp to the delivery of its last output",
                    T::Histogram);
    g.metric.push_back(histogram_metric(_st.end_to_end_seconds));
    fs.push_back(std::move(g));
  }
  gauge("contactgate_in_flight_messages", "Consumed, not yet committable", static_cast<double>(_st.in_flight.load()));
  gauge("contactgate_queue_depth", "Jobs waiting for a worker", static_cast<double>(_st.queue_depth.load()));
  gauge("contactgate_paused_partitions", "Partitions paused", static_cast<double>(_st.paused_partitions.load()));
  const auto parts = _st.partitions();
  gauge("contactgate_assigned_partitions", "Partitions assigned to this instance", static_cast<double>(parts.size()));
  std::string why;
  const bool is_ready = ready(why);
  gauge("contactgate_ready", "1 when /readyz answers 200", is_ready ? 1 : 0);
  {
    std::lock_guard lk(_mu);
    gauge("contactgate_worker_busy_ratio", "Share of worker time spent validating", _busy_ratio);
    auto lm = family("contactgate_consumer_lag_messages", "Log end offset minus committed offset", T::Gauge);
    auto ls = family("contactgate_consumer_lag_seconds", "Age of the oldest unprocessed message", T::Gauge);
    auto kl = family("kafka_consumergroup_lag", "Consumer group lag in messages (kafka_exporter name)", T::Gauge);
    auto ps = family("contactgate_partition_status", "Burrow-style partition status (1 = current)", T::Gauge);
    for (const auto& l : _lag) {
      const std::string p = std::to_string(l.partition);
      lm.metric.push_back(
          value_metric(static_cast<double>(l.lag), T::Gauge, {{"topic", _cfg.input_topic}, {"partition", p}}));
      ls.metric.push_back(
          value_metric(std::max(0.0, l.time_lag_s), T::Gauge, {{"topic", _cfg.input_topic}, {"partition", p}}));
      kl.metric.push_back(
          value_metric(static_cast<double>(l.lag), T::Gauge,
                       {{"consumergroup", _cfg.group_id}, {"topic", _cfg.input_topic}, {"partition", p}}));
      auto it = _status.find(l.partition);
      const partition_status cur = it == _status.end() ? partition_status::ok : it->second.status();
      for (auto s : {partition_status::ok, partition_status::warn, partition_status::stall, partition_status::stop}) {
        ps.metric.push_back(value_metric(s == cur ? 1 : 0, T::Gauge,
                                         {{"topic", _cfg.input_topic}, {"partition", p}, {"status", to_string(s)}}));
      }
    }
    fs.push_back(std::move(lm));
    fs.push_back(std::move(ls));
    fs.push_back(std::move(kl));
    fs.push_back(std::move(ps));
  }
  std::ostringstream os;
  pm::TextSerializer().Serialize(os, fs);
  return os.str();
}

namespace {
void append_internal_errors(std::string& j, const std::vector<pipeline::stats::internal_error>& v) {
  j += "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) j += ",";
    j += "{\"ts\":";
    append_json_string(j, emit::iso8601_utc(v[i].ts_ms));
    j += ",\"correlation_id\":";
    if (v[i].correlation_id.empty())
      j += "null";
    else
      append_json_string(j, v[i].correlation_id);
    j += ",\"source\":";
    append_json_string(j, v[i].source);
    j += "}";
  }
  j += "]";
}
}  // namespace

std::string monitor::recent_internal_errors_json() const {
  std::string j = "{\"window_hours\":24,\"internal_errors\":";
  append_internal_errors(j, _st.recent_internal_errors(pipeline::now_ms()));
  j += "}";
  return j;
}

std::string monitor::summary_json() const {
  std::string j = "{\"version\":";
  append_json_string(j, _info.version);
  j += ",\"group\":";
  append_json_string(j, _cfg.group_id);
  j += ",\"topics\":{\"input\":";
  append_json_string(j, _cfg.input_topic);
  j += ",\"accepted\":";
  append_json_string(j, _cfg.accepted_topic);
  j += ",\"rejected\":";
  append_json_string(j, _cfg.rejected_topic);
  j += "},\"totals\":{\"consumed\":";
  append_int(j, static_cast<long long>(_st.messages_consumed.load()));
  j += ",\"accepted\":";
  append_int(j, static_cast<long long>(_st.contacts_accepted.load()));
  j += ",\"rejected\":";
  append_int(j, static_cast<long long>(_st.contacts_rejected.load()));
  j += ",\"malformed\":";
  append_int(j, static_cast<long long>(_st.payloads_malformed.load()));
  j += ",\"internal_errors\":";
  append_int(j, static_cast<long long>(_st.internal_errors.load()));
  j += ",\"delivery_errors\":";
  append_int(j, static_cast<long long>(_st.delivery_errors.load()));
  j += "},\"reasons\":{";
  bool first = true;
  _st.for_each_reason([&](reason_code c, detail d, std::uint64_t n) {
    if (n == 0) return;
    if (!first) j += ",";
    first = false;
    append_json_string(j, std::string(to_string(c)) + "/" + std::string(to_string(d)));
    j += ":";
    append_int(j, static_cast<long long>(n));
  });
  j += "},\"recent_rejections\":[";
  first = true;
  for (const auto& r : _st.recent_rejections()) {
    if (!first) j += ",";
    first = false;
    append_json_string(j, r);
  }
  j += "],\"recent_internal_errors\":";
  {
    auto v = _st.recent_internal_errors(pipeline::now_ms());
    if (v.size() > 20) v.erase(v.begin(), v.end() - 20);
    append_internal_errors(j, v);
  }
  std::string why;
  const bool is_ready = ready(why);
  j += ",\"ready\":";
  j += is_ready ? "true" : "false";
  j += ",\"ready_reason\":";
  append_json_string(j, why);
  std::lock_guard lk(_mu);
  j += ",\"partitions\":[";
  first = true;
  for (const auto& l : _lag) {
    if (!first) j += ",";
    first = false;
    auto it = _status.find(l.partition);
    j += "{\"partition\":";
    append_int(j, l.partition);
    j += ",\"committed\":";
    append_int(j, l.committed);
    j += ",\"log_end\":";
    append_int(j, l.log_end);
    j += ",\"lag\":";
    append_int(j, l.lag);
    // Seconds (millisecond precision), as `contactgate lag --json` prints them; null when the
    // age of the oldest unprocessed message is unknown.
    j += ",\"lag_seconds\":";
    if (l.time_lag_s < 0) {
      j += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", l.time_lag_s);
      j += buf;
    }
    j += ",\"status\":\"";
    j += to_string(it == _status.end() ? partition_status::ok : it->second.status());
    j += "\"}";
  }
  j += "],\"history\":[";
  first = true;
  for (const auto& s : _history) {
    if (!first) j += ",";
    first = false;
    j += "{\"ts\":";
    append_int(j, s.ts_ms);
    j += ",\"outcomes\":";
    append_int(j, static_cast<long long>(s.outcomes));
    j += ",\"consumed\":";
    append_int(j, static_cast<long long>(s.consumed));
    j += ",\"lag\":{";
    bool f2 = true;
    for (const auto& [p, v] : s.lag) {
      if (!f2) j += ",";
      f2 = false;
      j += "\"";
      append_int(j, p);
      j += "\":";
      append_int(j, v);
    }
    j += "}}";
  }
  j += "],\"lag_error\":";
  append_json_string(j, _lag_error);
  j += "}";
  return j;
}

}  // namespace cg::metrics
