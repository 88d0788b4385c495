#pragma once
/// ISO 3166-1 alpha-2 codes that are assigned, generated at build time from Debian's
/// iso-codes package (never typed by hand). Immutable data; safe from any thread.
#include <span>
#include <string_view>

namespace cg::validate {

/// True when `code` is exactly two uppercase ASCII letters forming an assigned code.
[[nodiscard]] bool is_assigned_country(std::string_view code) noexcept;

/// All assigned codes, sorted.
[[nodiscard]] std::span<const std::string_view> assigned_countries() noexcept;

/// The iso-codes version the list was generated from, e.g. "4.15.0".
[[nodiscard]] std::string_view iso_codes_version() noexcept;

}  // namespace cg::validate
