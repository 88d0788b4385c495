#include "validate/countries.h"

#include <array>
#include <cstdint>

#include "validate/iso3166_generated.h"  // cg_iso3166_codes[], cg_iso_codes_version

namespace cg::validate {

namespace {

// 26x26 bitmap: one bit per two-letter combination.
struct country_bitmap {
  std::array<std::uint32_t, 26> rows{};
  constexpr country_bitmap() {
    for (std::string_view c : generated::iso3166_codes) rows[c[0] - 'A'] |= 1u << (c[1] - 'A');
  }
};
constexpr country_bitmap bitmap{};

}  // namespace

bool is_assigned_country(std::string_view code) noexcept {
  if (code.size() != 2) return false;
  const char a = code[0], b = code[1];
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return false;
  return (bitmap.rows[a - 'A'] >> (b - 'A')) & 1u;
}

std::span<const std::string_view> assigned_countries() noexcept { return generated::iso3166_codes; }

std::string_view iso_codes_version() noexcept { return generated::iso_codes_version; }

}  // namespace cg::validate
