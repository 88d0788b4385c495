// Differential tests: fast_phone_validator must give exactly reference_phone_validator's
// verdict (libphonenumber itself) for every E.164-shaped input. Every disagreement is printed
// with both verdicts and fails the test; there is no allow-list.
#include <gtest/gtest.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <re2/re2.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "validate/libphonenumber_metadata.h"
#include "validate/phone.h"
#include "validate/phone_fast.h"

namespace cg::validate {
namespace {

namespace pn = i18n::phonenumbers;

const fast_phone_validator& fast() {
  static const fast_phone_validator v;
  return v;
}

const reference_phone_validator& reference() {
  static const reference_phone_validator v;
  return v;
}

const pn::PhoneMetadataCollection& metadata() {
  static const pn::PhoneMetadataCollection c = [] {
    pn::PhoneMetadataCollection m;
    if (!m.ParseFromArray(pn::metadata_get(), pn::metadata_size())) throw std::runtime_error("metadata");
    return m;
  }();
  return c;
}

// '+', 1..15 digits, the first not 0 (what check_e164_syntax lets through).
bool e164_shaped(const std::string& s) {
  if (s.size() < 2 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Compares both validators over `numbers`; prints every disagreement. Returns how many.
std::size_t disagreements(const std::vector<std::string>& numbers, std::size_t& compared) {
  std::size_t bad = 0;
  for (const std::string& n : numbers) {
    if (!e164_shaped(n)) continue;
    ++compared;
    const phone_verdict want = reference().check(n);
    const phone_verdict got = fast().check(n);
    if (want != got) {
      ++bad;
      ADD_FAILURE() << n << ": libphonenumber " << to_string(want) << ", fast " << to_string(got);
    }
  }
  return bad;
}

std::string digits_only(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

// Every example number of every type of every region and non-geographic entity, in E.164, and
// the same numbers written with their national format digits after the calling code (which
// puts national prefixes and carrier codes after it, e.g. +4407...).
std::vector<std::string> example_numbers() {
  const pn::PhoneNumberUtil& util = *pn::PhoneNumberUtil::GetInstance();
  std::set<std::string> out;
  const pn::PhoneNumberUtil::PhoneNumberType types[] = {
      pn::PhoneNumberUtil::FIXED_LINE,      pn::PhoneNumberUtil::MOBILE,      pn::PhoneNumberUtil::TOLL_FREE,
      pn::PhoneNumberUtil::PREMIUM_RATE,    pn::PhoneNumberUtil::SHARED_COST, pn::PhoneNumberUtil::VOIP,
      pn::PhoneNumberUtil::PERSONAL_NUMBER, pn::PhoneNumberUtil::PAGER,       pn::PhoneNumberUtil::UAN,
      pn::PhoneNumberUtil::VOICEMAIL};
  auto add = [&](const pn::PhoneNumber& num) {
    std::string e164;
    util.Format(num, pn::PhoneNumberUtil::E164, &e164);
    out.insert(e164);
    std::string national;
    util.Format(num, pn::PhoneNumberUtil::NATIONAL, &national);
    out.insert("+" + std::to_string(num.country_code()) + digits_only(national));
  };
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  for (const std::string& region : regions) {
    for (auto type : types) {
      pn::PhoneNumber num;
      if (util.GetExampleNumberForType(region, type, &num)) add(num);
    }
  }
  std::set<int> global;
  util.GetSupportedGlobalNetworkCallingCodes(&global);
  for (int cc : global) {
    pn::PhoneNumber num;
    if (util.GetExampleNumberForNonGeoEntity(cc, &num)) add(num);
  }
  // The metadata's example numbers directly, for every description of every entry (this also
  // covers the types of non-geographic entities that the API above does not reach).
  for (const pn::PhoneMetadata& md : metadata().metadata()) {
    const pn::PhoneNumberDesc* descs[] = {
        &md.general_desc(), &md.fixed_line(),  &md.mobile(),          &md.toll_free(),
        &md.premium_rate(), &md.shared_cost(), &md.personal_number(), &md.voip(),
        &md.pager(),        &md.uan(),         &md.voicemail(),       &md.no_international_dialling()};
    for (const pn::PhoneNumberDesc* d : descs) {
      if (!d->example_number().empty()) out.insert("+" + std::to_string(md.country_code()) + d->example_number());
    }
    if (!md.national_prefix().empty() && !md.fixed_line().example_number().empty()) {
      out.insert("+" + std::to_string(md.country_code()) + md.national_prefix() + md.fixed_line().example_number());
    }
  }
  return {out.begin(), out.end()};
}

// Each digit changed to every other digit, every digit added at every position, each dropped.
void add_mutations(const std::string& n, std::vector<std::string>& out) {
  for (std::size_t i = 1; i < n.size(); ++i) {
    for (char c = '0'; c <= '9'; ++c) {
      if (c == n[i]) continue;
      std::string m = n;
      m[i] = c;
      out.push_back(std::move(m));
    }
  }
  for (std::size_t i = 1; i <= n.size(); ++i) {
    for (char c = '0'; c <= '9'; ++c) {
      std::string m = n;
      m.insert(m.begin() + static_cast<std::ptrdiff_t>(i), c);
      out.push_back(std::move(m));
    }
  }
  for (std::size_t i = 1; i < n.size(); ++i) {
    std::string m = n;
    m.erase(i, 1);
    out.push_back(std::move(m));
  }
}

class generator {
 public:
  explicit generator(std::uint64_t seed) : _rng(seed) {
    const pn::PhoneNumberUtil& util = *pn::PhoneNumberUtil::GetInstance();
    std::set<int> codes;
    util.GetSupportedCallingCodes(&codes);
    _codes.assign(codes.begin(), codes.end());
    _examples = example_numbers();
    for (const pn::PhoneMetadata& md : metadata().metadata()) {
      if (md.national_prefix_for_parsing().empty()) continue;
      npfp_region r{std::to_string(md.country_code()), {}};
      for (const pn::PhoneNumberDesc* d : {&md.fixed_line(), &md.mobile(), &md.toll_free(), &md.premium_rate(),
                                           &md.shared_cost(), &md.voip(), &md.uan()}) {
        if (!d->example_number().empty()) r.examples.push_back(d->example_number());
      }
      if (!r.examples.empty()) _npfp.push_back(std::move(r));
    }
  }

  std::string digits(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + _rng() % 10));
    return s;
  }
  std::string nonzero_digit() { return std::string(1, static_cast<char>('1' + _rng() % 9)); }
  std::string code() { return std::to_string(_codes[_rng() % _codes.size()]); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(_rng() % n); }

  std::string clip(std::string s) {
    if (s.size() > 16) s.resize(below(4) == 0 ? 2 + below(15) : 16);
    return s;
  }

  // One number of a randomly chosen family.
  std::string next() {
    switch (below(10)) {
      case 0: {  // anything: every length 1..15, any calling code, assigned or not
        return "+" + nonzero_digit() + digits(below(15));
      }
      case 1: {  // assigned calling code, every national length
        return clip("+" + code() + digits(below(15)));
      }
      case 2: {  // unassigned-looking codes: 3-digit prefixes, 2-digit ones
        return clip("+" + nonzero_digit() + digits(1 + below(2)) + digits(below(13)));
      }
      case 3:
      case 4: {  // mutations of valid example numbers: digits replaced, inserted, dropped
        std::string s = _examples[below(_examples.size())];
        const std::size_t edits = 1 + below(3);
        for (std::size_t e = 0; e < edits && s.size() > 2; ++e) {
          const std::size_t at = 1 + below(s.size() - 1);
          switch (below(3)) {
            case 0: s[at] = static_cast<char>('0' + below(10)); break;
            case 1: s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>('0' + below(10))); break;
            default: s.erase(at, 1); break;
          }
        }
        return clip(s);
      }
      case 5: {  // national prefixes after the calling code: +4407..., +7 8..., +54 0..15, +55 0xx..., +378 8...
        static const char* const prefixes[] = {"",     "0",     "1",    "8",   "9",   "00",   "01",
                                               "06",   "08",    "90",   "015", "011", "0115", "1115",
                                               "0221", "02215", "0549", "80",  "10",  "019",  "1001"};
        const npfp_region& r = _npfp[below(_npfp.size())];
        std::string national = below(2) == 0 ? digits(below(12)) : r.examples[below(r.examples.size())];
        if (!national.empty() && below(3) == 0) national[below(national.size())] = static_cast<char>('0' + below(10));
        return clip("+" + r.cc + prefixes[below(std::size(prefixes))] + national);
      }
      case 6: {  // Italy (and Vatican): leading zeros kept in the national number
        static const char* const it[] = {"0", "00", "000", "06", "0669", "06698", "3", "8", "1"};
        return clip("+39" + std::string(it[below(std::size(it))]) + digits(below(12)));
      }
      case 7: {  // +1 with every area code, NANPA lengths around 10, with or without a trunk 1
        const std::string area = std::to_string(200 + below(800));
        const std::string trunk = below(5) == 0 ? "1" : "";
        const std::size_t len = below(4) == 0 ? below(10) : 7;
        return clip("+1" + trunk + area + digits(len));
      }
      case 8: {  // non-geographic entities and shared codes
        static const char* const cc[] = {"800", "808", "870", "878", "881", "882", "883", "888", "979", "7",  "44",
                                         "61",  "262", "290", "358", "47",  "590", "599", "212", "378", "39", "1"};
        return clip("+" + std::string(cc[below(std::size(cc))]) + digits(below(14)));
      }
      default: {  // valid numbers with the national part extended or truncated
        std::string s = _examples[below(_examples.size())];
        if (below(2) == 0) {
          s += digits(1 + below(3));
        } else if (s.size() > 3) {
          s.resize(s.size() - 1 - below(std::min<std::size_t>(3, s.size() - 3)));
        }
        return clip(s);
      }
    }
  }

 private:
  struct npfp_region {  // a region with a national_prefix_for_parsing, and its example numbers
    std::string cc;
    std::vector<std::string> examples;
  };
  std::mt19937_64 _rng;
  std::vector<int> _codes;
  std::vector<npfp_region> _npfp;
  std::vector<std::string> _examples;
};

TEST(FastPhoneValidator, BuildsFromLibphonenumberMetadata) {
  const fast_phone_validator& v = fast();
  EXPECT_EQ(v.name(), "fast");
  EXPECT_GT(v.region_count(), 240u);
  EXPECT_GT(v.calling_code_count(), 200u);
  EXPECT_GT(v.pattern_count(), 1000u);
  EXPECT_GT(v.dfa_state_count(), 1000u);
  EXPECT_GT(v.footprint_bytes(), v.dfa_state_count() * 40);
  RecordProperty("regions", static_cast<int>(v.region_count()));
  RecordProperty("patterns", static_cast<int>(v.pattern_count()));
  RecordProperty("dfa_states", static_cast<int>(v.dfa_state_count()));
  RecordProperty("footprint_bytes", static_cast<int>(v.footprint_bytes()));
}

TEST(FastPhoneValidator, KnownVerdicts) {
  const fast_phone_validator& v = fast();
  EXPECT_EQ(v.check("+14155552671"), phone_verdict::valid);
  EXPECT_EQ(v.check("+447400123456"), phone_verdict::valid);
  EXPECT_EQ(v.check("+4407400123456"), phone_verdict::valid);  // national prefix after the code
  EXPECT_EQ(v.check("+390612345678"), phone_verdict::valid);   // Italian leading zero
  EXPECT_EQ(v.check("+999123456789"), phone_verdict::invalid_country_code);
  EXPECT_EQ(v.check("+1"), phone_verdict::too_short);
  EXPECT_EQ(v.check("+12"), phone_verdict::too_short);
  EXPECT_EQ(v.check("+4412"), phone_verdict::too_short);
  EXPECT_EQ(v.check("+44740012345678"), phone_verdict::too_long);
  EXPECT_EQ(v.check("+14152671"), phone_verdict::is_possible_local_only);
  EXPECT_EQ(v.check("+10000000000"), phone_verdict::not_valid);
  EXPECT_EQ(v.check("+80012345678"), phone_verdict::valid);  // non-geographic entity 800
  // Outside the contract: not_valid, never a crash.
  EXPECT_EQ(v.check(""), phone_verdict::not_valid);
  EXPECT_EQ(v.check("14155552671"), phone_verdict::not_valid);
  EXPECT_EQ(v.check("+1415555267a"), phone_verdict::not_valid);
  EXPECT_EQ(v.check("+1234567890123456"), phone_verdict::not_valid);
}

// A byte that is not a digit anywhere among 1 to 15 digits (checked 8 bytes at a time, the two
// words overlapping from 8 digits on) makes the number not valid, as outside the contract.
TEST(FastPhoneValidator, ANonDigitAtAnyPositionIsNotValid) {
  const fast_phone_validator& v = fast();
  for (std::size_t len = 1; len <= 15; ++len) {
    const std::string digits = std::string("14155552671234").substr(0, std::min<std::size_t>(len, 14)) +
                               std::string(len > 14 ? len - 14 : 0, '5');
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        if (b >= '0' && b <= '9') continue;
        std::string s = "+" + digits;
        s[1 + at] = static_cast<char>(b);
        ASSERT_EQ(v.check(s), phone_verdict::not_valid) << "length " << len << ", byte " << b << " at " << at;
      }
    }
  }
}

TEST(FastPhoneValidator, ExampleNumbersAndTheirMutationsMatchLibphonenumber) {
  const std::vector<std::string> examples = example_numbers();
  ASSERT_GT(examples.size(), 1000u);
  std::vector<std::string> all = examples;
  for (const std::string& e : examples) add_mutations(e, all);
  std::size_t compared = 0;
  const std::size_t bad = disagreements(all, compared);
  std::cout << "[ compared ] " << compared << " example numbers and mutations, " << bad << " disagreements\n";
  RecordProperty("compared", static_cast<int>(compared));
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(compared, 300000u);
}

TEST(FastPhoneValidator, GeneratedNumbersMatchLibphonenumber) {
  generator gen(0x5EED'C0DE'2026ull);
  constexpr std::size_t count = 1'100'000;
  std::vector<std::string> numbers;
  numbers.reserve(count + 64);
  // Every length 1..15 for every leading digit, deterministically, then the random families.
  for (char first = '1'; first <= '9'; ++first) {
    for (std::size_t len = 1; len <= 15; ++len) numbers.push_back("+" + std::string(1, first) + gen.digits(len - 1));
  }
  while (numbers.size() < count) numbers.push_back(gen.next());
  std::size_t compared = 0;
  std::size_t bad = 0;
  std::size_t per_verdict[7] = {};
  for (const std::string& n : numbers) {
    if (!e164_shaped(n)) continue;
    ++compared;
    const phone_verdict want = reference().check(n);
    const phone_verdict got = fast().check(n);
    ++per_verdict[static_cast<int>(want)];
    if (want != got && ++bad <= 100) {
      ADD_FAILURE() << n << ": libphonenumber " << to_string(want) << ", fast " << to_string(got);
    }
  }
  std::cout << "[ compared ] " << compared << " generated numbers, " << bad << " disagreements; by verdict:";
  for (int v = 0; v < 7; ++v) std::cout << ' ' << to_string(static_cast<phone_verdict>(v)) << '=' << per_verdict[v];
  std::cout << '\n';
  RecordProperty("compared", static_cast<int>(compared));
  EXPECT_EQ(bad, 0u);
  EXPECT_GE(compared, 1'000'000u);
  // The families must reach every verdict, or the comparison proves little.
  for (int v = 0; v < 7; ++v) EXPECT_GT(per_verdict[v], 100u) << to_string(static_cast<phone_verdict>(v));
}

// Exhaustive over short numbers: every E.164 number of 1 to 6 digits (999,999 numbers), where
// calling-code extraction, the NSN length errors and the shortest possible lengths meet.
TEST(FastPhoneValidator, EveryNumberUpToSixDigitsMatchesLibphonenumber) {
  std::size_t compared = 0;
  std::size_t bad = 0;
  char buf[16];
  for (long v = 1; v < 1'000'000; ++v) {
    const int k = std::snprintf(buf, sizeof buf, "+%ld", v);
    const std::string_view n(buf, static_cast<std::size_t>(k));
    ++compared;
    const phone_verdict want = reference().check(n);
    const phone_verdict got = fast().check(n);
    if (want != got && ++bad <= 100) {
      ADD_FAILURE() << n << ": libphonenumber " << to_string(want) << ", fast " << to_string(got);
    }
  }
  std::cout << "[ compared ] " << compared << " numbers of 1-6 digits, " << bad << " disagreements\n";
  RecordProperty("compared", static_cast<int>(compared));
  EXPECT_EQ(bad, 0u);
}

TEST(FastPhoneValidator, ConsistentFromTwoThreadsAtOnce) {
  generator gen(7);
  std::vector<std::string> numbers;
  for (int i = 0; i < 200'000; ++i) {
    std::string n = gen.next();
    if (e164_shaped(n)) numbers.push_back(std::move(n));
  }
  std::vector<phone_verdict> expected;
  expected.reserve(numbers.size());
  for (const std::string& n : numbers) expected.push_back(fast().check(n));
  std::atomic<std::size_t> mismatches{0};
  std::atomic<int> ready{0};
  auto worker = [&](bool reverse) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    for (int round = 0; round < 3; ++round) {
      for (std::size_t k = 0; k < numbers.size(); ++k) {
        const std::size_t i = reverse ? numbers.size() - 1 - k : k;
        if (fast().check(numbers[i]) != expected[i]) mismatches.fetch_add(1);
      }
    }
  };
  std::thread a(worker, false);
  std::thread b(worker, true);
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0u);
}

// The backtracking matcher behind national prefix stripping, against RE2's Consume (also
// leftmost-first) on every national_prefix_for_parsing pattern: same match end, same groups.
TEST(FastPhoneValidator, PrefixMatcherAgreesWithRe2OnNationalPrefixPatterns) {
  std::mt19937_64 rng(11);
  std::size_t checked = 0;
  for (const pn::PhoneMetadata& md : metadata().metadata()) {
    const std::string& pattern = md.national_prefix_for_parsing();
    if (pattern.empty()) continue;
    const phone_fast_detail::prefix_matcher mine(pattern);
    const RE2 re("(" + pattern + ")");  // group 1: the whole match; pattern groups shift by one
    ASSERT_TRUE(re.ok()) << pattern;
    ASSERT_EQ(re.NumberOfCapturingGroups(), mine.group_count() + 1) << pattern;
    for (int i = 0; i < 3000; ++i) {
      std::string s;
      const std::size_t len = rng() % 16;
      const char* seeds[] = {"", "0", "1", "8", "9", "90", "015", "0221", "011", "06"};
      s = seeds[rng() % std::size(seeds)];
      while (s.size() < len) s.push_back(static_cast<char>('0' + rng() % 10));
      phone_fast_detail::prefix_matcher::match m;
      const bool got = mine.looking_at(s, m);
      std::vector<re2::StringPiece> groups(static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1);
      const bool want = re.Match(s, 0, s.size(), RE2::ANCHOR_START, groups.data(), static_cast<int>(groups.size()));
      ASSERT_EQ(got, want) << pattern << " on " << s;
      ++checked;
      if (!want) continue;
      EXPECT_EQ(m.end, static_cast<int>(groups[1].size())) << pattern << " on " << s;
      for (int g = 1; g <= mine.group_count(); ++g) {
        const re2::StringPiece& sp = groups[static_cast<std::size_t>(g) + 1];
        if (sp.data() == nullptr) {
          EXPECT_EQ(m.begin[g], -1) << pattern << " on " << s << " group " << g;
        } else {
          EXPECT_EQ(m.begin[g], static_cast<int>(sp.data() - s.data())) << pattern << " on " << s << " group " << g;
          EXPECT_EQ(m.end_of[g], static_cast<int>(sp.data() - s.data() + sp.size())) << pattern << " group " << g;
        }
      }
    }
  }
  std::cout << "[ compared ] " << checked << " prefix matches against RE2\n";
}

// The exact table layout of the DFA compiler: minimal, states numbered breadth-first from the
// start (digits in order), a row of 10 successor offsets, the signature, and a zero pad cell.
// The second pattern's two branches only merge after several refinement rounds.
TEST(FastPhoneValidator, DfaIsMinimalAndNumberedBreadthFirst) {
  auto compile = [](const char* pattern) {
    phone_fast_detail::dfa_builder b;
    b.add(phone_fast_detail::parse_regex(pattern), false);
    std::vector<std::uint32_t> cells{7};  // rows are appended after what is there
    const std::uint32_t start = b.build([](const std::vector<int>& tags) { return tags.empty() ? 0u : 1u; }, cells);
    EXPECT_EQ(start, 1u);
    return std::vector<std::uint32_t>(cells.begin() + 1, cells.end());
  };
  auto row = [](std::initializer_list<std::uint32_t> next, std::uint32_t sig) {
    std::vector<std::uint32_t> r;
    for (std::uint32_t n : next) r.push_back(1 + 12 * n);
    r.push_back(sig);
    r.push_back(0);
    return r;
  };
  auto rows = [](std::initializer_list<std::vector<std::uint32_t>> parts) {
    std::vector<std::uint32_t> all;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
  };
  // start, dead, after 1, after 4, accept
  EXPECT_EQ(compile("1[23]|4\\d"), rows({row({1, 2, 1, 1, 3, 1, 1, 1, 1, 1}, 0), row({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0),
                                         row({1, 1, 4, 4, 1, 1, 1, 1, 1, 1}, 0), row({4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, 0),
                                         row({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1)}));
  // \d{4}: 0..4 digits read, then dead
  EXPECT_EQ(compile("[0-4]\\d{3}|[5-9](?:\\d\\d)\\d"),
            rows({row({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0), row({2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 0),
                  row({3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 0), row({4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, 0),
                  row({5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 1), row({5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 0)}));
}

// The DFA compiler against RE2 FullMatch, pattern by pattern, over every number pattern in the
// metadata (random digit strings biased towards each pattern's own example number).
TEST(FastPhoneValidator, DfaAgreesWithRe2OnEveryNumberPattern) {
  std::mt19937_64 rng(13);
  std::size_t checked = 0;
  std::vector<std::uint32_t> cells;
  for (const pn::PhoneMetadata& md : metadata().metadata()) {
    const pn::PhoneNumberDesc* descs[] = {&md.general_desc(), &md.fixed_line(),  &md.mobile(),          &md.toll_free(),
                                          &md.premium_rate(), &md.shared_cost(), &md.personal_number(), &md.voip(),
                                          &md.pager(),        &md.uan(),         &md.voicemail()};
    for (const pn::PhoneNumberDesc* d : descs) {
      const std::string& pattern = d->national_number_pattern();
      if (pattern.empty()) continue;
      phone_fast_detail::dfa_builder b;
      b.add(phone_fast_detail::parse_regex(pattern), false);
      cells.clear();
      const std::uint32_t start = b.build([](const std::vector<int>& tags) { return tags.empty() ? 0u : 1u; }, cells);
      const RE2 re(pattern);
      ASSERT_TRUE(re.ok()) << pattern;
      const std::string example = d->example_number();
      for (int i = 0; i < 400; ++i) {
        std::string s = example;
        if (s.empty() || i % 2 == 1) {
          s.clear();
          const std::size_t len = rng() % 18;
          while (s.size() < len) s.push_back(static_cast<char>('0' + rng() % 10));
        } else if (i > 0) {
          s[rng() % s.size()] = static_cast<char>('0' + rng() % 10);
          if (rng() % 4 == 0) s.push_back(static_cast<char>('0' + rng() % 10));
          if (rng() % 4 == 0) s.pop_back();
        }
        const bool want = RE2::FullMatch(s, re);
        const bool got = phone_fast_detail::run_dfa(cells.data(), start, s.data(), s.size()) != 0;
        ASSERT_EQ(got, want) << pattern << " on " << s;
        ++checked;
      }
    }
  }
  std::cout << "[ compared ] " << checked << " pattern matches against RE2\n";
}

}  // namespace
}  // namespace cg::validate
