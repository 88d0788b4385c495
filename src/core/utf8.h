#pragma once
/// UTF-8 helpers for error paths. Pure functions; safe from any thread.
#include <cstddef>
#include <string_view>

namespace cg {

/// Offset of the first byte that starts an invalid UTF-8 sequence (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF), or npos when `s` is valid UTF-8.
/// Linear and allocation-free; meant for the rare rejection path, not the hot path.
[[nodiscard]] std::size_t find_invalid_utf8(std::string_view s) noexcept;

}  // namespace cg
