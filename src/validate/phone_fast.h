#pragma once
/// Phone validity without per-call regular expressions: the same verdict as
/// reference_phone_validator (libphonenumber's Parse(n, "ZZ") + IsValidNumber +
/// IsPossibleNumberWithReason, mapped as in phone.h) for every E.164-shaped input, from
/// libphonenumber's own compiled-in metadata (metadata_get()), read once at construction.
///
/// How: for each country calling code, every number pattern (general description and the ten
/// number types) and every leading-digits pattern of every region sharing the code is compiled
/// into ONE minimal table-driven DFA over the ten digits. Each DFA state carries a 32-bit
/// signature: bit L says "a national number of length L ending here is valid" (the region
/// choice of GetRegionCodeForNumberFromRegionList, the possible-length checks of
/// IsNumberMatchingDesc and GetNumberTypeHelper's type rules are folded in at build time), and
/// bit 31 says "the main region's general pattern matches" (used by national prefix stripping).
/// A number then costs one table step per digit, plus, only for calling codes whose main
/// region has a national_prefix_for_parsing, a small backtracking match of that prefix with
/// ICU/Perl semantics (Parse accepts a national prefix after the calling code, e.g. +4407...).
///
/// Ownership: the validator owns all its tables; they are built in the constructor and never
/// change afterwards. Lifetime: callers hold a reference; the validator outlives them.
/// Threading: immutable after construction; check() is safe from any number of threads at
/// once, takes no locks, touches no shared mutable state, never allocates and never throws.
/// Errors: the constructor throws std::runtime_error when the metadata cannot be parsed or uses
/// a construct the compiler does not support (start-up only).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "validate/phone.h"

namespace cg::validate {

namespace phone_fast_detail {
struct tables;
}

class fast_phone_validator final : public phone_validator {
 public:
  /// Builds every table from libphonenumber's compiled-in metadata. Throws std::runtime_error.
  fast_phone_validator();
  ~fast_phone_validator() override;
  fast_phone_validator(const fast_phone_validator&) = delete;
  fast_phone_validator& operator=(const fast_phone_validator&) = delete;

  /// `e164` must have passed check_e164_syntax ('+', 1..15 digits, the first not 0); any other
  /// input is outside the contract and is judged not_valid.
  [[nodiscard]] phone_verdict check(std::string_view e164) const noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "fast"; }

  /// Bytes of the compiled tables (automata, calling-code index, prefix programs).
  [[nodiscard]] std::size_t footprint_bytes() const noexcept;
  /// Regions (metadata entries, including the "001" non-geographic entities) compiled.
  [[nodiscard]] std::size_t region_count() const noexcept;
  /// Patterns compiled into the automata (number-type, general and leading-digits patterns).
  [[nodiscard]] std::size_t pattern_count() const noexcept;
  /// Country calling codes known.
  [[nodiscard]] std::size_t calling_code_count() const noexcept;
  /// States of all automata together.
  [[nodiscard]] std::size_t dfa_state_count() const noexcept;

 private:
  std::unique_ptr<const phone_fast_detail::tables> _tables;
};

/// The regular-expression machinery behind fast_phone_validator (phone_fast_regex.cc), exposed
/// for its tests. Inputs are ASCII digit strings; a pattern character that is not a digit can
/// never match one, and is compiled as such.
namespace phone_fast_detail {

/// A parsed pattern of libphonenumber's subset: digits, `\d`, `.`, classes with ranges and
/// negation, `(...)`, `(?:...)`, `|`, `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}` (greedy or lazy),
/// `^` and `$`.
struct regex_node {
  enum class kind : std::uint8_t { empty, chars, concat, alt, repeat, group, line_begin, line_end };
  kind k{kind::empty};
  std::uint16_t chars{0};  ///< kind::chars: bit d set when digit d matches
  int min{0};              ///< kind::repeat
  int max{0};              ///< kind::repeat; negative: unbounded
  bool greedy{true};       ///< kind::repeat
  int capture{0};          ///< kind::group: 1-based capture index, 0 for (?:...)
  std::vector<regex_node> kids;
};

/// Parses `pattern`; `captures` receives the number of capturing groups. Throws
/// std::runtime_error on syntax outside the subset.
[[nodiscard]] regex_node parse_regex(std::string_view pattern, int* captures = nullptr);

/// Layout of a compiled DFA table: one row of `dfa_row` cells per state; cells 0..9 hold the
/// successor's row offset for each digit, cell 10 the state's signature.
inline constexpr std::uint32_t dfa_row = 12;
inline constexpr std::uint32_t dfa_signature_cell = 10;

/// Compiles several patterns into one minimal DFA. Not thread-safe (a build-time tool).
class dfa_builder {
 public:
  dfa_builder();
  ~dfa_builder();
  /// Adds a pattern matched against the whole input (FullMatch), or against a prefix of it
  /// when `prefix` (lookingAt / Consume). Returns its tag (0, 1, ...). Throws on anchors.
  int add(const regex_node& pattern, bool prefix);
  /// Builds the DFA of all patterns added; each state's signature is `signature(tags of the
  /// patterns accepting there)` (tags sorted), and states are merged when no continuation
  /// can tell them apart. Appends the rows to `cells` and returns the start row's offset.
  /// Throws std::runtime_error when more than `max_states` subset states arise.
  std::uint32_t build(const std::function<std::uint32_t(const std::vector<int>&)>& signature,
                      std::vector<std::uint32_t>& cells, std::size_t max_states = 2'000'000);

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

/// Runs a DFA over `digits` from row `start`; returns the final state's signature.
[[nodiscard]] inline std::uint32_t run_dfa(const std::uint32_t* cells, std::uint32_t start, const char* digits,
                                           std::size_t n) noexcept {
  std::uint32_t s = start;
  for (std::size_t i = 0; i < n; ++i) s = cells[s + static_cast<unsigned char>(digits[i] - '0')];
  return cells[s + dfa_signature_cell];
}

/// Backtracking matcher with ICU's (Perl's) leftmost-first semantics and capture groups, used
/// for national_prefix_for_parsing, where the exact match end and captured text matter.
/// Immutable after construction; looking_at() is thread-safe, allocation-free and noexcept.
class prefix_matcher {
 public:
  static constexpr int max_groups = 9;
  struct match {
    int end{-1};                  ///< match end, -1: no match
    int begin[max_groups + 1]{};  ///< group g spans [begin[g], end_of[g]); -1: did not take part
    int end_of[max_groups + 1]{};
  };

  prefix_matcher() = default;
  /// Throws std::runtime_error on unsupported syntax or more than max_groups groups.
  explicit prefix_matcher(std::string_view pattern);
  /// ICU RegexMatcher::lookingAt() at position 0 of `s`.
  bool looking_at(std::string_view s, match& m) const noexcept;
  [[nodiscard]] int group_count() const noexcept { return _groups; }
  [[nodiscard]] std::size_t footprint_bytes() const noexcept { return _prog.size() * sizeof(instr); }

 private:
  struct instr {
    enum class op : std::uint8_t { chars, split, jump, save, match, line_begin, line_end };
    op o{op::match};
    std::uint16_t chars{0};
    std::int32_t x{0}, y{0};  // split: preferred x, then y; jump: x; save: slot x
  };
  void emit(const regex_node& n);
  bool run(int pc, int sp, std::string_view s, int* slots, int& end) const noexcept;

  std::vector<instr> _prog;
  int _groups{0};
};

}  // namespace phone_fast_detail
}  // namespace cg::validate
