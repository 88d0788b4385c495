#pragma once
/// The output builder: turns one input message into its outputs on a worker thread.
/// Validation (with retries when contactgate itself fails), the records (emit), each
/// output's librdkafka header list (built once, here, off the producer thread), and the
/// counters and samples of the operator's view.
///
/// Cheap by construction: an accepted output's value and key are views into the input; a
/// rejection owns its JSON; the header list is written straight from the record's facts.
///
/// Threads: one output_builder is shared by every worker (it is immutable but for the
/// stats' atomics); each worker owns its `scratch`. Lifetime: borrows the settings, the
/// validator info and the stats, which outlive it.
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/outcome.h"
#include "emit/records.h"
#include "pipeline/stats.h"
#include "validate/payload_validator.h"

namespace cg::pipeline {

/// Each output's librdkafka header list (owned until produced), inline for one output.
using header_lists = boost::container::small_vector<rd_kafka_headers_t*, 1>;

/// What the builder needs of an input message: views into it (it outlives the outputs).
struct input_record {
  std::string_view payload;
  bool has_key{false};
  std::string_view key;
  std::int32_t partition{-1};
  std::int64_t offset{-1};
  std::int64_t timestamp_ms{-1};               ///< -1: not available
  const rd_kafka_headers_t* headers{nullptr};  ///< the input's headers, or null
};

/// The Kafka side: `m`'s fields as an input_record (parses its headers on first use, so call
/// it on the thread that owns the message at that moment).
[[nodiscard]] input_record input_of(const rd_kafka_message_t& m) noexcept;
/// The same with the timestamp already read (job::timestamp_ms): saves a second read of it.
[[nodiscard]] input_record input_of(const rd_kafka_message_t& m, std::int64_t timestamp_ms) noexcept;

class output_builder {
 public:
  output_builder(const config::settings& s, const emit::validator_info& info, stats& st) noexcept
      : _cfg(s), _info(info), _st(st) {}

  /// A worker's own state: its validator and reusable buffers.
  struct scratch {
    explicit scratch(validate::payload_validator v) : validator(std::move(v)) {}
    validate::payload_validator validator;
    payload_outcome outcome{};
    std::uint64_t rejections{0};
  };

  /// Replaces `outputs` and `headers` (one list per output; owned by the caller, null for
  /// pipeline.mode = passthrough) with the outputs of `in`, in contact order. contactgate's
  /// own failures are retried (pipeline.internal_retries) and then become retryable
  /// INTERNAL_SERVER_ERROR rejections: every input gets its outputs. Throws only
  /// std::bad_alloc.
  void build(const input_record& in, scratch& s, emit::out_list& outputs, header_lists& headers) const;

  /// A small INTERNAL_SERVER_ERROR rejection (the record left out) standing in for an
  /// output of `in` that Kafka refused as too large; counted as such.
  [[nodiscard]] emit::out_message replacement(std::string_view correlation_id, long long index,
                                              const input_record& in) const;

  /// `o`'s header list (plus the input's contactgate.redrive.* headers, so the redrive loop
  /// guard sees them on every output). The caller owns the result.
  [[nodiscard]] static rd_kafka_headers_t* kafka_headers(const emit::out_message& o, const emit::source_info& src,
                                                         const rd_kafka_headers_t* input_headers);

  [[nodiscard]] emit::source_info source_of(const input_record& in) const noexcept;

  /// The header marking a replacement (so a refused replacement is not replaced again).
  static constexpr std::string_view h_replacement = "contactgate.replacement";

 private:
  [[nodiscard]] bool inject_fault(const input_record& in, int attempt) const noexcept;
  void passthrough(const input_record& in, bool with_headers, emit::out_list& outputs, header_lists& headers) const;
  void count(const input_record& in, scratch& s, const payload_outcome* oc, const emit::out_list& outputs) const;
  void remember_internal(const emit::out_message& o, const input_record& in) const;

  const config::settings& _cfg;
  const emit::validator_info& _info;
  stats& _st;
};

}  // namespace cg::pipeline
