#pragma once
/// The records contactgate writes: one per accepted contact (the contact's exact bytes)
/// and one per rejected contact or malformed payload (a JSON rejection record), with
/// headers so consumers can route and filter without parsing values.
///
/// Pure functions, no Kafka dependency: the pipeline hands the results to its producer.
/// Thread-safety: safe from any thread; `validator_info` is immutable after creation.
#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.h"
#include "emit/json_buffer.h"

namespace cg::emit {

enum class destination : std::uint8_t { accepted, rejected };

/// One output record. Cheap by construction: an accepted output's value is a view of the
/// contact's bytes in the input payload (no copy; the caller keeps the payload alive until
/// the output is produced and delivered), a rejection owns its JSON record. Headers are not
/// stored: write_headers() emits them once, straight into the caller's sink (the pipeline's
/// writes a librdkafka header list on the worker thread).
struct out_message {
  enum class key_from : std::uint8_t { none, source, correlation_id };

  destination dest{destination::accepted};
  key_from key_source{key_from::none};
  std::string_view source_key;  ///< the input message's key (a view into the input)
  std::string correlation_id;   ///< copied: the parser's unescaped text lives only until its next parse
  bool has_correlation_id{false};
  long long index{-1};    ///< the contact's position in the payload; -1 for the whole payload
  std::string_view raw;   ///< accepted: the contact's exact bytes (a view into the input payload)
  output_buffer body;     ///< rejected: the JSON rejection record
  reason_list reasons{};  ///< rejected contacts (for metrics); malformed: the one reason
  bool malformed{false};
  bool replaced{false};  ///< an INTERNAL_SERVER_ERROR stand-in for an output Kafka refused

  [[nodiscard]] bool has_key() const noexcept { return key_source != key_from::none; }
  [[nodiscard]] std::string_view key() const noexcept {
    return key_source == key_from::source           ? source_key
           : key_source == key_from::correlation_id ? std::string_view(correlation_id)
                                                    : std::string_view();
  }
  [[nodiscard]] std::string_view value() const noexcept { return dest == destination::accepted ? raw : body.view(); }
};

/// Receives one output's headers, in order. Implementations must not throw on the pipeline's
/// path (the librdkafka one cannot).
class header_sink {
 public:
  virtual void add(std::string_view name, std::string_view value) = 0;

 protected:
  ~header_sink() = default;
};

/// Where the input came from.
struct source_info {
  std::string_view topic;
  std::int32_t partition{-1};
  std::int64_t offset{-1};
  std::int64_t timestamp_ms{-1};  ///< -1: not available
  bool has_key{false};
  std::string_view key;
};

/// The versions of the code and data that judged a record (written into rejections).
struct validator_info {
  std::string version;
  std::string phone_data;
  std::string country_data;
  std::string postal_data;
  std::string json;  ///< pre-rendered {"version":..,...}
};
[[nodiscard]] validator_info make_validator_info(std::string version, std::string phone_data, std::string country_data,
                                                 std::string postal_data);

/// The outputs of one input message: one per contact, nearly always one, which is stored
/// inline (a job needs no allocation for its list).
using out_list = boost::container::small_vector<out_message, 1>;

/// Appends the outputs of one input message to `out`, one per contact (in payload order),
/// or one for a malformed payload. `raw_payload` is the message value as received.
void build_outputs(const payload_outcome& outcome, std::string_view raw_payload, const source_info& src,
                   const validator_info& info, std::int64_t now_ms, out_list& out);

/// INTERNAL_SERVER_ERROR rejections (retryable) for an input message that contactgate
/// itself failed to process: one per contact when the payload was read (`outcome`), else one
/// for the payload with its raw bytes. `note` must be static text (it lands in the message).
void build_internal_error_outputs(const payload_outcome* outcome, std::string_view raw_payload, const source_info& src,
                                  const validator_info& info, std::int64_t now_ms, std::string_view note,
                                  out_list& out);

/// An INTERNAL_SERVER_ERROR rejection that leaves out the record (`"record": null`,
/// `"record_encoding": "omitted"`), for an output the topic refused as too large.
[[nodiscard]] out_message internal_error_without_record(std::string_view correlation_id, const source_info& src,
                                                        long long index, const validator_info& info,
                                                        std::int64_t now_ms, std::string_view note);

/// Writes the headers of `m` (which came from `src`) to `sink`: for rejections
/// contactgate.error.code and .reasons; for every output contactgate.source.topic,
/// .partition, .offset, .index (contacts only) and contactgate.correlation_id (when the
/// contact has a string correlation_id). No heap allocation for accepted outputs.
void write_headers(const out_message& m, const source_info& src, header_sink& sink);

/// One header, collected (tests, tools; the pipeline writes its sink directly).
struct header {
  std::string_view name;  ///< always one of the static h_* names below
  std::string value;
};
/// The headers write_headers() gives for `m`, as a list.
[[nodiscard]] std::vector<header> collect_headers(const out_message& m, const source_info& src);

/// The contactgate.error.reasons header value: CODE:DETAIL pairs, comma-separated.
[[nodiscard]] std::string reasons_header(const reason_list& reasons);

/// "2026-11-27T18:00:00.123Z"
[[nodiscard]] std::string iso8601_utc(std::int64_t ms);

/// Standard base64 (RFC 4648, with padding).
[[nodiscard]] std::string base64(std::string_view bytes);

/// Header names.
inline constexpr std::string_view h_source_topic = "contactgate.source.topic";
inline constexpr std::string_view h_source_partition = "contactgate.source.partition";
inline constexpr std::string_view h_source_offset = "contactgate.source.offset";
inline constexpr std::string_view h_source_index = "contactgate.source.index";
inline constexpr std::string_view h_correlation_id = "contactgate.correlation_id";
inline constexpr std::string_view h_error_code = "contactgate.error.code";
inline constexpr std::string_view h_error_reasons = "contactgate.error.reasons";

}  // namespace cg::emit
