#pragma once
/// A strict RFC 8259 checker for one JSON text: is the payload JSON at all, and if not,
/// where and why not. payload_parser runs it only when its simdjson pass has rejected a
/// payload (the error path), so that a payload that is not JSON is always reported as
/// INVALID_UTF8 / INVALID_JSON with an exact byte offset, whatever its shape, and only a
/// payload that is JSON gets a contact-shape or limit reason.
///
/// Pure functions over caller-owned memory; safe from any thread as long as each thread
/// passes its own `stack`. Never throws and never allocates: the nesting stack is the
/// caller's (one bit per level), sized by json_check_stack_words().
///
/// What it accepts is exactly RFC 8259 `JSON-text`: whitespace, one value, whitespace;
/// UTF-8 (RFC 3629) throughout; numbers of any size; and, like simdjson, no `\u` escape of
/// a lone UTF-16 surrogate (it encodes no character). It applies no limits of its own
/// (depth, string length): those are payload_parser's.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/reason.h"

namespace cg::parse {

/// Why a text is not JSON.
struct json_problem {
  detail what{detail::invalid_json};  ///< invalid_utf8 or invalid_json
  std::size_t offset{0};              ///< byte offset in the checked text (== size: it ended early)
  std::string_view note{};            ///< static text: what was expected or found there
};

/// Words of stack json_check() needs for a text of `text_bytes` bytes (one bit per level).
[[nodiscard]] constexpr std::size_t json_check_stack_words(std::size_t text_bytes) noexcept {
  return text_bytes / 64 + 1;
}

/// True when `text` is one JSON text. Otherwise false, with `problem` saying where.
/// `stack` must hold at least json_check_stack_words(text.size()) words; if it is smaller,
/// the check fails with a note saying so (never the case through payload_parser).
/// UTF-8 is checked over the whole text before the grammar, as simdjson does, so an
/// invalid byte anywhere makes the text INVALID_UTF8. A text that starts like UTF-16 or
/// UTF-32 (a byte order mark, or the NUL-byte patterns of RFC 4627 §3) is INVALID_UTF8 at
/// byte 0 with a note naming the encoding.
[[nodiscard]] bool check_json(std::string_view text, std::span<std::uint64_t> stack, json_problem& problem) noexcept;

}  // namespace cg::parse
