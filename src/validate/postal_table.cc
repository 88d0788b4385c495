#include "validate/postal_table.h"

#include <re2/re2.h>

#include <cstring>
#include <stdexcept>

namespace cg::validate {

namespace generated {
extern const std::string_view postal_codes_tsv;
extern const std::string_view postal_codes_digest;
}  // namespace generated

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> cols;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    cols.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return cols;
}

[[noreturn]] void bad_row(std::size_t line_no, const std::string& why) {
  throw std::runtime_error("postal code table, line " + std::to_string(line_no) + ": " + why);
}

}  // namespace

std::string_view trim_ascii_ends(std::string_view s) noexcept {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

postal_table::postal_table(std::string_view tsv, std::string digest) : _digest(std::move(digest)) {
  _slot.fill(-1);
  std::size_t line_no = 0;
  while (!tsv.empty()) {
    const std::size_t nl = tsv.find('\n');
    std::string_view line = tsv.substr(0, nl);
    tsv.remove_prefix(nl == std::string_view::npos ? tsv.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto cols = split_tabs(line);
    if (cols.size() != 4) bad_row(line_no, "expected 4 tab-separated columns, found " + std::to_string(cols.size()));
    postal_row row;
    row.code = std::string(cols[0]);
    if (row.code.size() != 2 || row.code[0] < 'A' || row.code[0] > 'Z' || row.code[1] < 'A' || row.code[1] > 'Z')
      bad_row(line_no, "country code must be two uppercase letters: '" + row.code + "'");
    if (cols[1] == "yes") {
      row.has_postal_codes = true;
    } else if (cols[1] != "no") {
      bad_row(line_no, "second column must be yes or no");
    }
    std::unique_ptr<re2::RE2> re;
    if (row.has_postal_codes) {
      row.pattern = std::string(cols[2]);
      row.example = std::string(cols[3]);
      re2::RE2::Options opts;
      opts.set_case_sensitive(false);
      opts.set_log_errors(false);
      re = std::make_unique<re2::RE2>(row.pattern, opts);
      if (!re->ok()) bad_row(line_no, row.code + ": pattern does not compile: " + re->error());
    } else if (cols[2] != "-" || cols[3] != "-") {
      bad_row(line_no, row.code + ": a country without postal codes has '-' as pattern and example");
    }
    const int slot = (row.code[0] - 'A') * 26 + (row.code[1] - 'A');
    if (_slot[static_cast<std::size_t>(slot)] != -1) bad_row(line_no, "duplicate row for " + row.code);
    _slot[static_cast<std::size_t>(slot)] = static_cast<std::int16_t>(_rows.size());
    _rows.push_back(std::move(row));
    _patterns.push_back(std::move(re));
  }
}

postal_table::~postal_table() = default;
postal_table::postal_table(postal_table&&) noexcept = default;
postal_table& postal_table::operator=(postal_table&&) noexcept = default;

const postal_table& postal_table::builtin() {
  static const postal_table table(generated::postal_codes_tsv, std::string(generated::postal_codes_digest));
  return table;
}

int postal_table::slot_of(std::string_view country) const noexcept {
  if (country.size() != 2) return -1;
  const char a = country[0], b = country[1];
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return -1;
  return _slot[static_cast<std::size_t>((a - 'A') * 26 + (b - 'A'))];
}

const postal_row* postal_table::find(std::string_view country) const noexcept {
  const int i = slot_of(country);
  return i < 0 ? nullptr : &_rows[static_cast<std::size_t>(i)];
}

zip_check postal_table::check(std::string_view country, std::string_view zip) const noexcept {
  const int i = slot_of(country);
  if (i < 0) return zip_check::unknown_country;
  const auto& re = _patterns[static_cast<std::size_t>(i)];
  if (!re) return zip_check::country_has_no_postal_codes;
  return re2::RE2::FullMatch(re2::StringPiece(zip.data(), zip.size()), *re) ? zip_check::ok
                                                                            : zip_check::format_mismatch;
}

postal_memo::postal_memo() : _slots(std::make_unique<slot[]>(slot_count)) {}

namespace {

// The zip's bytes, zero-padded to the memo's key width, with fixed-size copies (no memcpy call).
void load_key(std::string_view zip, char (&key)[postal_memo::max_zip_bytes]) noexcept {
  static_assert(postal_memo::max_zip_bytes >= 8 && postal_memo::max_zip_bytes <= 12);
  std::memset(key, 0, sizeof key);
  const std::size_t n = zip.size();  // at most max_zip_bytes
  const char* p = zip.data();
  if (n >= 8) {  // [0, 8) and [n - 4, n) cover [0, n)
    std::memcpy(key, p, 8);
    std::memcpy(key + n - 4, p + n - 4, 4);
  } else if (n >= 4) {  // [0, 4) and [n - 4, n)
    std::memcpy(key, p, 4);
    std::memcpy(key + n - 4, p + n - 4, 4);
  } else {
    if (n > 0) key[0] = p[0];
    if (n > 1) key[1] = p[1];
    if (n > 2) key[2] = p[2];
  }
}

}  // namespace

std::size_t postal_memo::slot_of(std::string_view country, std::string_view zip) noexcept {
  char key[max_zip_bytes];
  load_key(zip, key);
  std::uint64_t a = 0;
  std::uint32_t b = 0;
  std::memcpy(&a, key, 8);
  std::memcpy(&b, key + 8, 4);
  std::uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^
                    ((static_cast<std::uint64_t>(b) << 24 | static_cast<std::uint64_t>(zip.size()) << 16 |
                      static_cast<std::uint64_t>(static_cast<unsigned char>(country[0])) << 8 |
                      static_cast<unsigned char>(country[1])) *
                     0xC2B2AE3D27D4EB4Full);
  return ((h ^ (h >> 32)) * 0x165667B19E3779F9ull) >> (64 - slot_bits);  // the top bits: every key byte counts
}

zip_check postal_memo::check(const postal_table& table, std::string_view country, std::string_view zip) noexcept {
  if (zip.size() > max_zip_bytes || country.size() != 2) return table.check(country, zip);
  char key[max_zip_bytes];
  load_key(zip, key);
  const bool hinted =
      zip.data() == _hint_zip.data() && zip.size() == _hint_zip.size() && country.data() == _hint_country;
  slot& s = _slots[hinted ? _hint_slot : slot_of(country, zip)];
  if (s.size == zip.size() && s.country[0] == country[0] && s.country[1] == country[1] &&
      std::memcmp(s.zip, key, max_zip_bytes) == 0)
    return static_cast<zip_check>(s.verdict);
  const zip_check v = table.check(country, zip);
  std::memcpy(s.zip, key, max_zip_bytes);
  s.size = static_cast<std::uint8_t>(zip.size());
  s.verdict = static_cast<std::uint8_t>(v);
  s.country[0] = country[0];
  s.country[1] = country[1];
  return v;
}

}  // namespace cg::validate
