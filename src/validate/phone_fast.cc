// fast_phone_validator: libphonenumber's Parse(n, "ZZ") + IsValidNumber +
// IsPossibleNumberWithReason, re-implemented over libphonenumber's own metadata with
// table-driven automata (see phone_fast.h). Each step below names the libphonenumber
// function (phonenumberutil.cc) whose behaviour it reproduces.
#include "validate/phone_fast.h"

#include <google/protobuf/arena.h>
#include <phonenumbers/phonemetadata.pb.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <list>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "validate/libphonenumber_metadata.h"

namespace cg::validate {

namespace pn = i18n::phonenumbers;

namespace phone_fast_detail {

// TestNumberLength's outcomes.
enum class length_result : std::uint8_t { possible, local_only, too_short, too_long, invalid_length };

inline constexpr std::size_t min_nsn = 2;               // PhoneNumberUtil::kMinLengthForNsn
inline constexpr std::size_t max_nsn = 17;              // PhoneNumberUtil::kMaxLengthForNsn
inline constexpr std::uint32_t general_bit = 1u << 31;  // signature: main region's general pattern matches
inline constexpr std::size_t max_lengths = 31;          // signature bits 0..30: valid at this NSN length
inline constexpr std::size_t candidate_capacity = 64;   // national number after prefix stripping

// A piece of national_prefix_transform_rule: literal digits, or a capture group's text.
struct transform_piece {
  std::string text;
  int group{-1};
};

// national_prefix_for_parsing (+ transform rule) of a calling code's main region.
struct prefix_rule {
  prefix_matcher matcher;
  bool has_transform{false};
  std::vector<transform_piece> transform;
  std::uint16_t first_digits{0x3FF};  // a match can only start with these digits (or may be empty)
};

struct calling_code {
  std::uint32_t start{0};   // DFA start row
  std::int32_t prefix{-1};  // index into tables::prefixes, -1: no national prefix for parsing
  std::array<length_result, max_lengths + 1> length{};  // TestNumberLength(main region, UNKNOWN)
};

struct tables {
  std::array<std::int16_t, 1000> index{};  // calling code -> codes[], -1: not a calling code
  std::vector<calling_code> codes;
  std::vector<prefix_rule> prefixes;
  std::vector<std::uint32_t> cells;
  std::size_t regions{0};
  std::size_t patterns{0};
};

namespace {

using desc_getter = const pn::PhoneNumberDesc& (pn::PhoneMetadata::*)() const;

// GetNumberTypeHelper's order after the general description. Order does not change validity
// (any match is a known type), but mobile is only consulted when its pattern differs.
constexpr desc_getter type_descs[] = {
    &pn::PhoneMetadata::premium_rate, &pn::PhoneMetadata::toll_free,       &pn::PhoneMetadata::shared_cost,
    &pn::PhoneMetadata::voip,         &pn::PhoneMetadata::personal_number, &pn::PhoneMetadata::pager,
    &pn::PhoneMetadata::uan,          &pn::PhoneMetadata::voicemail,       &pn::PhoneMetadata::fixed_line,
    &pn::PhoneMetadata::mobile,
};
constexpr std::size_t mobile_index = 9;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("fast_phone_validator: " + what); }

// IsNumberMatchingDesc's length test as a bit set over lengths 0..31 (an empty list: any length).
std::uint32_t length_mask(const pn::PhoneNumberDesc& d) {
  if (d.possible_length_size() == 0) return ~0u;
  std::uint32_t m = 0;
  for (int l : d.possible_length()) {
    if (l >= static_cast<int>(max_lengths)) fail("possible length " + std::to_string(l) + " too large");
    if (l >= 0) m |= 1u << l;
  }
  return m;
}

// TestNumberLength(number, metadata, UNKNOWN), exactly as written in libphonenumber.
length_result test_number_length(int actual, const pn::PhoneMetadata& md) {
  const auto& possible = md.general_desc().possible_length();
  const auto& local = md.general_desc().possible_length_local_only();
  if (possible.Get(0) == -1) return length_result::invalid_length;
  if (std::find(local.begin(), local.end(), actual) != local.end()) return length_result::local_only;
  const int minimum = possible.Get(0);
  if (minimum == actual) return length_result::possible;
  if (minimum > actual) return length_result::too_short;
  if (*(possible.end() - 1) < actual) return length_result::too_long;
  return std::find(possible.begin() + 1, possible.end(), actual) != possible.end() ? length_result::possible
                                                                                   : length_result::invalid_length;
}

// Digits a match of `n` can start with, and whether it can match without consuming any
// (anchors count as possibly empty: a superset is safe, it only disables the prefilter).
struct first_info {
  std::uint16_t digits{0};
  bool empty{false};
};
first_info first_of(const regex_node& n) {
  using k = regex_node::kind;
  switch (n.k) {
    case k::empty:
    case k::line_begin:
    case k::line_end: return {0, true};
    case k::chars: return {n.chars, false};
    case k::group: return first_of(n.kids[0]);
    case k::alt: {
      first_info f;
      for (const auto& kid : n.kids) {
        const first_info g = first_of(kid);
        f.digits = static_cast<std::uint16_t>(f.digits | g.digits);
        f.empty = f.empty || g.empty;
      }
      return f;
    }
    case k::concat: {
      first_info f{0, true};
      for (const auto& kid : n.kids) {
        const first_info g = first_of(kid);
        f.digits = static_cast<std::uint16_t>(f.digits | g.digits);
        if (!g.empty) {
          f.empty = false;
          break;
        }
      }
      return f;
    }
    case k::repeat: {
      if (n.max == 0) return {0, true};
      first_info f = first_of(n.kids[0]);
      f.empty = f.empty || n.min == 0;
      return f;
    }
  }
  return {0x3FF, true};
}

// ICU's appendReplacement syntax for national_prefix_transform_rule: `$n` (the longest digit run
// that is still a valid group number), `\x` for a literal x, anything else literal.
std::vector<transform_piece> parse_transform(const std::string& rule, int groups) {
  std::vector<transform_piece> out;
  auto literal = [&](char c) {
    if (c < '0' || c > '9') fail("non-digit in national_prefix_transform_rule '" + rule + "'");
    if (out.empty() || out.back().group >= 0) out.push_back({});
    out.back().text.push_back(c);
  };
  for (std::size_t i = 0; i < rule.size(); ++i) {
    const char c = rule[i];
    if (c == '\\') {
      if (i + 1 >= rule.size() || rule[i + 1] == 'u' || rule[i + 1] == 'U')
        fail("unsupported escape in '" + rule + "'");
      literal(rule[++i]);
    } else if (c == '$') {
      if (i + 1 >= rule.size() || rule[i + 1] < '0' || rule[i + 1] > '9') fail("unsupported '$' in '" + rule + "'");
      int g = 0, digits = 0;
      while (i + 1 < rule.size() && rule[i + 1] >= '0' && rule[i + 1] <= '9') {
        const int v = g * 10 + (rule[i + 1] - '0');
        if (v > groups) break;
        g = v;
        ++digits;
        ++i;
      }
      if (digits == 0) fail("group out of range in '" + rule + "'");
      out.push_back({{}, g});
    } else {
      literal(c);
    }
  }
  return out;
}

struct region_spec {
  bool has_ld{false};
  int ld_tag{-1};
  int general_tag{-1};
  std::uint32_t general_len{0};
  std::vector<std::pair<int, std::uint32_t>> types;  // tag, length mask
  bool country_code_ok{true};                        // IsValidNumberForRegion's calling-code check
};

bool has_tag(const std::vector<char>& present, int tag) {
  return tag >= 0 && present[static_cast<std::size_t>(tag)] != 0;
}

// GetNumberTypeHelper(...) != UNKNOWN for a number of length `len` whose DFA run accepted `present`.
bool known_type(const region_spec& r, const std::vector<char>& present, std::size_t len) {
  if (!has_tag(present, r.general_tag) || ((r.general_len >> len) & 1u) == 0) return false;
  return std::any_of(r.types.begin(), r.types.end(),
                     [&](const auto& t) { return has_tag(present, t.first) && ((t.second >> len) & 1u) != 0; });
}

pn::PhoneMetadataCollection* parse_collection(google::protobuf::Arena& arena) {
  auto* collection = google::protobuf::Arena::CreateMessage<pn::PhoneMetadataCollection>(&arena);
  if (!collection->ParseFromArray(pn::metadata_get(), pn::metadata_size()))
    fail("cannot parse libphonenumber metadata");
  return collection;
}

std::unique_ptr<tables> build_tables() {
  // The parsed collection lives in an arena: it is only read here, and its ~250 messages and
  // thousands of strings are then allocated in a few blocks and released at once.
  google::protobuf::Arena arena;
  const pn::PhoneMetadataCollection& collection = *parse_collection(arena);

  // PhoneNumberUtil's constructor: region -> metadata (first wins), non-geographic calling code
  // -> metadata, calling code -> region list (main country pushed to the front).
  std::unordered_map<std::string, const pn::PhoneMetadata*> by_region;
  std::map<int, const pn::PhoneMetadata*> non_geo;
  std::map<int, std::list<std::string>> regions_of;
  auto t = std::make_unique<tables>();
  for (const pn::PhoneMetadata& md : collection.metadata()) {
    if (md.id() == "ZZ") continue;
    ++t->regions;
    const int cc = md.country_code();
    if (md.id() == "001") {
      non_geo.emplace(cc, &md);
    } else {
      by_region.emplace(md.id(), &md);
    }
    auto it = regions_of.find(cc);
    if (it == regions_of.end()) {
      regions_of.emplace(cc, std::list<std::string>{md.id()});
    } else if (md.main_country_for_code()) {
      it->second.push_front(md.id());
    } else {
      it->second.push_back(md.id());
    }
  }

  t->index.fill(-1);
  for (const auto& [cc, region_list] : regions_of) {
    // ExtractCountryCode reads at most three digits: other codes can never be extracted.
    if (cc < 1 || cc > 999) continue;
    const std::string& main_id = region_list.front();
    const pn::PhoneMetadata* main_md = main_id == "001" ? non_geo.at(cc) : by_region.at(main_id);
    if (main_md->general_desc().possible_length_size() == 0) fail("no possible lengths for " + main_id);

    // One automaton for everything any region of this calling code may need.
    dfa_builder builder;
    std::size_t tag_count = 0;
    auto add = [&](const std::string& pattern, bool prefix) {
      ++tag_count;
      return builder.add(parse_regex(pattern), prefix);
    };
    std::vector<region_spec> specs;
    const bool single = region_list.size() == 1;
    for (const std::string& id : region_list) {
      if (!single && id == "001") fail("non-geographic entity shares calling code " + std::to_string(cc));
      const pn::PhoneMetadata* md = id == "001" ? non_geo.at(cc) : by_region.at(id);
      region_spec r;
      r.country_code_ok = id == "001" || md->country_code() == cc;
      r.has_ld = !single && md->has_leading_digits();
      if (r.has_ld) r.ld_tag = add(md->leading_digits(), true);
      const pn::PhoneNumberDesc& general = md->general_desc();
      if (!general.national_number_pattern().empty()) r.general_tag = add(general.national_number_pattern(), false);
      r.general_len = length_mask(general);
      for (std::size_t i = 0; i < std::size(type_descs); ++i) {
        if (i == mobile_index && md->same_mobile_and_fixed_line_pattern()) continue;
        const pn::PhoneNumberDesc& d = (md->*type_descs[i])();
        if (d.national_number_pattern().empty()) continue;  // MatchNationalNumber: never matches
        r.types.emplace_back(add(d.national_number_pattern(), false), length_mask(d));
      }
      specs.push_back(std::move(r));
    }
    const int main_general_tag = specs.front().general_tag;

    auto signature = [&](const std::vector<int>& tags) -> std::uint32_t {
      std::vector<char> present(tag_count, 0);
      for (int tag : tags) present[static_cast<std::size_t>(tag)] = 1;
      std::uint32_t sig = has_tag(present, main_general_tag) ? general_bit : 0;
      for (std::size_t len = 0; len < max_lengths; ++len) {
        // GetRegionCodeForNumber / GetRegionCodeForNumberFromRegionList, then
        // IsValidNumberForRegion for the region chosen.
        const region_spec* chosen = nullptr;
        if (single) {
          chosen = &specs.front();
        } else {
          for (const region_spec& r : specs) {
            if (r.has_ld ? has_tag(present, r.ld_tag) : known_type(r, present, len)) {
              chosen = &r;
              break;
            }
          }
        }
        if (chosen != nullptr && chosen->country_code_ok && known_type(*chosen, present, len)) sig |= 1u << len;
      }
      return sig;
    };

    calling_code code;
    code.start = builder.build(signature, t->cells);
    t->patterns += tag_count;
    for (std::size_t len = 0; len <= max_lengths; ++len) {
      code.length[len] = test_number_length(static_cast<int>(len), *main_md);
    }
    for (int l : main_md->general_desc().possible_length()) {
      if (l >= static_cast<int>(max_lengths)) fail("possible length too large");
    }
    for (int l : main_md->general_desc().possible_length_local_only()) {
      if (l >= static_cast<int>(max_lengths)) fail("local-only length too large");
    }

    // MaybeStripNationalPrefixAndCarrierCode's inputs.
    if (!main_md->national_prefix_for_parsing().empty()) {
      prefix_rule rule;
      rule.matcher = prefix_matcher(main_md->national_prefix_for_parsing());
      const first_info first = first_of(parse_regex(main_md->national_prefix_for_parsing()));
      rule.first_digits = first.empty ? std::uint16_t{0x3FF} : first.digits;
      const std::string& transform = main_md->national_prefix_transform_rule();
      rule.has_transform = !transform.empty();
      if (rule.has_transform) rule.transform = parse_transform(transform, rule.matcher.group_count());
      std::size_t longest = 15;  // the national number itself (at most 14 digits) plus slack
      for (const auto& p : rule.transform) longest += p.group >= 0 ? 15 : p.text.size();
      if (longest > candidate_capacity) fail("national prefix transform too long for " + main_id);
      code.prefix = static_cast<std::int32_t>(t->prefixes.size());
      t->prefixes.push_back(std::move(rule));
    }
    t->index[static_cast<std::size_t>(cc)] = static_cast<std::int16_t>(t->codes.size());
    t->codes.push_back(code);
  }
  if (t->codes.empty()) fail("no calling codes in libphonenumber metadata");
  t->cells.shrink_to_fit();
  t->codes.shrink_to_fit();
  t->prefixes.shrink_to_fit();
  return t;
}

// MaybeStripNationalPrefixAndCarrierCode's candidate: the national number with the national
// prefix removed (or transformed). Returns false when the prefix pattern does not match.
bool strip_candidate(const prefix_rule& rule, const char* nsn, std::size_t n, char* out, std::size_t& out_n) noexcept {
  prefix_matcher::match m;
  if (!rule.matcher.looking_at(std::string_view(nsn, n), m)) return false;
  std::size_t k = 0;
  const int groups = rule.matcher.group_count();
  if (rule.has_transform && groups >= 1) {
    // Consume(&carrier, &captured) needs two groups, else Consume(&captured) one.
    const int g = groups >= 2 ? 2 : 1;
    if (m.begin[g] >= 0 && m.end_of[g] > m.begin[g]) {
      // Replace(): the (same) first match is replaced by the expanded rule.
      for (const transform_piece& p : rule.transform) {
        if (p.group < 0) {
          for (char c : p.text) out[k++] = c;
        } else if (m.begin[p.group] >= 0) {
          for (int i = m.begin[p.group]; i < m.end_of[p.group]; ++i) out[k++] = nsn[i];
        }
      }
    }
  }
  // Whether transformed or simply stripped, the rest after the match follows.
  for (std::size_t i = static_cast<std::size_t>(m.end); i < n; ++i) out[k++] = nsn[i];
  out_n = k;
  return true;
}

}  // namespace
}  // namespace phone_fast_detail

using namespace phone_fast_detail;

namespace {

// True when the `n` (1 to 15) bytes at `p` are ASCII digits. Eight at a time (two overlapping
// words from 8 bytes on): every byte has the high nibble 3 and adding 6 to its low nibble does
// not carry into it (and no byte carries into the next once all are 0x3?).
bool all_digits(const char* p, std::size_t n) noexcept {
  const auto digits_8 = [](const char* at) {
    std::uint64_t w;
    std::memcpy(&w, at, sizeof w);
    constexpr std::uint64_t highs = 0xF0F0F0F0F0F0F0F0ull, threes = 0x3030303030303030ull;
    return (w & highs) == threes && ((w + 0x0606060606060606ull) & highs) == threes;
  };
  if (n >= 8) return digits_8(p) && digits_8(p + n - 8);
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(p[i] - '0') > 9) return false;
  }
  return true;
}

}  // namespace

fast_phone_validator::fast_phone_validator() : _tables(build_tables()) {}

fast_phone_validator::~fast_phone_validator() = default;

phone_verdict fast_phone_validator::check(std::string_view e164) const noexcept {
  const tables& t = *_tables;
  // Outside the contract (not '+' and 1..15 digits): judged not valid.
  if (e164.size() < 2 || e164.size() > 16 || e164[0] != '+') return phone_verdict::not_valid;
  const char* digits = e164.data() + 1;
  const std::size_t n = e164.size() - 1;
  if (!all_digits(digits, n)) return phone_verdict::not_valid;
  // IsViablePhoneNumber: '+' needs at least three digits after it (NOT_A_NUMBER).
  if (n < 3) return phone_verdict::too_short;
  // ExtractCountryCode: codes never start with 0; the first 1, 2 or 3 digits naming a region.
  if (digits[0] == '0') return phone_verdict::invalid_country_code;
  const int v1 = digits[0] - '0';
  const int v2 = v1 * 10 + (digits[1] - '0');
  const int v3 = v2 * 10 + (digits[2] - '0');
  std::size_t cc_len = 1;
  int idx = t.index[static_cast<std::size_t>(v1)];
  if (idx < 0) {
    cc_len = 2;
    idx = t.index[static_cast<std::size_t>(v2)];
  }
  if (idx < 0) {
    cc_len = 3;
    idx = t.index[static_cast<std::size_t>(v3)];
  }
  if (idx < 0) return phone_verdict::invalid_country_code;
  const calling_code& code = t.codes[static_cast<std::size_t>(idx)];

  const char* nsn = digits + cc_len;
  std::size_t len = n - cc_len;
  if (len < min_nsn) return phone_verdict::too_short;  // TOO_SHORT_NSN
  const std::uint32_t* cells = t.cells.data();
  std::uint32_t sig = run_dfa(cells, code.start, nsn, len);

  // ParseHelper: national prefix stripping with the main region's metadata, kept only when the
  // original was not viable or the result still is (MaybeStripNationalPrefixAndCarrierCode),
  // and when the result has a possible (or too long) length (TestNumberLength).
  char candidate[candidate_capacity];
  if (code.prefix >= 0) {
    const prefix_rule& rule = t.prefixes[static_cast<std::size_t>(code.prefix)];
    std::size_t cand_len = 0;
    if (((rule.first_digits >> (nsn[0] - '0')) & 1u) != 0 && strip_candidate(rule, nsn, len, candidate, cand_len)) {
      const std::uint32_t cand_sig = run_dfa(cells, code.start, candidate, cand_len);
      const bool viable_original = (sig & general_bit) != 0;
      if (!viable_original || (cand_sig & general_bit) != 0) {
        const length_result r = code.length[std::min(cand_len, max_lengths)];
        if (r == length_result::possible || r == length_result::too_long) {
          nsn = candidate;
          len = cand_len;
          sig = cand_sig;
        }
      }
    }
  }
  if (len < min_nsn) return phone_verdict::too_short;  // TOO_SHORT_NSN
  if (len > max_nsn) return phone_verdict::too_long;   // TOO_LONG_NSN

  // IsValidNumber, folded into the automaton's signature.
  if (((sig >> len) & 1u) != 0) return phone_verdict::valid;
  // IsPossibleNumberWithReason: TestNumberLength with the main region's general lengths.
  switch (code.length[len]) {
    case length_result::possible: return phone_verdict::not_valid;
    case length_result::local_only: return phone_verdict::is_possible_local_only;
    case length_result::too_short: return phone_verdict::too_short;
    case length_result::too_long: return phone_verdict::too_long;
    case length_result::invalid_length: return phone_verdict::invalid_length;
  }
  return phone_verdict::not_valid;
}

std::size_t fast_phone_validator::footprint_bytes() const noexcept {
  const tables& t = *_tables;
  std::size_t bytes = sizeof(tables) + t.cells.capacity() * sizeof(std::uint32_t) +
                      t.codes.capacity() * sizeof(calling_code) + t.prefixes.capacity() * sizeof(prefix_rule);
  for (const prefix_rule& p : t.prefixes) {
    bytes += p.matcher.footprint_bytes();
    for (const transform_piece& piece : p.transform) bytes += sizeof(piece) + piece.text.capacity();
  }
  return bytes;
}

std::size_t fast_phone_validator::region_count() const noexcept { return _tables->regions; }
std::size_t fast_phone_validator::pattern_count() const noexcept { return _tables->patterns; }
std::size_t fast_phone_validator::calling_code_count() const noexcept { return _tables->codes.size(); }
std::size_t fast_phone_validator::dfa_state_count() const noexcept { return _tables->cells.size() / dfa_row; }

}  // namespace cg::validate
