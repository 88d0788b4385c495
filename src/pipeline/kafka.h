#pragma once
/// librdkafka boundary helpers: configuration objects from settings, the embedded mock
/// cluster, topic creation through the Admin API, and error classification.
///
/// Errors: start-up helpers throw kafka_error with a message that says what to fix.
#include <librdkafka/rdkafka.h>

struct rd_kafka_mock_cluster_s;

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace cg::pipeline {

struct kafka_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

enum class client_kind { consumer, producer, admin };

/// contactgate's own librdkafka defaults that bound memory (README, "Memory"); the consumer's
/// prefetch is also bounded by queued.max.messages.kbytes = 32768 and queued.min.messages =
/// 300000. Raised to message.max.bytes when a user sets that higher.
inline constexpr long long default_fetch_max_bytes = 8LL << 20;         ///< consumer fetch.max.bytes
inline constexpr long long default_producer_queue_kbytes = 32LL << 10;  ///< producer queue.buffering.max.kbytes

/// A default of one caller's own (a property name and value), set with contactgate's.
using conf_default = std::pair<const char*, const char*>;

/// A librdkafka configuration: contactgate's defaults and the caller's `defaults`, then
/// [kafka.common], then the section of this client kind (a property set there wins over
/// every default). Throws kafka_error naming a property librdkafka refuses.
[[nodiscard]] rd_kafka_conf_t* make_conf(const config::settings& s, const std::string& bootstrap, client_kind kind,
                                         std::initializer_list<conf_default> defaults = {});

/// librdkafka's in-process mock cluster (for the embedded default and fast tests).
/// Lives as long as this object; other processes can connect to bootstrap().
class mock_cluster {
 public:
  explicit mock_cluster(int brokers = 1);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;
  [[nodiscard]] const std::string& bootstrap() const noexcept { return _bootstrap; }
  void create_topic(const std::string& name, int partitions);
  /// Tests: the next `count` requests of Kafka API `api_key` (e.g. 9, OffsetFetch) from any
  /// client get the error `error` (an rd_kafka_resp_err_t) instead of an answer.
  void fail_requests(std::int16_t api_key, std::size_t count, int error);

 private:
  rk_ptr _host;
  ::rd_kafka_mock_cluster_s* _cluster{nullptr};
  std::string _bootstrap;
};

/// Creates topics with the Admin API; existing topics are left as they are. Throws
/// kafka_error on any other failure.
void create_topics(const config::settings& s, const std::string& bootstrap, const std::vector<std::string>& topics,
                   int partitions, int replication, std::vector<std::string>* created = nullptr);

/// The partition ids of `topic`, from a metadata request. False and a message when the
/// topic cannot be read (unknown topic, brokers unreachable within `timeout_ms`).
[[nodiscard]] bool list_partitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms,
                                   std::vector<std::int32_t>& out, std::string& error);

/// Errors after which retrying cannot help: configuration, authentication, authorization.
[[nodiscard]] bool is_fatal(rd_kafka_resp_err_t err) noexcept;

/// The whole decimal number `text` (e.g. a contactgate.source.index header), or `fallback`
/// when it is empty, not a number or out of range. Never throws (used in callbacks).
[[nodiscard]] long long parse_int_or(std::string_view text, long long fallback) noexcept;

/// Milliseconds since the Unix epoch.
[[nodiscard]] std::int64_t now_ms() noexcept;

}  // namespace cg::pipeline
