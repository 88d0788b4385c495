#pragma once
/// contactgate's configuration: defaults, then a TOML file, then CONTACTGATE_* environment
/// variables, then command-line flags (each later source overrides the earlier ones).
///
/// Built once at start on the main thread; read-only afterwards (safe to share).
/// Errors: load() throws config_error with a message naming the key and the source;
/// unknown keys and bad values are errors, never ignored.
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/limits.h"

namespace cg::config {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class guarantee { at_least_once, exactly_once };

struct settings {
  // [kafka]
  std::string brokers;  ///< empty: start librdkafka's in-process mock cluster
  std::string group_id{"contactgate"};
  /// Static group membership (KIP-345): the consumer joins with `group.instance.id`, so an
  /// instance restarted after a crash takes its partitions back at once instead of waiting
  /// for the broker to expire the dead member's session.
  bool static_membership{true};
  /// Stable per instance. Empty: "contactgate-<group_id>-<host name>" (derived by resolve()
  /// when static_membership is on). Two instances of one group on one host need their own.
  std::string group_instance_id;
  /// A file holding the SASL password (trailing newline ignored): kafka.common's sasl.password.
  std::string sasl_password_file;
  std::map<std::string, std::string> kafka_common;    ///< [kafka.common]: both clients
  std::map<std::string, std::string> kafka_consumer;  ///< [kafka.consumer]
  std::map<std::string, std::string> kafka_producer;  ///< [kafka.producer]
  // [topics]
  std::string input_topic{"contacts.upsert"};
  std::string accepted_topic{"contacts.accepted"};
  std::string rejected_topic{"contacts.rejected"};
  int topic_partitions{6};  ///< for `topics create` and the embedded cluster
  int topic_replication{1};
  // [pipeline]
  unsigned workers{0};               ///< 0: one per core
  std::size_t max_in_flight{20000};  ///< consumed but not yet committed-safe messages
  /// The same bound in bytes: the processor stops taking messages from librdkafka while the
  /// consumed, not yet committed-safe messages (their keys and values, and the outputs made
  /// from them until delivered) hold more than this. Bounds memory whatever the payload size.
  std::size_t max_in_flight_bytes{std::size_t{64} << 20};
  std::chrono::milliseconds commit_interval{500};
  std::chrono::milliseconds shutdown_timeout{15000};
  std::string phone_validator{"fast"};  ///< "fast" or "reference" (libphonenumber itself)
  /// A phone metadata file made by scripts/phone_metadata.py (with its .json manifest
  /// beside it); "" = the data built into the binary.
  std::string phone_metadata{};
  /// "validate" (the product); for benchmarks only: "passthrough" copies every input message
  /// unchanged to the accepted topic without validating (the ceiling the cluster allows), and
  /// "passthrough_headers" does the same with the input's key and the headers contactgate
  /// writes on accepted outputs (the fair ceiling: the same per-output work minus validation).
  std::string mode{"validate"};
  /// In-process retries (with backoff) of a record whose processing failed, before it is
  /// rejected with INTERNAL_SERVER_ERROR (retryable).
  int internal_retries{3};
  // [testing] -- for tests only: inject processing failures without a special build.
  double fault_rate{0.0};               ///< share of input messages whose processing fails
  std::string fault_mode{"permanent"};  ///< "permanent" (every attempt) or "transient" (first only)
  // [processing]
  guarantee processing_guarantee{guarantee::at_least_once};
  /// exactly_once: how often the open transaction (outputs + consumed offsets) commits.
  std::chrono::milliseconds transaction_interval{100};
  /// exactly_once: stable per instance, so a restarted instance fences its zombie.
  /// Empty: "contactgate-<group_id>-<host name>".
  std::string transactional_id;
  // [http]
  bool http_enabled{true};
  std::string http_address{"127.0.0.1"};  ///< loopback unless configured otherwise
  int http_port{9464};                    ///< 0: any free port (printed at start)
  // [limits]
  payload_limits limits{};
};

/// One source of raw "section.key" = value pairs (file, env or flags), for error messages.
struct layer {
  std::string source;  ///< e.g. "contactgate.toml", "environment", "command line"
  std::map<std::string, std::string> values;
};

/// Reads a TOML file into a layer. Throws config_error on syntax errors (with line).
[[nodiscard]] layer read_toml_file(const std::string& path);

/// CONTACTGATE_<SECTION>_<KEY> variables for the known keys (e.g. CONTACTGATE_KAFKA_BROKERS).
[[nodiscard]] layer read_environment();

/// Parses "section.key=value" strings (the --set / -X flags).
[[nodiscard]] layer read_assignments(const std::vector<std::string>& assignments, const std::string& source);

/// Applies the layers in order over the defaults. Throws config_error on unknown keys or
/// bad values, naming the key and its source.
[[nodiscard]] settings resolve(const std::vector<layer>& layers);

/// The effective configuration as TOML, with secrets (passwords, keys, tokens) redacted.
[[nodiscard]] std::string to_toml(const settings& s);

/// True for librdkafka property names that hold secrets.
[[nodiscard]] bool is_secret_key(const std::string& key);

/// "contactgate-<group_id>-<host name>": the default group.instance.id and transactional.id.
[[nodiscard]] std::string default_instance_name(const std::string& group_id);

/// The known keys with their environment variable names (for docs and errors).
[[nodiscard]] const std::vector<std::string>& known_keys();

}  // namespace cg::config
