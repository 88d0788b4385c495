#include "metrics/lag.h"

#include <chrono>

namespace cg::metrics {

lag_probe::lag_probe(const config::settings& s, const std::string& bootstrap, const std::string& group) {
  config::settings probe = s;
  probe.group_id = group;
  rd_kafka_conf_t* conf = pipeline::make_conf(probe, bootstrap, pipeline::client_kind::consumer);
  char err[512];
  rd_kafka_conf_set(conf, "client.id", "contactgate-lag", err, sizeof err);
  rd_kafka_conf_set(conf, "queued.min.messages", "1", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) throw pipeline::kafka_error(std::string("cannot create the lag probe: ") + err);
  _rk.reset(rk);
}

std::int64_t lag_probe::timestamp_at(const std::string& topic, std::int32_t partition, std::int64_t offset,
                                     int timeout_ms) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic.c_str(), partition)->offset = offset;
  rd_kafka_assign(_rk.get(), l);
  rd_kafka_topic_partition_list_destroy(l);
  std::int64_t ts = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(_rk.get(), 100);
    if (m == nullptr) continue;
    const bool mine = !m->err && m->partition == partition && m->offset >= offset;
    if (mine) {
      rd_kafka_timestamp_type_t tt;
      ts = rd_kafka_message_timestamp(m, &tt);
    }
    rd_kafka_message_destroy(m);
    if (mine) break;
  }
  rd_kafka_assign(_rk.get(), nullptr);
  return ts;
}

bool lag_probe::reachable(const std::string& topic, int timeout_ms, std::string& error) {
  std::vector<std::int32_t> parts;
  return pipeline::list_partitions(_rk.get(), topic, timeout_ms, parts, error);
}

bool lag_probe::measure(const std::string& topic, const std::vector<std::int32_t>& only,
                        const std::map<std::int32_t, std::int64_t>& oldest_ts_ms, int timeout_ms,
                        std::vector<partition_lag>& out, std::string& error) {
  out.clear();
  std::vector<std::int32_t> parts = only;
  if (parts.empty() && !pipeline::list_partitions(_rk.get(), topic, timeout_ms, parts, error)) return false;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (auto p : parts) rd_kafka_topic_partition_list_add(l, topic.c_str(), p);
  const rd_kafka_resp_err_t ce = rd_kafka_committed(_rk.get(), l, timeout_ms);
  if (ce) {
    rd_kafka_topic_partition_list_destroy(l);
    error = std::string("committed offsets: ") + rd_kafka_err2str(ce);
    return false;
  }
  const std::int64_t now = pipeline::now_ms();
  for (int i = 0; i < l->cnt; ++i) {
    partition_lag pl;
    pl.partition = l->elems[i].partition;
    pl.committed = l->elems[i].offset >= 0 ? l->elems[i].offset : -1;
    std::int64_t lo = 0, hi = 0;
    const rd_kafka_resp_err_t we =
        rd_kafka_query_watermark_offsets(_rk.get(), topic.c_str(), pl.partition, &lo, &hi, timeout_ms);
    if (we) {
      rd_kafka_topic_partition_list_destroy(l);
      error = std::string("log end offsets: ") + rd_kafka_err2str(we);
      return false;
    }
    pl.log_start = lo;
    pl.log_end = hi;
    const std::int64_t from = pl.committed >= 0 ? std::max(pl.committed, lo) : lo;
    pl.lag = std::max<std::int64_t>(0, hi - from);
    if (pl.lag == 0) {
      pl.time_lag_s = 0;
    } else {
      std::int64_t ts = -1;
      if (auto it = oldest_ts_ms.find(pl.partition); it != oldest_ts_ms.end() && it->second > 0) ts = it->second;
      if (ts < 0) ts = timestamp_at(topic, pl.partition, from, std::min(timeout_ms, 2000));
      pl.time_lag_s = ts > 0 ? static_cast<double>(std::max<std::int64_t>(0, now - ts)) / 1000.0 : -1;
    }
    out.push_back(pl);
  }
  rd_kafka_topic_partition_list_destroy(l);
  return true;
}

const char* to_string(partition_status s) noexcept {
  switch (s) {
    case partition_status::ok: return "OK";
    case partition_status::warn: return "WARN";
    case partition_status::stall: return "STALL";
    case partition_status::stop: return "STOP";
  }
  return "OK";
}

void status_window::add(std::int64_t committed, std::int64_t lag) {
  _samples.emplace_back(committed, lag);
  while (_samples.size() > _size) _samples.pop_front();
}

partition_status status_window::status() const {
  if (_samples.empty()) return partition_status::ok;
  if (_samples.back().second == 0) return partition_status::ok;
  if (_samples.size() < _size) return partition_status::ok;  // not enough evidence yet
  bool lag_all_positive = true, committed_moved = false, lag_grew_always = true, ever_committed = false;
  for (std::size_t i = 0; i < _samples.size(); ++i) {
    lag_all_positive &= _samples[i].second > 0;
    ever_committed |= _samples[i].first >= 0;
    if (i > 0) {
      committed_moved |= _samples[i].first != _samples[i - 1].first;
      lag_grew_always &= _samples[i].second > _samples[i - 1].second;
    }
  }
  if (!lag_all_positive) return partition_status::ok;
  if (!ever_committed) return partition_status::stop;
  if (!committed_moved) return partition_status::stall;
  if (lag_grew_always) return partition_status::warn;
  return partition_status::ok;
}

}  // namespace cg::metrics
