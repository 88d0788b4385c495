#include "app/ops_cmds.h"

#include <simdjson.h>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "core/format.h"
#include "emit/mask.h"
#include "emit/records.h"
#include "metrics/lag.h"
#include "pipeline/kafka.h"

#include <map>

namespace cg::app {

namespace {

std::atomic<bool> g_tail_stop{false};
extern "C" void on_tail_signal(int) { g_tail_stop.store(true); }

}  // namespace

// "15m" -> ms; epoch ms as is; -1 when empty; -2 on error.
long long parse_since(const std::string& s) {
  if (s.empty()) return -1;
  char unit = s.back();
  const bool has_unit = unit == 's' || unit == 'm' || unit == 'h' || unit == 'd';
  const std::string num = has_unit ? s.substr(0, s.size() - 1) : s;
  if (num.empty() || num.size() > 15 || num.find_first_not_of("0123456789") != std::string::npos) return -2;
  const long long v = std::stoll(num);
  if (!has_unit) return v;
  const long long mult = unit == 's' ? 1000 : unit == 'm' ? 60'000 : unit == 'h' ? 3'600'000 : 86'400'000;
  return pipeline::now_ms() - v * mult;
}

std::string header_value(rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* hs = nullptr;
  if (rd_kafka_message_headers(m, &hs) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const void* v = nullptr;
  size_t n = 0;
  if (rd_kafka_header_get_last(hs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || v == nullptr) return {};
  return std::string(static_cast<const char*>(v), n);
}

namespace {}  // namespace

int run_lag(const config_sources& src, const std::string& group, long long max_lag, bool json) {
  const config::settings s = load_settings(src);
  if (s.brokers.empty()) {
    std::fprintf(stderr, "contactgate lag: set kafka.brokers (--brokers or CONTACTGATE_KAFKA_BROKERS)\n");
    return 2;
  }
  const std::string g = group.empty() ? s.group_id : group;
  metrics::lag_probe probe(s, s.brokers, g);
  std::vector<metrics::partition_lag> lags;
  std::string err;
  if (!probe.measure(s.input_topic, {}, {}, 10000, lags, err)) {
    std::fprintf(stderr, "contactgate lag: %s\n", err.c_str());
    return 1;
  }
  long long total = 0, worst = 0;
  for (const auto& l : lags) {
    total += l.lag;
    worst = std::max<long long>(worst, l.lag);
  }
  if (json) {
    std::string o = "{\"group\":";
    append_json_string(o, g);
    o += ",\"topic\":";
    append_json_string(o, s.input_topic);
    o += ",\"total_lag\":";
    append_int(o, total);
    o += ",\"partitions\":[";
    for (std::size_t i = 0; i < lags.size(); ++i) {
      const auto& l = lags[i];
      if (i) o += ",";
      o += "{\"partition\":";
      append_int(o, l.partition);
      o += ",\"committed\":";
      if (l.committed >= 0)
        append_int(o, l.committed);
      else
        o += "null";
      o += ",\"log_end\":";
      append_int(o, l.log_end);
      o += ",\"lag\":";
      append_int(o, l.lag);
      o += ",\"lag_seconds\":";
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", l.time_lag_s);
      o += l.time_lag_s < 0 ? "null" : buf;
      o += "}";
    }
    o += "]}\n";
    std::fputs(o.c_str(), stdout);
  } else {
    std::printf("group %s, topic %s\n%-10s %14s %14s %12s %12s\n", g.c_str(), s.input_topic.c_str(), "partition",
                "committed", "log end", "lag", "lag (s)");
    for (const auto& l : lags) {
      char c[24];
      if (l.committed >= 0)
        std::snprintf(c, sizeof c, "%lld", static_cast<long long>(l.committed));
      else
        std::snprintf(c, sizeof c, "-");
      char age[24];  // seconds; "-" when the age of the oldest unprocessed message is unknown
      if (l.time_lag_s >= 0)
        std::snprintf(age, sizeof age, "%.1f", l.time_lag_s);
      else
        std::snprintf(age, sizeof age, "-");
      std::printf("%-10d %14s %14lld %12lld %12s\n", l.partition, c, static_cast<long long>(l.log_end),
                  static_cast<long long>(l.lag), age);
    }
    std::printf("total lag %lld\n", total);
  }
  if (max_lag >= 0 && worst > max_lag) {
    std::fprintf(stderr, "contactgate lag: partition lag %lld is above --max-lag %lld\n", worst, max_lag);
    return 3;
  }
  return 0;
}

int run_tail(const config_sources& src, const std::string& reason, const std::string& since, bool json,
             std::uint64_t max) {
  const config::settings s = load_settings(src);
  if (s.brokers.empty()) {
    std::fprintf(stderr, "contactgate tail: set kafka.brokers (--brokers or CONTACTGATE_KAFKA_BROKERS)\n");
    return 2;
  }
  const long long since_ms = since == "beginning" ? -3 : parse_since(since);
  if (since_ms == -2) {
    std::fprintf(stderr,
                 "contactgate tail: --since '%s': use a duration (30s, 15m, 2h, 1d), epoch ms, or 'beginning'\n",
                 since.c_str());
    return 2;
  }
  std::signal(SIGINT, on_tail_signal);
  std::signal(SIGTERM, on_tail_signal);
  config::settings c = s;
  c.group_id = "contactgate-tail";  // never committed: manual assignment only
  rd_kafka_conf_t* conf = pipeline::make_conf(c, s.brokers, pipeline::client_kind::consumer);
  char err[512];
  rd_kafka_conf_set(conf, "queued.min.messages", "10000", err, sizeof err);
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!raw) {
    std::fprintf(stderr, "contactgate tail: %s\n", err);
    return 1;
  }
  pipeline::rk_ptr rk(raw);
  std::vector<std::int32_t> ids;
  std::string perr;
  if (!pipeline::list_partitions(raw, s.rejected_topic, 10000, ids, perr)) {
    std::fprintf(stderr, "contactgate tail: %s\n", perr.c_str());
    return 1;
  }
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(ids.size()));
  for (const auto id : ids) {
    auto* e = rd_kafka_topic_partition_list_add(l, s.rejected_topic.c_str(), id);
    e->offset = since_ms == -3 ? RD_KAFKA_OFFSET_BEGINNING : since_ms >= 0 ? since_ms : RD_KAFKA_OFFSET_END;
  }
  if (since_ms >= 0) {
    if (rd_kafka_resp_err_t oe = rd_kafka_offsets_for_times(raw, l, 10000)) {
      std::fprintf(stderr, "contactgate tail: offsets for --since: %s\n", rd_kafka_err2str(oe));
      rd_kafka_topic_partition_list_destroy(l);
      return 1;
    }
    for (int i = 0; i < l->cnt; ++i) {
      if (l->elems[i].offset < 0) l->elems[i].offset = RD_KAFKA_OFFSET_END;
    }
  }
  rd_kafka_assign(raw, l);
  rd_kafka_topic_partition_list_destroy(l);
  std::uint64_t shown = 0;
  simdjson::dom::parser parser;
  while (!g_tail_stop.load() && (max == 0 || shown < max)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(raw, 200);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        std::fprintf(stderr, "contactgate tail: %s\n", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      continue;
    }
    const std::string reasons = header_value(m, "contactgate.error.reasons");
    if (!reason.empty()) {
      const bool match = reasons.find(reason) != std::string::npos;
      if (!match) {
        rd_kafka_message_destroy(m);
        continue;
      }
    }
    const std::string_view value(static_cast<const char*>(m->payload), m->len);
    if (json) {
      std::printf("%s\n", emit::mask_rejection_json(value).c_str());
    } else {
      rd_kafka_timestamp_type_t tt;
      const std::int64_t ts = rd_kafka_message_timestamp(m, &tt);
      std::string line = emit::iso8601_utc(ts);
      simdjson::dom::element doc;
      if (parser.parse(value.data(), value.size()).get(doc) == simdjson::SUCCESS) {
        std::string_view cid = "-", contact, topic;
        int64_t part = -1, off = -1, idx = -1;
        if (doc["correlation_id"].get_string().get(cid)) {
        }
        if (doc["record"]["contact_id"].get_string().get(contact)) {
        }
        if (doc["source"]["topic"].get_string().get(topic)) {
        }
        if (doc["source"]["partition"].get_int64().get(part)) {
        }
        if (doc["source"]["offset"].get_int64().get(off)) {
        }
        if (doc["source"]["index"].get_int64().get(idx)) {
        }
        line += " " + std::string(topic) + "/" + std::to_string(part) + "@" + std::to_string(off);
        if (idx >= 0) line += "[" + std::to_string(idx) + "]";
        line += " correlation_id=" + std::string(cid);
        if (!contact.empty()) line += " contact_id=" + mask_phone(contact);
      }
      line += " " + reasons;
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
    ++shown;
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(raw);
  return 0;
}

namespace {

// GET http://host:port/path with Boost.Beast; false and a message when unreachable.
bool http_get(const std::string& url, std::string& body, std::string& error) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    error = "only http:// URLs";
    return false;
  }
  const std::string rest = url.substr(prefix.size());
  const auto slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash), path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = hostport.rfind(':');
  const std::string host = hostport.substr(0, colon),
                    port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, path, 11};
    req.set(http::field::host, host);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return res.result_int() == 200;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace

int run_support_bundle(const config_sources& src, int hours, const std::string& metrics_url,
                       const std::string& versions) {
  const config::settings s = load_settings(src);
  std::printf(
      "# contactgate support bundle, %s\n\n## Versions\n%s\n## Effective configuration (secrets redacted)\n%s\n",
      emit::iso8601_utc(pipeline::now_ms()).c_str(), versions.c_str(), config::to_toml(s).c_str());
  std::printf("## INTERNAL_SERVER_ERROR outcomes, last %d h (correlation_id, time, source)\n", hours);
  int rc = 0;
  if (s.brokers.empty()) {
    std::printf("(no kafka.brokers configured: cannot read %s)\n", s.rejected_topic.c_str());
    rc = 1;
  } else {
    config::settings c = s;
    c.group_id = "contactgate-support";  // manual assignment, never committed
    rd_kafka_conf_t* conf = pipeline::make_conf(c, s.brokers, pipeline::client_kind::consumer);
    char err[512];
    rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!raw) throw pipeline::kafka_error(err);
    pipeline::rk_ptr rk(raw);
    std::vector<std::int32_t> ids;
    std::string perr;
    if (!pipeline::list_partitions(raw, s.rejected_topic, 10000, ids, perr)) {
      std::printf("(%s)\n", perr.c_str());
      rc = 1;
    } else {
      const std::int64_t since = pipeline::now_ms() - static_cast<std::int64_t>(hours) * 3'600'000;
      rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(ids.size()));
      std::map<std::int32_t, std::int64_t> end;
      for (const auto p : ids) {
        rd_kafka_topic_partition_list_add(l, s.rejected_topic.c_str(), p)->offset = since;
        std::int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(raw, s.rejected_topic.c_str(), p, &lo, &hi, 10000) == 0) end[p] = hi;
      }
      const rd_kafka_resp_err_t oe = rd_kafka_offsets_for_times(raw, l, 10000);
      std::size_t found = 0;
      if (oe) {
        std::printf("(offsets for the last %d h: %s)\n", hours, rd_kafka_err2str(oe));
        rc = 1;
      } else {
        std::map<std::int32_t, bool> done;
        for (int i = 0; i < l->cnt; ++i) {
          const auto p = l->elems[i].partition;
          if (l->elems[i].offset < 0 || l->elems[i].offset >= end[p]) done[p] = true;
          if (l->elems[i].offset < 0) l->elems[i].offset = RD_KAFKA_OFFSET_END;
        }
        rd_kafka_assign(raw, l);
        simdjson::dom::parser parser;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (done.size() < end.size() && std::chrono::steady_clock::now() < deadline) {
          rd_kafka_message_t* m = rd_kafka_consumer_poll(raw, 200);
          if (!m) continue;
          if (!m->err) {
            if (header_value(m, "contactgate.error.reasons").find("INTERNAL_SERVER_ERROR") != std::string::npos) {
              simdjson::dom::element doc;
              std::string_view cid = "(none)", stopic;
              int64_t part = -1, off = -1, idx = -1;
              if (parser.parse(static_cast<const char*>(m->payload), m->len).get(doc) == simdjson::SUCCESS) {
                if (doc["correlation_id"].get_string().get(cid)) {
                }
                if (doc["source"]["topic"].get_string().get(stopic)) {
                }
                if (doc["source"]["partition"].get_int64().get(part)) {
                }
                if (doc["source"]["offset"].get_int64().get(off)) {
                }
                if (doc["source"]["index"].get_int64().get(idx)) {
                }
              }
              rd_kafka_timestamp_type_t tt;
              std::printf("%s %s %s/%lld@%lld%s\n", std::string(cid).c_str(),
                          emit::iso8601_utc(rd_kafka_message_timestamp(m, &tt)).c_str(), std::string(stopic).c_str(),
                          static_cast<long long>(part), static_cast<long long>(off),
                          idx >= 0 ? ("[" + std::to_string(idx) + "]").c_str() : "");
              ++found;
            }
            if (m->offset + 1 >= end[m->partition]) done[m->partition] = true;
          }
          rd_kafka_message_destroy(m);
        }
        std::printf("(%zu found)\n", found);
      }
      rd_kafka_topic_partition_list_destroy(l);
      rd_kafka_consumer_close(raw);
    }
  }
  std::printf("\n## Metrics snapshot (%s)\n", metrics_url.c_str());
  std::string body, error;
  if (http_get(metrics_url, body, error)) {
    std::fputs(body.c_str(), stdout);
  } else {
    std::printf("(not reachable: %s)\n", error.empty() ? "HTTP error" : error.c_str());
  }
  return rc;
}

}  // namespace cg::app
