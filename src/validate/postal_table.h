#pragma once
/// Per-country postal-code formats, compiled once with RE2.
///
/// Source: src/validate/data/postal_codes.tsv, embedded into the binary at build time
/// (one row per assigned ISO 3166-1 country: code, has-postal-code, pattern, example).
/// Lifetime: builtin() lives for the whole process. Threading: immutable after
/// construction; check() is safe from any number of threads (RE2 matching is const).
/// Errors: construction throws std::runtime_error naming the bad row (start-up only);
/// check() never throws.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace cg::validate {

struct postal_row {
  std::string code;  ///< ISO 3166-1 alpha-2, uppercase
  bool has_postal_codes{false};
  std::string pattern;  ///< RE2 syntax, matched against the whole zip, case-insensitive
  std::string example;
};

enum class zip_check { ok, format_mismatch, country_has_no_postal_codes, unknown_country };

class postal_table {
 public:
  /// Parses and compiles a table in the TSV format described in the README.
  explicit postal_table(std::string_view tsv, std::string digest = {});
  ~postal_table();
  postal_table(postal_table&&) noexcept;
  postal_table& operator=(postal_table&&) noexcept;

  /// The table built into the binary; compiled on first use (thread-safe).
  [[nodiscard]] static const postal_table& builtin();

  /// Judges an already-trimmed, non-empty zip for an uppercase country code.
  [[nodiscard]] zip_check check(std::string_view country, std::string_view zip) const noexcept;

  [[nodiscard]] const postal_row* find(std::string_view country) const noexcept;
  [[nodiscard]] std::span<const postal_row> rows() const noexcept { return _rows; }
  /// Short content digest of the table, shown by --version and in outputs.
  [[nodiscard]] std::string_view digest() const noexcept { return _digest; }

 private:
  [[nodiscard]] int slot_of(std::string_view country) const noexcept;

  std::vector<postal_row> _rows;
  std::vector<std::unique_ptr<re2::RE2>> _patterns;  // parallel to _rows; null when no codes
  std::array<std::int16_t, 26 * 26> _slot{};         // index into _rows, -1 when absent
  std::string _digest;
};

/// A per-thread memo of postal_table::check() for short zips: the verdict depends only on the
/// (country, zip) bytes and the immutable table, and the same few thousand zip codes recur, so
/// a direct-mapped cache returns RE2's earlier verdict instead of matching again. Same results
/// as postal_table::check() for every input (a zip longer than `max_zip_bytes` or a miss asks
/// the table; a slot holds the exact bytes it was computed for).
///
/// Ownership: holds no reference to the table; pass the same table to every call on one memo.
/// Threading: one memo per thread (payload_validator owns one); not safe for concurrent use.
/// Never throws, never allocates after construction.
class postal_memo {
 public:
  static constexpr std::size_t max_zip_bytes = 12;

  postal_memo();
  [[nodiscard]] zip_check check(const postal_table& table, std::string_view country, std::string_view zip) noexcept;
  /// Starts loading the slot that check(country, zip) will read, so that its cache miss overlaps
  /// other work, and remembers it for the next check() of the same views. A hint only: a slot
  /// answers only for the exact bytes it holds, so results never depend on it.
  void prefetch(std::string_view country, std::string_view zip) noexcept {
    if (zip.size() > max_zip_bytes || country.size() != 2) return;
    _hint_zip = zip;
    _hint_country = country.data();
    _hint_slot = slot_of(country, zip);
    __builtin_prefetch(&_slots[_hint_slot]);
  }

 private:
  struct slot {  // 16 bytes: four to a cache line
    char zip[max_zip_bytes]{};
    std::uint8_t size{0xFF};  // 0xFF: empty
    std::uint8_t verdict{0};
    char country[2]{};
  };
  static_assert(sizeof(slot) == 16);
  // The slot of a zip of at most max_zip_bytes and a two-byte country.
  [[nodiscard]] static std::size_t slot_of(std::string_view country, std::string_view zip) noexcept;
  static constexpr unsigned slot_bits = 14;
  static constexpr std::size_t slot_count = std::size_t{1}
                                            << slot_bits;  // 256 KiB; a generated corpus has ~6,700 distinct zips
  std::unique_ptr<slot[]> _slots;
  std::string_view _hint_zip;  // the last prefetch(): its views and their slot
  const char* _hint_country{nullptr};
  std::size_t _hint_slot{0};
};

/// trim_ascii() for a string with whitespace at either end.
[[nodiscard]] std::string_view trim_ascii_ends(std::string_view s) noexcept;

/// Removes leading and trailing ASCII whitespace. Inline, as zips rarely have any: every
/// whitespace byte is at most ' ', so a string whose first and last bytes are above it is its
/// own trim.
[[nodiscard]] inline std::string_view trim_ascii(std::string_view s) noexcept {
  if (!s.empty() && static_cast<unsigned char>(s.front()) > ' ' && static_cast<unsigned char>(s.back()) > ' ') return s;
  return trim_ascii_ends(s);
}

}  // namespace cg::validate
