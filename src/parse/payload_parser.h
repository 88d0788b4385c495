#pragma once
/// Reads one payload (a contact object, an array of contact objects, or a bulk request
/// `{"contacts":[...]}`) into contact_fields, with simdjson on-demand.
///
/// Lifetime: each contact's `raw` is a view into the caller's payload (valid as long as the
/// payload); the other views in the produced contact_fields point into this parser's
/// buffers and stay valid until the next parse() call on the same parser.
/// Threading: one parser per thread; a parser is not safe for concurrent use. Creating one
/// allocates; reuse it for every payload a thread handles.
/// Errors: never throws on payload content. A payload that cannot be read as contacts yields
/// `false` and one MALFORMED_PAYLOAD reason with a detail and a byte offset. Order: TOO_LARGE,
/// EMPTY_PAYLOAD, then a payload that is not JSON is INVALID_UTF8 / INVALID_JSON (always with
/// a byte offset) whatever its shape; only JSON gets a shape or limit detail.
/// Cost: valid payloads take one simdjson pass; rejected ones a second, strict one
/// (json_check.h) over the whole text.
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/outcome.h"

namespace cg::parse {

/// Bytes that must be readable after a payload given to payload_parser::parse_padded()
/// (simdjson::SIMDJSON_PADDING; their values do not matter).
inline constexpr std::size_t payload_padding = 64;

class payload_parser {
 public:
  explicit payload_parser(payload_limits limits = {});
  ~payload_parser();
  payload_parser(const payload_parser&) = delete;
  payload_parser& operator=(const payload_parser&) = delete;
  payload_parser(payload_parser&&) noexcept;
  payload_parser& operator=(payload_parser&&) noexcept;

  /// Parses `payload`. Returns true and fills `out` (cleared first) with at least one
  /// contact, in payload order; or returns false and sets `malformed` (code
  /// MALFORMED_PAYLOAD, byte_offset relative to the start of `payload`).
  /// The whole payload is validated as JSON, including fields contactgate does not read.
  [[nodiscard]] bool parse(std::string_view payload, std::vector<contact_fields>& out, reason& malformed) noexcept;

  /// As parse(), same results, but reads `payload` in place instead of copying it into this
  /// parser's padded buffer.
  /// IMPORTANT: the caller guarantees that the `payload_padding` bytes after the payload
  /// (payload.data() + payload.size() onwards) are allocated and readable for the whole call;
  /// what they hold does not matter (the next line, zeros, anything). The unescaped field
  /// views then point into this parser's buffers or into `payload`: keep both until the next
  /// parse.
  [[nodiscard]] bool parse_padded(std::string_view payload, std::vector<contact_fields>& out,
                                  reason& malformed) noexcept;

  [[nodiscard]] const payload_limits& limits() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace cg::parse
