#include "pipeline/kafka.h"

#include <librdkafka/rdkafka_mock.h>

#include <charconv>
#include <chrono>

#include "pipeline/log.h"

namespace cg::pipeline {

namespace {

void set(rd_kafka_conf_t* conf, const std::string& k, const std::string& v, const char* section) {
  char err[512];
  if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw kafka_error(std::string("kafka ") + section + " property '" + k + "': " + err);
  }
}

// librdkafka's own log lines go through our JSON logger (levels mapped from syslog).
void on_rdkafka_log(const rd_kafka_t*, int syslog_level, const char* fac, const char* buf) noexcept {
  const level lv = syslog_level <= 3   ? level::error
                   : syslog_level == 4 ? level::warn
                   : syslog_level <= 6 ? level::info
                                       : level::debug;
  try {  // called from librdkafka's threads (C): nothing may be thrown through it
    log(lv, std::string("librdkafka ") + fac + ": " + buf);
  } catch (...) {
  }
}

bool user_sets(const config::settings& s, client_kind kind, const std::string& key) {
  if (s.kafka_common.count(key)) return true;
  if (kind == client_kind::consumer) return s.kafka_consumer.count(key) > 0;
  if (kind == client_kind::producer) return s.kafka_producer.count(key) > 0;
  return false;
}

long long conf_int(rd_kafka_conf_t* conf, const char* key) {
  char buf[64];
  size_t n = sizeof buf;
  if (rd_kafka_conf_get(conf, key, buf, &n) != RD_KAFKA_CONF_OK) return -1;
  return parse_int_or(buf, -1);
}

}  // namespace

long long parse_int_or(std::string_view text, long long fallback) noexcept {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() ? v : fallback;
}

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rd_kafka_conf_t* make_conf(const config::settings& s, const std::string& bootstrap, client_kind kind,
                           std::initializer_list<conf_default> defaults) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, &on_rdkafka_log);
  set(conf, "bootstrap.servers", bootstrap, "default");
  set(conf, "client.id", "contactgate", "default");
  if (kind == client_kind::consumer) {
    set(conf, "group.id", s.group_id, "default");
    set(conf, "enable.auto.commit", "false", "default");
    set(conf, "enable.auto.offset.store", "false", "default");
    set(conf, "auto.offset.reset", "earliest", "default");
    set(conf, "partition.assignment.strategy", "cooperative-sticky", "default");
    // The prefetch queue, bounded in bytes and in messages (README, "Memory"). librdkafka
    // 2.0.2 stops fetching when its local queue reaches either bound and only looks again at
    // its broker thread's next wake-up, up to 1 s later (issue #2879, fixed upstream by
    // fetch.queue.backoff.ms, which 2.0.2 lacks): the queue must hold about a second of
    // consumption, or throughput drops to (queue size per second). 100,000 messages (the
    // default) capped the consumer at ~200k msgs/s; with 150-byte payloads 32 MiB holds
    // ~220k messages (bench/README.md: validate lost nothing against 64 MiB at ~214k
    // records/s, the bare pass-through ~17%; 16 MiB lost 32% of the validate rate, 8 MiB
    // capped the pass-through at 111k msgs/s). The bytes count payloads only;
    // librdkafka adds ~300 bytes per message, so the message bound also caps memory for
    // tiny payloads, and it is above what 32 MiB holds of ~150-byte payloads.
    set(conf, "queued.min.messages", "300000", "default");
    set(conf, "queued.max.messages.kbytes", "32768", "default");
    // The queue is checked before a fetch, so one fetch response can overshoot it: at most
    // max.partition.fetch.bytes (1 MiB, librdkafka's default) per partition and fetch.max.bytes
    // (librdkafka: 50 MiB) in all. At least message.max.bytes (raised below when set higher).
    set(conf, "fetch.max.bytes", std::to_string(default_fetch_max_bytes), "default");
    set(conf, "enable.partition.eof", "false", "default");
    // Recovery in seconds: a member that dies for good is noticed after session.timeout.ms
    // (librdkafka's default, 45000, kept partitions idle for 45 s), and members learn of a
    // rebalance at their next heartbeat. Not the broker's minimum (6000): librdkafka 2.0.2
    // fences its own static member when the coordinator is unreachable for longer than the
    // session (librdkafka issue #3437), and a broker restart takes 4-7 s.
    set(conf, "session.timeout.ms", "10000", "default");
    set(conf, "heartbeat.interval.ms", "1000", "default");
  } else if (kind == client_kind::producer) {
    set(conf, "enable.idempotence", "true", "default");
    set(conf, "acks", "all", "default");
    set(conf, "linger.ms", "5", "default");
    set(conf, "batch.num.messages", "10000", "default");
    set(conf, "compression.type", "lz4", "default");
    // The Java client's partitioner (murmur2 of the key): an output lands on the partition a
    // Java producer would choose for its key. librdkafka's default (CRC32 of the key, zlib's)
    // cost 4% of the producing thread.
    set(conf, "partitioner", "murmur2_random", "default");
    // librdkafka's producer queue defaults to 1 GiB / 100,000 messages. Outputs wait here
    // only until delivered, and only those of in-flight inputs (pipeline.max_in_flight,
    // max_in_flight_bytes), so 32 MiB is never reached in normal operation: it is the
    // backstop. produce() returning QUEUE_FULL is back-pressure (poll, then again).
    set(conf, "queue.buffering.max.kbytes", std::to_string(default_producer_queue_kbytes), "default");
    set(conf, "queue.buffering.max.messages", "100000", "default");
  }
  for (const auto& [k, v] : defaults) set(conf, k, v, "default");
  for (const auto& [k, v] : s.kafka_common) set(conf, k, v, "[kafka.common]");
  if (kind == client_kind::consumer) {
    for (const auto& [k, v] : s.kafka_consumer) set(conf, k, v, "[kafka.consumer]");
  } else if (kind == client_kind::producer) {
    for (const auto& [k, v] : s.kafka_producer) set(conf, k, v, "[kafka.producer]");
  }
  // A user's message.max.bytes above contactgate's defaults raises them, unless set too: a
  // fetch must be able to hold the largest message (librdkafka refuses the configuration
  // otherwise), and a message larger than the producer queue could never be queued.
  const long long max_message = conf_int(conf, "message.max.bytes");
  if (kind == client_kind::consumer && !user_sets(s, kind, "fetch.max.bytes") &&
      max_message > default_fetch_max_bytes) {
    set(conf, "fetch.max.bytes", std::to_string(max_message), "default");
  }
  if (kind == client_kind::producer && !user_sets(s, kind, "queue.buffering.max.kbytes") &&
      max_message > 1024LL * default_producer_queue_kbytes) {
    set(conf, "queue.buffering.max.kbytes", std::to_string(max_message / 1024 + 1), "default");
  }
  return conf;
}

mock_cluster::mock_cluster(int brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) throw kafka_error(std::string("cannot start the embedded cluster: ") + err);
  _host.reset(rk);
  _cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (_cluster == nullptr) throw kafka_error("cannot start librdkafka's mock cluster");
  _bootstrap = rd_kafka_mock_cluster_bootstraps(_cluster);
}

mock_cluster::~mock_cluster() {
  if (_cluster) rd_kafka_mock_cluster_destroy(_cluster);
}

void mock_cluster::create_topic(const std::string& name, int partitions) {
  const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(_cluster, name.c_str(), partitions, 1);
  if (e) throw kafka_error("mock cluster: cannot create topic " + name + ": " + rd_kafka_err2str(e));
}

void mock_cluster::fail_requests(std::int16_t api_key, std::size_t count, int error) {
  const std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(_cluster, api_key, errors.size(), errors.data());
}

void create_topics(const config::settings& s, const std::string& bootstrap, const std::vector<std::string>& topics,
                   int partitions, int replication, std::vector<std::string>* created) {
  char err[512];
  rd_kafka_conf_t* conf = make_conf(s, bootstrap, client_kind::admin);
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (raw == nullptr) throw kafka_error(std::string("cannot create admin client: ") + err);
  rk_ptr rk(raw);
  std::vector<rd_kafka_NewTopic_t*> nts;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.c_str(), partitions, replication, err, sizeof err);
    if (nt == nullptr) throw kafka_error("topic " + t + ": " + err);
    nts.push_back(nt);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(opts, 30000, err, sizeof err);
  rd_kafka_CreateTopics(rk.get(), nts.data(), nts.size(), opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 60000);
  std::string failure;
  if (ev == nullptr) {
    failure = "timed out waiting for the brokers at " + bootstrap;
  } else if (rd_kafka_event_error(ev)) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** trs = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(trs[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (created) created->push_back(rd_kafka_topic_result_name(trs[i]));
      } else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        failure += std::string(failure.empty() ? "" : "; ") + rd_kafka_topic_result_name(trs[i]) + ": " +
                   (rd_kafka_topic_result_error_string(trs[i]) ? rd_kafka_topic_result_error_string(trs[i])
                                                               : rd_kafka_err2str(e));
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
  if (!failure.empty()) throw kafka_error("creating topics failed: " + failure);
}

bool list_partitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms, std::vector<std::int32_t>& out,
                     std::string& error) {
  out.clear();
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  if (e) {
    error = "cannot read topic " + topic + ": " + rd_kafka_err2str(e);
    return false;
  }
  if (md->topic_cnt != 1 || md->topics[0].err) {
    error = "cannot read topic " + topic + ": " +
            (md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : std::string("not found"));
    rd_kafka_metadata_destroy(md);
    return false;
  }
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) out.push_back(md->topics[0].partitions[i].id);
  rd_kafka_metadata_destroy(md);
  return true;
}

bool is_fatal(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR__INVALID_ARG: return true;
    default: return false;
  }
}

}  // namespace cg::pipeline
