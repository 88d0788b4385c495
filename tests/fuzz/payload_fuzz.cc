// libFuzzer harness: payload bytes -> payload_validator (parse + rules) -> emit::build_outputs,
// then checks what the README promises about the result. Any broken promise prints a
// "cg_payload_fuzz: INVARIANT ..." line and calls __builtin_trap(), so libFuzzer saves the
// input as a crash. See tests/fuzz/README.md for the list of invariants.
//
// Oracles, all independent of src/parse:
//   * ref_json below: a small strict RFC 8259 / RFC 3629 parser (iterative, no depth limit)
//     that keeps byte spans, unescaped keys and strings. JSON validity, the expected
//     MALFORMED_PAYLOAD detail, the contacts and their exact bytes are predicted from it.
//   * simdjson's DOM parser (a different code path than contactgate's on-demand walk).
//   * the ISO 3166-1 list read from Debian's iso-codes JSON at start-up, and the postal
//     patterns compiled here with RE2 from the table's text, for the expected reasons.
#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/format.h"
#include "core/outcome.h"
#include "emit/records.h"
#include "validate/payload_validator.h"
#include "validate/phone.h"
#include "validate/postal_table.h"

namespace {

using cg::detail;
using cg::field_kind;
using cg::reason_code;

// Small limits, so that the fuzzer reaches every one of them.
constexpr cg::payload_limits kLimits{
    .max_payload_bytes = 65536, .max_depth = 32, .max_contacts = 100, .max_string_bytes = 1024};
constexpr std::int64_t kNowMs = 1795801295781;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "cg_payload_fuzz: INVARIANT (payload_fuzz.cc:%d): %s\n", line, what);
  std::fflush(stderr);
  __builtin_trap();
}
#define CHECK(cond, what)              \
  do {                                 \
    if (!(cond)) fail(what, __LINE__); \
  } while (0)

// ---------------------------------------------------------------------------------------
// UTF-8 (RFC 3629): offset of the first byte that starts an invalid sequence, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;  // no UTF-16 surrogates
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// UTF-16/32 as README "Rules" describes it: a UTF-16 BOM (FE FF, FF FE), a UTF-32 BOM, or
// RFC 4627 section 3's NUL-byte patterns in the first four bytes (two for a two-byte text),
// for a length that is a multiple of the code unit.
bool looks_utf16_or_utf32(std::string_view t) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(t[i]); };
  const std::size_t n = t.size();
  if (n >= 2 && ((b(0) == 0xFE && b(1) == 0xFF) || (b(0) == 0xFF && b(1) == 0xFE))) return true;
  if (n >= 4 && b(0) == 0 && b(1) == 0 && b(2) == 0xFE && b(3) == 0xFF) return true;
  if (n >= 4 && n % 4 == 0 &&
      ((b(0) == 0 && b(1) == 0 && b(2) == 0 && b(3) != 0) || (b(0) != 0 && b(1) == 0 && b(2) == 0 && b(3) == 0)))
    return true;
  if (n >= 2 && n % 2 == 0) {
    const bool four = n >= 4;
    if (b(0) == 0 && b(1) != 0 && (!four || (b(2) == 0 && b(3) != 0))) return true;
    if (b(0) != 0 && b(1) == 0 && (!four || (b(2) != 0 && b(3) == 0))) return true;
  }
  return false;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// ---------------------------------------------------------------------------------------
// ref_json: a strict reference parser. Iterative (explicit stack), so any depth is fine.
enum class jkind : std::uint8_t { object, array, string, number, boolean, null };

struct jnode {
  jkind kind{jkind::null};
  int depth{0};          // containers: nesting level, the root container is 1
  std::size_t begin{0};  // byte span of the value in the (BOM-stripped) text
  std::size_t end{0};
  std::string key;  // unescaped member name when the parent is an object
  std::string str;  // unescaped value of a string
  std::vector<int> kids;
};

enum class jstatus { valid, invalid, unspecified };  // unspecified: a lone \uD800-\uDFFF escape

struct jdoc {
  jstatus status{jstatus::invalid};
  std::vector<jnode> nodes;  // nodes[0] is the root
  int max_depth{0};
  std::size_t max_string{0};  // longest unescaped string or member name, in bytes
};

class ref_json {
 public:
  void parse(std::string_view text, jdoc& d) {
    s_ = text;
    i_ = 0;
    lone_ = false;
    d.nodes.clear();
    d.max_depth = 0;
    d.max_string = 0;
    d.status = run(d) ? (lone_ ? jstatus::unspecified : jstatus::valid) : jstatus::invalid;
  }

 private:
  std::string_view s_;
  std::size_t i_{0};
  bool lone_{false};

  void ws() {
    while (i_ < s_.size() && is_json_space(s_[i_])) ++i_;
  }
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }

  static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(std::size_t at_pos, unsigned& v) const {
    if (at_pos + 4 > s_.size()) return false;
    v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int h = hexval(s_[at_pos + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    return true;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // At '"'. The text is already known to be valid UTF-8.
  bool string(std::string& out) {
    ++i_;
    out.clear();
    for (;;) {
      if (i_ >= s_.size()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size()) return false;
      const char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(i_, cp)) return false;
          i_ += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo = 0;
            if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u' && hex4(i_ + 2, lo) && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
              i_ += 6;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              lone_ = true;
              cp = 0xFFFD;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            lone_ = true;
            cp = 0xFFFD;
          }
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
  }

  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool number() {
    if (at('-')) ++i_;
    if (at('0')) {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (at('.')) {
      ++i_;
      if (!digits()) return false;
    }
    if (at('e') || at('E')) {
      ++i_;
      if (at('+') || at('-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }
  bool literal(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }

  // ':' after ws, at a member name.
  bool member_name(std::string& key) {
    ws();
    if (!at('"') || !string(key)) return false;
    ws();
    if (!at(':')) return false;
    ++i_;
    return true;
  }

  bool run(jdoc& d) {
    std::vector<int> stack;
    std::string key;
    auto add = [&](jkind k) {
      const int id = static_cast<int>(d.nodes.size());
      jnode n;
      n.kind = k;
      n.begin = i_;
      if (!stack.empty()) {
        jnode& parent = d.nodes[static_cast<std::size_t>(stack.back())];
        if (parent.kind == jkind::object) n.key = key, d.max_string = std::max(d.max_string, key.size());
        parent.kids.push_back(id);
      }
      d.nodes.push_back(std::move(n));
      return id;
    };
    for (;;) {
      // A value.
      ws();
      if (i_ >= s_.size()) return false;
      const char c = s_[i_];
      bool closed_value = true;
      if (c == '{' || c == '[') {
        const int id = add(c == '{' ? jkind::object : jkind::array);
        const int depth = static_cast<int>(stack.size()) + 1;
        d.nodes[static_cast<std::size_t>(id)].depth = depth;
        d.max_depth = std::max(d.max_depth, depth);
        ++i_;
        stack.push_back(id);
        ws();
        if (at(c == '{' ? '}' : ']')) {
          ++i_;
          d.nodes[static_cast<std::size_t>(id)].end = i_;
          stack.pop_back();
        } else {
          if (c == '{' && !member_name(key)) return false;
          closed_value = false;
        }
      } else if (c == '"') {
        const int id = add(jkind::string);
        std::string v;
        if (!string(v)) return false;
        d.max_string = std::max(d.max_string, v.size());
        d.nodes[static_cast<std::size_t>(id)].str = std::move(v);
        d.nodes[static_cast<std::size_t>(id)].end = i_;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        const int id = add(jkind::number);
        if (!number()) return false;
        d.nodes[static_cast<std::size_t>(id)].end = i_;
      } else if (c == 't' || c == 'f' || c == 'n') {
        const int id = add(c == 'n' ? jkind::null : jkind::boolean);
        if (!literal(c == 't' ? "true" : c == 'f' ? "false" : "null")) return false;
        d.nodes[static_cast<std::size_t>(id)].end = i_;
      } else {
        return false;
      }
      if (!closed_value) continue;  // the first member or element of a new container
      // After a complete value: close containers, or go on with the next member/element.
      for (;;) {
        ws();
        if (stack.empty()) return i_ == s_.size();
        if (i_ >= s_.size()) return false;
        jnode& top = d.nodes[static_cast<std::size_t>(stack.back())];
        const char sep = s_[i_];
        if (sep == ',') {
          ++i_;
          if (top.kind == jkind::object && !member_name(key)) return false;
          break;
        }
        if (sep == (top.kind == jkind::object ? '}' : ']')) {
          ++i_;
          top.end = i_;
          stack.pop_back();
          continue;
        }
        return false;
      }
    }
  }
};

// ---------------------------------------------------------------------------------------
// Expectations derived from the reference parse.

enum class known { correlation_id, country_iso_code, contact_id, zip_code };
constexpr std::array<std::string_view, 4> kKnownNames = {"correlation_id", "country_iso_code", "contact_id",
                                                         "zip_code"};

struct ref_field {
  field_kind kind{field_kind::absent};
  std::string text;
};

struct ref_contact {
  std::size_t begin{0}, end{0};  // exact bytes of the object
  std::array<ref_field, 4> f{};  // indexed by `known`
};

struct ref_structure {
  std::set<detail> possible;  // MALFORMED_PAYLOAD details the payload can legitimately get
  bool definite{false};       // the payload must be malformed
  std::vector<ref_contact> contacts;
};

ref_contact contact_of(const jdoc& d, const jnode& obj) {
  ref_contact c;
  c.begin = obj.begin;
  c.end = obj.end;
  std::array<bool, 4> seen{};
  for (int k : obj.kids) {
    const jnode& m = d.nodes[static_cast<std::size_t>(k)];
    for (std::size_t f = 0; f < 4; ++f) {
      if (m.key != kKnownNames[f] || seen[f]) continue;
      seen[f] = true;
      c.f[f].kind = m.kind == jkind::string ? field_kind::string : field_kind::wrong_type;
      c.f[f].text = m.kind == jkind::string ? m.str : std::string{};
    }
  }
  return c;
}

bool repeats_known_key(const jdoc& d, const jnode& obj) {
  std::array<int, 4> n{};
  for (int k : obj.kids) {
    const jnode& m = d.nodes[static_cast<std::size_t>(k)];
    for (std::size_t f = 0; f < 4; ++f) {
      if (m.key == kKnownNames[f] && ++n[f] > 1) return true;
    }
  }
  return false;
}

void contact_array(const jdoc& d, const jnode& arr, ref_structure& st) {
  if (arr.kids.empty()) st.possible.insert(detail::no_contacts), st.definite = true;
  if (arr.kids.size() > kLimits.max_contacts) st.possible.insert(detail::too_many_contacts), st.definite = true;
  for (int k : arr.kids) {
    const jnode& el = d.nodes[static_cast<std::size_t>(k)];
    if (el.kind != jkind::object) {
      st.possible.insert(detail::element_not_object);
      st.definite = true;
      continue;
    }
    if (repeats_known_key(d, el)) st.possible.insert(detail::duplicate_key), st.definite = true;
    st.contacts.push_back(contact_of(d, el));
  }
}

// For a valid JSON text with a container root.
ref_structure structure_of(const jdoc& d) {
  ref_structure st;
  if (static_cast<std::size_t>(d.max_depth) > kLimits.max_depth)
    st.possible.insert(detail::too_deep), st.definite = true;
  if (d.max_string > kLimits.max_string_bytes) st.possible.insert(detail::string_too_long), st.definite = true;
  const jnode& root = d.nodes[0];
  if (root.kind == jkind::array) {
    contact_array(d, root, st);
    return st;
  }
  std::vector<const jnode*> contacts_values;
  for (int k : root.kids) {
    const jnode& m = d.nodes[static_cast<std::size_t>(k)];
    if (m.key == "contacts") contacts_values.push_back(&m);
  }
  if (contacts_values.empty()) {
    if (repeats_known_key(d, root)) st.possible.insert(detail::duplicate_key), st.definite = true;
    st.contacts.push_back(contact_of(d, root));
    return st;
  }
  // A bulk request. Whether the four contact keys of the request object itself are "read"
  // (so that repeating one is DUPLICATE_KEY) is not specified: allowed, not required.
  if (repeats_known_key(d, root)) st.possible.insert(detail::duplicate_key);
  if (contacts_values.size() > 1) st.possible.insert(detail::duplicate_key), st.definite = true;
  for (const jnode* v : contacts_values) {
    if (v->kind != jkind::array) st.possible.insert(detail::contacts_not_array), st.definite = true;
  }
  if (contacts_values[0]->kind == jkind::array) contact_array(d, *contacts_values[0], st);
  return st;
}

// ---------------------------------------------------------------------------------------
// The expected reasons of one contact, per field: the allowed details, and whether "no
// reason" is allowed.
struct expectation {
  bool none_ok{false};
  std::set<detail> details;
  std::int64_t number{-1};          // DUPLICATE_IN_REQUEST: index of the first contact with the id
  std::set<cg::e164_problem> e164;  // NOT_E164: the problems that apply
};

struct tables {
  cg::validate::reference_phone_validator phones;
  std::set<std::string> iso;                                // assigned alpha-2 codes, from iso-codes
  std::map<std::string, std::unique_ptr<re2::RE2>> postal;  // has postal codes: pattern; else null
};

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool valid_correlation_id(std::string_view s) { return s.size() == 32 && std::all_of(s.begin(), s.end(), is_hex); }

bool uuid_form(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

std::string ascii_upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return u;
}

std::string ascii_lower(std::string_view s) {
  std::string u(s);
  for (char& c : u) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return u;
}

std::string_view trim(std::string_view s, std::string_view spaces) {
  while (!s.empty() && spaces.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (!s.empty() && spaces.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

std::array<expectation, 4> expected_reasons(const tables& t, const ref_contact& c,
                                            std::optional<std::uint32_t> duplicate_of) {
  std::array<expectation, 4> e{};
  // correlation_id
  {
    expectation& x = e[0];
    const ref_field& f = c.f[static_cast<std::size_t>(known::correlation_id)];
    if (f.kind == field_kind::absent) {
      x.details = {detail::missing};
    } else if (f.kind == field_kind::wrong_type) {
      x.details = {detail::wrong_type};
    } else if (valid_correlation_id(f.text)) {
      if (duplicate_of) {
        x.details = {detail::duplicate_in_request};
        x.number = *duplicate_of;
      } else {
        x.none_ok = true;
      }
    } else if (uuid_form(f.text)) {
      x.details = {detail::hyphenated};
    } else {
      // "exactly 32 hexadecimal characters": 32 characters that are not all hex are NOT_HEX,
      // another length is WRONG_LENGTH. Characters vs bytes is left open for non-ASCII text.
      const bool len32_bytes = f.text.size() == 32, len32_chars = code_points(f.text) == 32;
      if (len32_bytes && len32_chars) {
        x.details = {detail::not_hex};
      } else if (!len32_bytes && !len32_chars) {
        x.details = {detail::wrong_length};
      } else {
        x.details = {detail::not_hex, detail::wrong_length};
      }
    }
  }
  // country_iso_code
  bool country_ok = false;
  const ref_field& country = c.f[static_cast<std::size_t>(known::country_iso_code)];
  {
    expectation& x = e[1];
    if (country.kind == field_kind::absent) {
      x.details = {detail::missing};
    } else if (country.kind == field_kind::wrong_type) {
      x.details = {detail::wrong_type};
    } else if (t.iso.count(country.text)) {
      x.none_ok = true;
      country_ok = true;
    } else if (ascii_upper(country.text) != country.text && t.iso.count(ascii_upper(country.text))) {
      x.details = {detail::not_uppercase};
    } else {
      x.details = {detail::not_assigned};
    }
  }
  // contact_id
  {
    expectation& x = e[2];
    const ref_field& f = c.f[static_cast<std::size_t>(known::contact_id)];
    if (f.kind == field_kind::absent) {
      x.details = {detail::missing};
    } else if (f.kind == field_kind::wrong_type) {
      x.details = {detail::wrong_type};
    } else {
      const std::string_view s = f.text;
      const std::string_view digits = s.empty() ? s : s.substr(1);
      const bool e164 = !s.empty() && s[0] == '+' && !digits.empty() && digits.size() <= 15 &&
                        std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                        digits[0] != '0';
      if (!e164) {
        x.details = {detail::not_e164};
        // Which problem is reported when several apply is not specified: one that applies.
        if (s.empty() || s[0] != '+') {
          x.e164 = {cg::e164_problem::no_plus};
        } else if (digits.empty()) {
          x.e164 = {cg::e164_problem::no_digits};
        } else {
          if (!std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            x.e164.insert(cg::e164_problem::non_digit);
          if (digits.size() > 15) x.e164.insert(cg::e164_problem::too_many_digits);
          if (digits[0] == '0') x.e164.insert(cg::e164_problem::leading_zero);
        }
      } else {
        const cg::phone_verdict v = t.phones.check(s);
        if (v == cg::phone_verdict::valid) {
          x.none_ok = true;
        } else {
          x.details = {cg::to_detail(v)};
        }
      }
    }
  }
  // zip_code: optional; judged only when the country is valid. A zip of the wrong type with
  // an invalid country may or may not be reported (the README does not say).
  {
    expectation& x = e[3];
    const ref_field& f = c.f[static_cast<std::size_t>(known::zip_code)];
    if (f.kind == field_kind::absent) {
      x.none_ok = true;
    } else if (f.kind == field_kind::wrong_type) {
      x.details = {detail::wrong_type};
      x.none_ok = !country_ok;
    } else if (!country_ok) {
      x.none_ok = true;
    } else {
      // "after trimming ASCII whitespace": whether VT counts is left open.
      for (std::string_view spaces : {std::string_view(" \t\n\r\f"), std::string_view(" \t\n\r\f\v")}) {
        const std::string_view z = trim(f.text, spaces);
        auto it = t.postal.find(country.text);
        if (z.empty() || it == t.postal.end()) {
          x.none_ok = true;  // blank, or a country without a row (not expected: every code has one)
        } else if (!it->second) {
          x.details.insert(detail::country_has_no_postal_codes);
        } else if (re2::RE2::FullMatch(re2::StringPiece(z.data(), z.size()), *it->second)) {
          x.none_ok = true;
        } else {
          x.details.insert(detail::format_mismatch);
        }
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------
// The fixed vocabulary: which field and details each code may carry.
bool detail_fits(reason_code code, detail d) {
  switch (code) {
    case reason_code::invalid_correlation_id:
      return d == detail::missing || d == detail::wrong_type || d == detail::wrong_length || d == detail::not_hex ||
             d == detail::hyphenated || d == detail::duplicate_in_request;
    case reason_code::invalid_country_iso_code:
      return d == detail::missing || d == detail::wrong_type || d == detail::not_uppercase || d == detail::not_assigned;
    case reason_code::invalid_contact_id:
      return d == detail::missing || d == detail::wrong_type || d == detail::not_e164 ||
             d == detail::invalid_country_code || d == detail::too_short || d == detail::too_long ||
             d == detail::invalid_length || d == detail::is_possible_local_only || d == detail::not_valid;
    case reason_code::invalid_zip_code:
      return d == detail::wrong_type || d == detail::format_mismatch || d == detail::country_has_no_postal_codes;
    case reason_code::malformed_payload: return d >= detail::empty_payload && d <= detail::too_many_contacts;
    case reason_code::internal_server_error: return false;  // reserved for the stream processor
  }
  return false;
}

cg::field_id field_of(reason_code code) {
  switch (code) {
    case reason_code::invalid_correlation_id: return cg::field_id::correlation_id;
    case reason_code::invalid_country_iso_code: return cg::field_id::country_iso_code;
    case reason_code::invalid_contact_id: return cg::field_id::contact_id;
    case reason_code::invalid_zip_code: return cg::field_id::zip_code;
    default: return cg::field_id::none;
  }
}

// ---------------------------------------------------------------------------------------
std::optional<std::string> base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0, ++pad;
      } else {
        if (pad) return std::nullopt;
        v[k] = val(c);
        if (v[k] < 0) return std::nullopt;
      }
    }
    const unsigned w = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return out;
}

std::string header(const cg::emit::out_message& m, const cg::emit::source_info& src, std::string_view name) {
  for (const auto& h : cg::emit::collect_headers(m, src)) {
    if (h.name == name) return h.value;
  }
  return "\x01<absent>";
}

// ---------------------------------------------------------------------------------------
// CG_FUZZ_STATS=1: at exit, print what the inputs exercised (outcomes, details, oracle paths).
std::map<std::string, std::uint64_t> g_stats;
bool g_stats_on = false;
void count(const std::string& what) {
  if (g_stats_on) ++g_stats[what];
}
void print_stats() {
  std::fprintf(stderr, "cg_payload_fuzz stats:\n");
  for (const auto& [k, v] : g_stats) {
    std::fprintf(stderr, "  %-56s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  }
}

// What a rejection record must say. `record` is the contact's exact bytes (json), the
// payload's bytes (raw: a string when valid UTF-8, else base64), or nothing (omitted).
struct rejection_spec {
  const cg::reason_list* reasons{nullptr};
  const cg::field_value* correlation_id{nullptr};  // null: no contact (payload-level)
  enum { json, raw, omitted } record{json};
  std::string_view bytes;
  std::int64_t index{-1};  // -1: null
  bool malformed{false};
  bool retryable{false};
  bool parse{true};  // false: headers, key and reasons only (the JSON value is not parsed)
};

struct harness {
  tables t;
  cg::validate::rule_set rules{t.phones, cg::validate::postal_table::builtin()};
  cg::validate::payload_validator validator{rules, kLimits};
  cg::emit::validator_info info = cg::emit::make_validator_info("fuzz", "phone", "iso", "postal");
  cg::emit::source_info src{"contacts.upsert", 3, 1834, 1795801295000, false, {}};
  simdjson::dom::parser dom;                          // the payload (depth capped at 64)
  simdjson::dom::parser record_dom;                   // the rejection records
  simdjson::error_code dom_error{simdjson::SUCCESS};  // the payload's DOM parse
  ref_json ref;
  jdoc doc;
  jdoc record_doc;
  cg::payload_outcome outcome;
  cg::emit::out_list outputs;

  harness() {
    if (dom.allocate(kLimits.max_payload_bytes + 64, 64)) std::abort();
    simdjson::dom::parser p;
    simdjson::dom::element iso;
    if (p.load(CG_ISO_CODES_JSON).get(iso)) {
      std::fprintf(stderr, "cg_payload_fuzz: cannot read %s\n", CG_ISO_CODES_JSON);
      std::abort();
    }
    for (simdjson::dom::element e : iso["3166-1"].get_array()) {
      std::string_view a2;
      if (!e["alpha_2"].get(a2)) t.iso.emplace(a2);
    }
    for (const auto& row : rules.postal.rows()) {
      std::unique_ptr<re2::RE2> re;
      if (row.has_postal_codes) {
        re2::RE2::Options o;
        o.set_case_sensitive(false);
        o.set_log_errors(false);
        re = std::make_unique<re2::RE2>(row.pattern, o);
      }
      t.postal.emplace(row.code, std::move(re));
    }
    if (t.iso.size() < 240) {
      std::fprintf(stderr, "cg_payload_fuzz: only %zu ISO codes read\n", t.iso.size());
      std::abort();
    }
  }

  void run(std::string_view payload);
  void check_rejection(const cg::emit::out_message& m, const rejection_spec& want);
  void check_contact_output(const cg::contact_outcome& c, const cg::emit::out_message& m);
  void check_internal_error_outputs(std::string_view payload);
  void check_against_reference(std::string_view text);
  void check_dom(std::string_view text);
};

void check_reason_json(simdjson::dom::element r, const cg::reason& want) {
  std::string_view code, det, msg;
  CHECK(!r["code"].get(code) && code == cg::to_string(want.code), "reason JSON: code");
  CHECK(!r["detail"].get(det) && det == cg::to_string(want.what), "reason JSON: detail");
  CHECK(!r["message"].get(msg) && !msg.empty(), "reason JSON: message");
  if (want.field == cg::field_id::none) {
    CHECK(r["field"].is_null(), "reason JSON: field null");
  } else {
    std::string_view f;
    CHECK(!r["field"].get(f) && f == cg::to_string(want.field), "reason JSON: field");
  }
  std::int64_t off = -1;
  if (want.byte_offset >= 0) CHECK(!r["byte_offset"].get(off) && off == want.byte_offset, "reason JSON: byte_offset");
}

std::string reasons_header(const cg::reason_list& rl) {
  std::string h;
  for (const cg::reason& r : rl) {
    if (!h.empty()) h.push_back(',');
    h.append(cg::to_string(r.code)).append(":").append(cg::to_string(r.what));
  }
  return h;
}

void harness::check_rejection(const cg::emit::out_message& m, const rejection_spec& want) {
  const bool id_is_string = want.correlation_id && want.correlation_id->kind == field_kind::string;
  CHECK(m.dest == cg::emit::destination::rejected && m.malformed == want.malformed, "rejection: rejected topic, flag");
  CHECK(m.reasons.size == want.reasons->size && std::equal(m.reasons.begin(), m.reasons.end(), want.reasons->begin()),
        "rejection: its reasons");
  CHECK(m.has_key() == id_is_string && (!id_is_string || m.key() == want.correlation_id->text),
        "rejection without input key: key is the correlation_id when it is a string, else none");
  CHECK(header(m, src, cg::emit::h_error_code) == "30647", "rejection: error code header");
  CHECK(header(m, src, cg::emit::h_error_reasons) == reasons_header(*want.reasons), "rejection: reasons header");
  const std::string index_header = want.index >= 0 ? std::to_string(want.index) : "\x01<absent>";
  CHECK(header(m, src, cg::emit::h_source_index) == index_header, "rejection: index header");

  if (!want.parse) return;
  // A json record is the contact's exact bytes, so it may hold numbers beyond the DOM's range
  // (valid JSON for contactgate): the reference parser judges the whole value, the DOM
  // reads it with the record replaced by {}.
  std::string_view value = m.value();
  std::string stripped;
  if (want.record == rejection_spec::json) {
    const std::string member = "\"record\":" + std::string(want.bytes) + ",";
    const std::size_t at = m.value().find(member);
    CHECK(at != std::string::npos, "rejection record: record is the contact's exact bytes");
    stripped = m.value();
    stripped.replace(at, member.size(), "\"record\":{},");
    value = stripped;
  }
  ref.parse(m.value(), record_doc);
  CHECK(record_doc.status != jstatus::invalid, "rejection record is valid JSON (RFC 8259)");
  simdjson::dom::element v;
  CHECK(!record_dom.parse(value.data(), value.size()).get(v), "rejection record is valid JSON (simdjson DOM)");

  std::int64_t code = 0;
  CHECK(!v["error_code"].get(code) && code == 30647, "rejection record: error_code");
  bool retryable = !want.retryable;
  CHECK(!v["retryable"].get(retryable) && retryable == want.retryable, "rejection record: retryable");
  if (id_is_string) {
    std::string_view id;
    CHECK(!v["correlation_id"].get(id) && id == want.correlation_id->text, "rejection record: correlation_id string");
  } else {
    CHECK(v["correlation_id"].is_null(), "rejection record: correlation_id null");
  }
  simdjson::dom::array reasons;
  CHECK(!v["reasons"].get(reasons) && reasons.size() == want.reasons->size, "rejection record: reasons count");
  std::size_t i = 0;
  for (simdjson::dom::element r : reasons) check_reason_json(r, want.reasons->items[i++]);
  if (want.index >= 0) {
    std::int64_t index = -1;
    CHECK(!v["source"]["index"].get(index) && index == want.index, "rejection record: source.index");
  } else {
    CHECK(v["source"]["index"].is_null(), "rejection record: source.index null");
  }
  std::string_view enc;
  CHECK(!v["record_encoding"].get(enc), "rejection record: record_encoding");
  switch (want.record) {
    case rejection_spec::json: CHECK(enc == "json", "rejection record: record_encoding json"); break;
    case rejection_spec::omitted:
      CHECK(enc == "omitted" && v["record"].is_null(), "rejection record: omitted record is null");
      break;
    case rejection_spec::raw: {
      std::string_view rec;
      CHECK(!v["record"].get(rec), "rejection record: a payload's record is a string");
      if (first_invalid_utf8(want.bytes) == std::string_view::npos) {
        CHECK(enc == "string" && rec == want.bytes, "rejection record, valid UTF-8: record is the payload as a string");
      } else {
        const auto decoded = base64_decode(rec);
        CHECK(enc == "base64" && decoded && *decoded == want.bytes, "rejection record, not UTF-8: record is base64");
      }
      break;
    }
  }
}

void harness::check_contact_output(const cg::contact_outcome& c, const cg::emit::out_message& m) {
  if (!c.accepted()) {
    check_rejection(m, {&c.reasons, &c.correlation_id, rejection_spec::json, c.raw, c.index, false, false});
    return;
  }
  CHECK(m.dest == cg::emit::destination::accepted, "accepted contact: accepted topic");
  CHECK(m.value() == c.raw, "accepted contact: value is the contact's exact bytes");
  CHECK(c.correlation_id.kind == field_kind::string && m.has_key() && m.key() == c.correlation_id.text,
        "accepted contact: key is the correlation_id");
  CHECK(header(m, src, cg::emit::h_source_index) == std::to_string(c.index), "accepted contact: index header");
  CHECK(header(m, src, cg::emit::h_correlation_id) == c.correlation_id.text, "accepted contact: correlation_id header");
}

// The INTERNAL_SERVER_ERROR records the stream processor writes when it fails itself:
// one per contact of a readable payload, else one with the payload's bytes; and the
// stand-in without a record for an output Kafka refused.
void harness::check_internal_error_outputs(std::string_view payload) {
  cg::reason isr;
  isr.code = reason_code::internal_server_error;
  isr.field = cg::field_id::none;
  isr.what = detail::processing_failed;
  isr.note = "fuzz";
  cg::reason_list rl;
  rl.push(isr);
  outputs.clear();
  cg::emit::build_internal_error_outputs(&outcome, payload, src, info, kNowMs, "fuzz", outputs);
  if (outcome.malformed) {
    CHECK(outputs.size() == 1, "internal error, unreadable payload: one output");
    check_rejection(outputs[0], {&rl, nullptr, rejection_spec::raw, payload, -1, false, true});
    return;
  }
  CHECK(outputs.size() == outcome.contacts.size(), "internal error: one output per contact");
  // The records are rendered by the same code as the rejections checked above: parse the
  // first contact's, check the headers, key and reasons of the others (keeps exec/s up).
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const cg::contact_outcome& c = outcome.contacts[i];
    const bool parse = i == 0;
    check_rejection(outputs[i], {&rl, &c.correlation_id, rejection_spec::json, c.raw, c.index, false, true, parse});
    if (c.correlation_id.kind != field_kind::string || c.correlation_id.text.empty()) continue;
    const cg::emit::out_message m =
        cg::emit::internal_error_without_record(c.correlation_id.text, src, c.index, info, kNowMs, "fuzz");
    check_rejection(m, {&rl, &c.correlation_id, rejection_spec::omitted, {}, c.index, false, true, parse});
  }
}

void harness::run(std::string_view payload) {
  validator.validate(payload, outcome);
  outputs.clear();
  cg::emit::build_outputs(outcome, payload, src, info, kNowMs, outputs);

  std::string_view text = payload;
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());

  // --- shape of the outcome and its records ---
  if (outcome.malformed) {
    const cg::reason& r = outcome.malformed_reason;
    CHECK(outcome.contacts.empty(), "malformed: no contacts");
    CHECK(r.code == reason_code::malformed_payload && r.field == cg::field_id::none,
          "malformed: code MALFORMED_PAYLOAD, no field");
    CHECK(detail_fits(r.code, r.what), "malformed: a MALFORMED_PAYLOAD detail");
    CHECK(r.byte_offset >= -1 && r.byte_offset <= static_cast<std::int64_t>(payload.size()),
          "malformed: byte_offset inside the payload");
    CHECK(outputs.size() == 1, "malformed payload: exactly one output");
    cg::reason_list rl;
    rl.push(r);
    check_rejection(outputs[0], {&rl, nullptr, rejection_spec::raw, payload, -1, true, false});
  } else {
    CHECK(!outcome.contacts.empty() && outcome.contacts.size() <= kLimits.max_contacts,
          "not malformed: 1..max_contacts contacts");
    CHECK(outputs.size() == outcome.contacts.size(), "one output per contact");
    for (std::size_t i = 0; i < outcome.contacts.size(); ++i) {
      const cg::contact_outcome& c = outcome.contacts[i];
      CHECK(c.index == i, "contact index is its position");
      CHECK(c.raw.size() >= 2 && c.raw.front() == '{' && c.raw.back() == '}', "contact raw is an object's bytes");
      CHECK(c.reasons.size <= 4, "at most four reasons");
      for (std::size_t k = 0; k < c.reasons.size; ++k) {
        const cg::reason& r = c.reasons.items[k];
        CHECK(r.code <= reason_code::invalid_zip_code, "contact reason: a field rule");
        CHECK(k == 0 || c.reasons.items[k - 1].code < r.code, "contact reasons: one per field, in the fixed order");
        CHECK(r.field == field_of(r.code), "contact reason: field matches code");
        CHECK(detail_fits(r.code, r.what), "contact reason: detail belongs to the code");
        CHECK((r.what == detail::not_e164) == (r.e164 != cg::e164_problem::none), "NOT_E164 carries its problem");
      }
      check_contact_output(c, outputs[i]);
    }
  }

  // --- limits and whole-payload details ---
  const cg::reason& mr = outcome.malformed_reason;
  const bool too_large = payload.size() > kLimits.max_payload_bytes;
  CHECK(too_large == (outcome.malformed && mr.what == detail::too_large), "TOO_LARGE exactly when over the limit");
  if (too_large) return;
  if (payload.empty()) CHECK(outcome.malformed && mr.what == detail::empty_payload, "empty payload: EMPTY_PAYLOAD");
  if (outcome.malformed && mr.what == detail::empty_payload) {
    CHECK(std::all_of(text.begin(), text.end(), is_json_space), "EMPTY_PAYLOAD: nothing but whitespace");
  }
  if (outcome.malformed && mr.what == detail::too_deep) CHECK(mr.number == 32, "TOO_DEEP names the limit");
  if (outcome.malformed && mr.what == detail::too_many_contacts)
    CHECK(mr.number == 100, "TOO_MANY_CONTACTS names the limit");
  if (outcome.malformed && mr.what == detail::string_too_long)
    CHECK(mr.number == 1024, "STRING_TOO_LONG names the limit");

  const std::size_t bad_utf8 = first_invalid_utf8(text);
  if (bad_utf8 != std::string_view::npos) {
    CHECK(outcome.malformed, "invalid UTF-8: malformed");
  }
  // UTF-16/32 input (issue 12): a UTF-16 BOM, or RFC 4627's NUL patterns with a fitting
  // length, is INVALID_UTF8 at its first byte even when its bytes happen to be valid UTF-8.
  const bool foreign = looks_utf16_or_utf32(text);
  const auto bom_bytes = static_cast<std::int64_t>(payload.size() - text.size());
  if (foreign) CHECK(outcome.malformed && mr.what == detail::invalid_utf8, "UTF-16/32 input: INVALID_UTF8");
  if (outcome.malformed && mr.what == detail::invalid_utf8) {
    if (foreign) {
      CHECK(mr.byte_offset == bom_bytes, "INVALID_UTF8 for UTF-16/32: byte_offset is its first byte");
    } else {
      CHECK(bad_utf8 != std::string_view::npos, "INVALID_UTF8: the payload really is not UTF-8");
      CHECK(mr.byte_offset == static_cast<std::int64_t>(bad_utf8) + bom_bytes,
            "INVALID_UTF8: byte_offset is the first invalid byte");
    }
  }
  if (outcome.malformed && (mr.what == detail::invalid_json || mr.what == detail::invalid_utf8)) {
    CHECK(mr.byte_offset >= 0 && mr.byte_offset <= static_cast<std::int64_t>(payload.size()),
          "INVALID_JSON/INVALID_UTF8: a byte_offset inside the payload (or its end)");
  }

  if (g_stats_on) {
    if (outcome.malformed) count("outcome: MALFORMED_PAYLOAD/" + std::string(cg::to_string(mr.what)));
    if (!outcome.malformed) count("outcome: contacts");
    for (const auto& c : outcome.contacts) {
      if (c.accepted()) count("contact: accepted");
      for (const cg::reason& r : c.reasons) {
        count("contact: " + std::string(cg::to_string(r.code)) + "/" + std::string(cg::to_string(r.what)));
      }
    }
  }
  check_dom(text);
  if (bad_utf8 == std::string_view::npos && !foreign) check_against_reference(text);
  check_internal_error_outputs(payload);
}

// The differential the issue asks for, with simdjson's DOM parser.
void harness::check_dom(std::string_view text) {
  simdjson::dom::element root;
  const simdjson::error_code e = dom.parse(text.data(), text.size()).get(root);
  dom_error = e;
  if (!outcome.malformed) {
    // JSON numbers of any size are valid for contactgate; the DOM refuses those beyond
    // double/uint64 (NUMBER_ERROR). The reference parser covers them.
    CHECK(e == simdjson::SUCCESS || e == simdjson::NUMBER_ERROR,
          "accepted as JSON by contactgate but simdjson DOM refuses it");
  }
  if (g_stats_on) count(std::string("dom: ") + (e == simdjson::SUCCESS ? "valid" : simdjson::error_message(e)));
  if (e != simdjson::SUCCESS) return;  // includes DEPTH_ERROR: deeper than 64
  // DOM: valid JSON, depth <= 64. Depth <= 32 with an object root or an array root of
  // objects must not be INVALID_JSON / INVALID_UTF8 / EMPTY_PAYLOAD.
  struct frame {
    simdjson::dom::element el;
    int depth;
  };
  int max_depth = 0;
  std::vector<frame> stack{{root, 1}};
  while (!stack.empty()) {
    const frame f = stack.back();
    stack.pop_back();
    if (f.el.is_object()) {
      max_depth = std::max(max_depth, f.depth);
      const simdjson::dom::object o = f.el.get_object().value_unsafe();
      for (auto field : o) stack.push_back({field.value, f.depth + 1});
    } else if (f.el.is_array()) {
      max_depth = std::max(max_depth, f.depth);
      const simdjson::dom::array a = f.el.get_array().value_unsafe();
      for (auto el : a) stack.push_back({el, f.depth + 1});
    }
  }
  bool shaped = root.is_object();
  if (root.is_array()) {
    shaped = true;
    const simdjson::dom::array a = root.get_array().value_unsafe();
    for (auto el : a) shaped = shaped && el.is_object();
  }
  if (max_depth <= 32 && shaped && outcome.malformed) {
    CHECK(outcome.malformed_reason.what != detail::invalid_json &&
              outcome.malformed_reason.what != detail::invalid_utf8 &&
              outcome.malformed_reason.what != detail::empty_payload,
          "simdjson DOM accepts the payload but contactgate says INVALID_JSON/INVALID_UTF8/EMPTY_PAYLOAD");
  }
}

// The stronger differential, with the reference parser (valid UTF-8 only).
void harness::check_against_reference(std::string_view text) {
  ref.parse(text, doc);
  const cg::reason& mr = outcome.malformed_reason;

  // Oracle sanity: simdjson's DOM and the reference parser agree on validity.
  {
    const simdjson::error_code e = dom_error;
    if (e == simdjson::SUCCESS) CHECK(doc.status == jstatus::valid, "ORACLE: DOM accepts, reference parser refuses");
    if (doc.status == jstatus::valid && doc.max_depth <= 64) {
      CHECK(e == simdjson::SUCCESS || e == simdjson::NUMBER_ERROR, "ORACLE: reference parser accepts, DOM refuses");
    }
  }

  count(doc.status == jstatus::valid     ? "reference: valid JSON"
        : doc.status == jstatus::invalid ? "reference: invalid JSON"
                                         : "reference: lone surrogate (skipped)");
  if (doc.status == jstatus::unspecified) return;  // lone surrogate escape: RFC 8259 §8.2
  if (doc.status == jstatus::invalid) {
    CHECK(outcome.malformed, "not valid JSON (RFC 8259) but not malformed");
    CHECK(mr.what != detail::root_not_container, "ROOT_NOT_CONTAINER for a payload that is not valid JSON");
    // Issue 12: not JSON is INVALID_JSON whatever the shape or depth (blank is EMPTY_PAYLOAD).
    CHECK(mr.what == detail::invalid_json || mr.what == detail::empty_payload,
          "not valid JSON (RFC 8259) but not INVALID_JSON");
    return;
  }
  // Valid JSON.
  CHECK(!(outcome.malformed &&
          (mr.what == detail::invalid_json || mr.what == detail::invalid_utf8 || mr.what == detail::empty_payload)),
        "valid JSON (RFC 8259) but INVALID_JSON/INVALID_UTF8/EMPTY_PAYLOAD");
  const jnode& root = doc.nodes[0];
  if (root.kind != jkind::object && root.kind != jkind::array) {
    // A long string as the root breaks two rules: either may be reported.
    CHECK(outcome.malformed && (mr.what == detail::root_not_container ||
                                (mr.what == detail::string_too_long && doc.max_string > kLimits.max_string_bytes)),
          "a valid scalar root: ROOT_NOT_CONTAINER");
    return;
  }
  const ref_structure st = structure_of(doc);
  count(st.definite ? "reference: container root, must be malformed" : "reference: container root, contacts readable");
  if (outcome.malformed) {
    CHECK(st.possible.count(mr.what) == 1, "MALFORMED_PAYLOAD detail does not fit the payload");
    return;
  }
  CHECK(!st.definite, "payload must be malformed (depth, contacts, duplicate key) but is not");
  CHECK(st.contacts.size() == outcome.contacts.size(), "contact count differs from the reference parser");

  count("reference: contacts compared field by field");
  // DUPLICATE_IN_REQUEST: later contacts with the same valid id (case-insensitive).
  std::unordered_map<std::string, std::uint32_t> first_with;
  for (std::size_t i = 0; i < st.contacts.size(); ++i) {
    const ref_contact& rc = st.contacts[i];
    const cg::contact_outcome& c = outcome.contacts[i];
    CHECK(c.raw == text.substr(rc.begin, rc.end - rc.begin), "contact raw differs from the object's exact bytes");
    const ref_field& id = rc.f[static_cast<std::size_t>(known::correlation_id)];
    CHECK(c.correlation_id.kind == id.kind && (id.kind != field_kind::string || c.correlation_id.text == id.text),
          "correlation_id differs from the reference parser");
    std::optional<std::uint32_t> dup;
    if (id.kind == field_kind::string && valid_correlation_id(id.text)) {
      const auto [it, fresh] = first_with.emplace(ascii_lower(id.text), static_cast<std::uint32_t>(i));
      if (!fresh) dup = it->second;
    }
    const auto want = expected_reasons(t, rc, dup);
    for (std::size_t f = 0; f < 4; ++f) {
      const auto code = static_cast<reason_code>(f);
      const cg::reason* got = nullptr;
      for (const cg::reason& r : c.reasons) {
        if (r.code == code) got = &r;
      }
      if (got == nullptr) {
        CHECK(want[f].none_ok, "a contact rule failed but contactgate reports no reason for it");
      } else {
        CHECK(want[f].details.count(got->what) == 1, "a contact reason has the wrong detail (or should not be there)");
        if (got->what == detail::not_e164) {
          CHECK(want[f].e164.count(got->e164) == 1, "NOT_E164 names a problem the contact_id does not have");
        }
        if (got->what == detail::duplicate_in_request) {
          CHECK(got->number == want[f].number, "DUPLICATE_IN_REQUEST must name the first contact's index");
        }
      }
    }
  }
}

harness* the_harness = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static harness h;
  the_harness = &h;
  if (const char* e = std::getenv("CG_FUZZ_STATS"); e != nullptr && *e != '\0' && *e != '0') {
    g_stats_on = true;
    std::atexit(print_stats);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  the_harness->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
