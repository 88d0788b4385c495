#pragma once
/// Operator commands: `contactgate lag` and `contactgate tail rejected`.
#include <cstdint>
#include <string>

#include <librdkafka/rdkafka.h>

#include "app/kafka_cmds.h"

namespace cg::app {

/// Per partition: committed offset, log end offset, lag, time lag. Exit 0; 3 when any
/// partition's lag exceeds `max_lag` (>= 0); 1 when Kafka cannot be read.
[[nodiscard]] int run_lag(const config_sources& src, const std::string& group, long long max_lag, bool json);

/// A point in time for --since/--until: a duration ago ("30s", "15m", "2h", "1d") or epoch
/// milliseconds, as epoch milliseconds; -1 for "", -2 when it is neither.
[[nodiscard]] long long parse_since(const std::string& s);

/// The last value of header `name` of `m`; "" when absent.
[[nodiscard]] std::string header_value(rd_kafka_message_t* m, const char* name);

/// Follows the rejected topic and prints one line per rejection (phone numbers masked).
/// `since`: "", "beginning", a duration ("15m", "2h", "30s") or epoch milliseconds.
/// `reason`: only rejections with this code (or CODE:DETAIL). Stops after `max` (0: never).
[[nodiscard]] int run_tail(const config_sources& src, const std::string& reason, const std::string& since, bool json,
                           std::uint64_t max);

/// Everything Twilio support asks for: versions, the effective configuration (secrets
/// redacted), the INTERNAL_SERVER_ERROR correlation_ids of the last `hours` read back from
/// the rejected topic, and a metrics snapshot from a running instance (`metrics_url`).
[[nodiscard]] int run_support_bundle(const config_sources& src, int hours, const std::string& metrics_url,
                                     const std::string& versions);

}  // namespace cg::app
