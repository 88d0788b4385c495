#include "validate/rules.h"

#include <cstdint>
#include <cstring>

#include "validate/countries.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cg::validate {

namespace {

struct hex_table {
  signed char v[256];
  constexpr hex_table() : v{} {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<signed char>(i);
    for (int i = 0; i < 6; ++i) v['a' + i] = v['A' + i] = static_cast<signed char>(10 + i);
  }
};
constexpr hex_table hex_digits{};

int hex_value(char c) noexcept { return hex_digits.v[static_cast<unsigned char>(c)]; }

reason field_reason(reason_code code, field_id field, detail d) noexcept {
  reason r;
  r.code = code;
  r.field = field;
  r.what = d;
  return r;
}

// True when the 32 bytes at `p` are all ASCII hex digits (either case).
bool all_hex_32(const char* p) noexcept {
#if defined(__SSE2__)
  // Signed byte compares: bytes >= 0x80 are negative and fail every range below.
  const auto hex16 = [](const char* at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));  // 'A'-'F' -> 'a'-'f'; digits unchanged
    const __m128i digit =
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i letter =
        _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(lower, _mm_set1_epi8('f' + 1)));
    return _mm_movemask_epi8(_mm_or_si128(digit, letter));
  };
  return (hex16(p) & hex16(p + 16)) == 0xFFFF;
#else
  int all = 0;  // branch-free scan
  for (std::size_t i = 0; i < 32; ++i) all |= hex_value(p[i]);
  return all >= 0;
#endif
}

// Length in Unicode code points (the input is valid UTF-8): what a user counts.
long long code_points(std::string_view s) noexcept {
  long long n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_hyphenated_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool hyphen_slot = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen_slot ? s[i] != '-' : hex_value(s[i]) < 0) return false;
  }
  return true;
}

}  // namespace

bool check_correlation_id(const field_value& f, reason& out) noexcept {
  constexpr auto code = reason_code::invalid_correlation_id;
  constexpr auto field = field_id::correlation_id;
  if (f.kind == field_kind::absent) return out = field_reason(code, field, detail::missing), true;
  if (f.kind == field_kind::wrong_type) return out = field_reason(code, field, detail::wrong_type), true;
  const std::string_view s = f.text;
  if (s.size() == 32 && all_hex_32(s.data())) return false;  // the common case
  // Lengths are in characters (code points), as a user counts them.
  const long long chars = code_points(s);
  if (chars == 32) {
    long long pos = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
      if (hex_value(s[i]) < 0) break;
      ++pos;
    }
    out = field_reason(code, field, detail::not_hex);
    out.number = pos;
    return true;
  }
  if (is_hyphenated_uuid(s)) return out = field_reason(code, field, detail::hyphenated), true;
  out = field_reason(code, field, detail::wrong_length);
  out.number = chars;
  return true;
}

correlation_key correlation_key_of(std::string_view id) noexcept {
  correlation_key k;
  for (std::size_t i = 0; i < 16 && i < id.size(); ++i) k.hi = (k.hi << 4) | static_cast<unsigned>(hex_value(id[i]));
  for (std::size_t i = 16; i < 32 && i < id.size(); ++i) k.lo = (k.lo << 4) | static_cast<unsigned>(hex_value(id[i]));
  return k;
}

bool check_country(const field_value& f, reason& out) noexcept {
  constexpr auto code = reason_code::invalid_country_iso_code;
  constexpr auto field = field_id::country_iso_code;
  if (f.kind == field_kind::absent) return out = field_reason(code, field, detail::missing), true;
  if (f.kind == field_kind::wrong_type) return out = field_reason(code, field, detail::wrong_type), true;
  const std::string_view s = f.text;
  if (is_assigned_country(s)) return false;
  if (s.size() == 2) {
    auto upper = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; };
    const char up[2] = {upper(s[0]), upper(s[1])};
    if (is_assigned_country(std::string_view(up, 2))) {
      return out = field_reason(code, field, detail::not_uppercase), true;
    }
  }
  out = field_reason(code, field, detail::not_assigned);
  return true;
}

namespace {

// True when the 8 bytes of `w` are all ASCII digits: each has the high nibble 3, and adding 6
// to its low nibble does not carry into it (no byte carries into the next once all are 0x3?).
bool all_digits_8(std::uint64_t w) noexcept {
  constexpr std::uint64_t highs = 0xF0F0F0F0F0F0F0F0ull, threes = 0x3030303030303030ull, sixes = 0x0606060606060606ull;
  return (w & highs) == threes && ((w + sixes) & highs) == threes;
}

// True when `s` (1 to 16 bytes) is all ASCII digits: two overlapping 8-byte words (or bytes).
bool all_digits_upto_16(std::string_view s) noexcept {
  const auto word = [](const char* at) {
    std::uint64_t w;
    std::memcpy(&w, at, sizeof w);
    return w;
  };
  if (s.size() >= 8) return all_digits_8(word(s.data())) && all_digits_8(word(s.data() + s.size() - 8));
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

e164_problem check_e164_syntax(std::string_view s) noexcept {
  if (s.empty() || s.front() != '+') return e164_problem::no_plus;
  // The common case in one step: '+' and 1 to 15 digits, the first not 0.
  if (s.size() >= 2 && s.size() <= 16 && s[1] != '0' && all_digits_upto_16(s.substr(1))) return e164_problem::none;
  s.remove_prefix(1);
  if (s.empty()) return e164_problem::no_digits;
  for (char c : s) {
    if (c < '0' || c > '9') return e164_problem::non_digit;
  }
  if (s.size() > 15) return e164_problem::too_many_digits;
  if (s.front() == '0') return e164_problem::leading_zero;
  return e164_problem::none;
}

bool check_contact_id(const field_value& f, const phone_validator& phones, reason& out) noexcept {
  constexpr auto code = reason_code::invalid_contact_id;
  constexpr auto field = field_id::contact_id;
  if (f.kind == field_kind::absent) return out = field_reason(code, field, detail::missing), true;
  if (f.kind == field_kind::wrong_type) return out = field_reason(code, field, detail::wrong_type), true;
  if (const e164_problem p = check_e164_syntax(f.text); p != e164_problem::none) {
    out = field_reason(code, field, detail::not_e164);
    out.e164 = p;
    return true;
  }
  const phone_verdict v = phones.check(f.text);
  if (v == phone_verdict::valid) return false;
  out = field_reason(code, field, to_detail(v));
  return true;
}

bool check_zip(const field_value& zip, std::string_view country, bool country_ok, const postal_table& postal,
               reason& out, postal_memo* memo) noexcept {
  constexpr auto code = reason_code::invalid_zip_code;
  constexpr auto field = field_id::zip_code;
  if (zip.kind == field_kind::absent) return false;
  if (zip.kind == field_kind::wrong_type) return out = field_reason(code, field, detail::wrong_type), true;
  if (!country_ok) return false;
  const std::string_view z = trim_ascii(zip.text);
  if (z.empty()) return false;
  switch (memo != nullptr ? memo->check(postal, country, z) : postal.check(country, z)) {
    case zip_check::ok:
    case zip_check::unknown_country: return false;  // every assigned country has a row (tested)
    case zip_check::country_has_no_postal_codes:
      out = field_reason(code, field, detail::country_has_no_postal_codes);
      return true;
    case zip_check::format_mismatch: {
      out = field_reason(code, field, detail::format_mismatch);
      if (const postal_row* row = postal.find(country)) out.note = row->example;
      return true;
    }
  }
  return false;
}

}  // namespace cg::validate
