#include "validate/rules.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace cg::validate {
namespace {

field_value str(std::string_view s) { return {field_kind::string, s}; }
field_value absent() { return {}; }
field_value wrong() { return {field_kind::wrong_type, {}}; }

struct rule_case {
  field_value value;
  bool fails;
  detail expected;
};

TEST(CorrelationIdRule, EveryDetail) {
  const std::vector<rule_case> cases = {
      {str("0123456789abcdef0123456789abcdef"), false, {}},
      {str("0123456789ABCDEF0123456789ABCDEF"), false, {}},
      {absent(), true, detail::missing},
      {wrong(), true, detail::wrong_type},
      {str(""), true, detail::wrong_length},
      {str("0123456789abcdef0123456789abcde"), true, detail::wrong_length},
      {str("0123456789abcdef0123456789abcdef0"), true, detail::wrong_length},
      {str("0123456789abcdeg0123456789abcdef"), true, detail::not_hex},
      {str("0123456789abcdef 123456789abcdef"), true, detail::not_hex},
      {str("01234567-89ab-cdef-0123-456789abcdef"), true, detail::hyphenated},
      {str("01234567-89ab-cdef-0123-456789abcdeg"), true, detail::wrong_length},
      {str("0123456789ab-cdef-0123-456789abcdef"), true, detail::wrong_length},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.value.text));
    reason r;
    ASSERT_EQ(check_correlation_id(c.value, r), c.fails);
    if (!c.fails) continue;
    EXPECT_EQ(r.code, reason_code::invalid_correlation_id);
    EXPECT_EQ(r.field, field_id::correlation_id);
    EXPECT_EQ(to_string(r.what), to_string(c.expected));
  }
}

TEST(CorrelationIdRule, WrongLengthCountsCharactersAndNotHexGivesPosition) {
  reason r;
  ASSERT_TRUE(check_correlation_id(str("ééé"), r));
  EXPECT_EQ(r.number, 3);
  ASSERT_TRUE(check_correlation_id(str("0123456789abcdeg0123456789abcdef"), r));
  EXPECT_EQ(r.number, 15);
}

TEST(CorrelationIdRule, LengthIsCountedInCharactersNotBytes) {
  reason r;
  const std::string nonascii32 = std::string(31, '0') + "é";  // 32 characters, 33 bytes
  ASSERT_TRUE(check_correlation_id(str(nonascii32), r));
  EXPECT_EQ(r.what, detail::not_hex);
  EXPECT_EQ(r.number, 31);
  const std::string nonascii31 = std::string(30, '0') + "é";  // 31 characters, 32 bytes
  ASSERT_TRUE(check_correlation_id(str(nonascii31), r));
  EXPECT_EQ(r.what, detail::wrong_length);
  EXPECT_EQ(r.number, 31);
}

TEST(CorrelationIdRule, KeyIsCaseInsensitive) {
  EXPECT_EQ(correlation_key_of("0123456789abcdef0123456789abcdef"),
            correlation_key_of("0123456789ABCDEF0123456789ABCDEF"));
  EXPECT_FALSE(correlation_key_of("0123456789abcdef0123456789abcdef") ==
               correlation_key_of("0123456789abcdef0123456789abcdee"));
}

TEST(CountryRule, EveryDetail) {
  const std::vector<rule_case> cases = {
      {str("US"), false, {}},
      {str("GB"), false, {}},
      {str("AX"), false, {}},
      {absent(), true, detail::missing},
      {wrong(), true, detail::wrong_type},
      {str("us"), true, detail::not_uppercase},
      {str("Us"), true, detail::not_uppercase},
      {str("uS"), true, detail::not_uppercase},
      {str("UK"), true, detail::not_assigned},
      {str("XX"), true, detail::not_assigned},
      {str("xx"), true, detail::not_assigned},
      {str("USA"), true, detail::not_assigned},
      {str(""), true, detail::not_assigned},
      {str("U"), true, detail::not_assigned},
      {str("U1"), true, detail::not_assigned},
      {str(" US"), true, detail::not_assigned},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.value.text));
    reason r;
    ASSERT_EQ(check_country(c.value, r), c.fails);
    if (c.fails) {
      EXPECT_EQ(to_string(r.what), to_string(c.expected));
    }
  }
}

TEST(E164Syntax, SaysWhichPartIsWrong) {
  EXPECT_EQ(check_e164_syntax("+14155552671"), e164_problem::none);
  EXPECT_EQ(check_e164_syntax("+123456789012345"), e164_problem::none);
  EXPECT_EQ(check_e164_syntax("14155552671"), e164_problem::no_plus);
  EXPECT_EQ(check_e164_syntax(""), e164_problem::no_plus);
  EXPECT_EQ(check_e164_syntax("00 1 415"), e164_problem::no_plus);
  EXPECT_EQ(check_e164_syntax("+"), e164_problem::no_digits);
  EXPECT_EQ(check_e164_syntax("+1 415 555 2671"), e164_problem::non_digit);
  EXPECT_EQ(check_e164_syntax("+1-415"), e164_problem::non_digit);
  EXPECT_EQ(check_e164_syntax("++1415"), e164_problem::non_digit);
  EXPECT_EQ(check_e164_syntax("+1234567890123456"), e164_problem::too_many_digits);
  EXPECT_EQ(check_e164_syntax("+0441234"), e164_problem::leading_zero);
}

// The rule as a byte loop, as it was written before the 8-bytes-at-a-time digit check.
e164_problem reference_e164_syntax(std::string_view s) {
  if (s.empty() || s.front() != '+') return e164_problem::no_plus;
  s.remove_prefix(1);
  if (s.empty()) return e164_problem::no_digits;
  for (char c : s) {
    if (c < '0' || c > '9') return e164_problem::non_digit;
  }
  if (s.size() > 15) return e164_problem::too_many_digits;
  if (s.front() == '0') return e164_problem::leading_zero;
  return e164_problem::none;
}

// Every length up to 18 digits with every byte value at every position (and a leading '0'):
// the word-at-a-time check covers its first and last 8 bytes, overlapping.
TEST(E164Syntax, EveryByteAtEveryPositionAgreesWithAByteLoop) {
  for (std::size_t len = 0; len <= 18; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s = "+" + std::string(len, '7');
        if (at < len) s[1 + at] = static_cast<char>(b);
        ASSERT_EQ(check_e164_syntax(s), reference_e164_syntax(s)) << "length " << len << ", byte " << b << " at " << at;
        if (len > 0) {
          s[1] = '0';
          ASSERT_EQ(check_e164_syntax(s), reference_e164_syntax(s))
              << "length " << len << ", byte " << b << " at " << at;
        }
      }
    }
  }
}

class ContactIdRule : public ::testing::Test {
 protected:
  reference_phone_validator phones;
};

TEST_F(ContactIdRule, EveryDetail) {
  const std::vector<rule_case> cases = {
      {str("+14155552671"), false, {}},
      {str("+447400123456"), false, {}},
      {str("+491701234567"), false, {}},
      {absent(), true, detail::missing},
      {wrong(), true, detail::wrong_type},
      {str("4155552671"), true, detail::not_e164},
      {str("+1 415 555 2671"), true, detail::not_e164},
      {str("+1234567890123456"), true, detail::not_e164},
      {str("+999123456789"), true, detail::invalid_country_code},
      {str("+4412"), true, detail::too_short},
      {str("+4474001234567890"), true, detail::not_e164},
      {str("+44740012345678"), true, detail::too_long},
      {str("+14152671"), true, detail::is_possible_local_only},
      {str("+10000000000"), true, detail::not_valid},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.value.text));
    reason r;
    ASSERT_EQ(check_contact_id(c.value, phones, r), c.fails);
    if (!c.fails) continue;
    EXPECT_EQ(r.code, reason_code::invalid_contact_id);
    EXPECT_EQ(to_string(r.what), to_string(c.expected));
  }
}

class ZipRule : public ::testing::Test {
 protected:
  const postal_table& postal = postal_table::builtin();
  bool judge(field_value zip, std::string_view country, reason& r, bool country_ok = true) {
    return check_zip(zip, country, country_ok, postal, r);
  }
};

TEST_F(ZipRule, OptionalAndTrimmedAndCaseInsensitive) {
  reason r;
  EXPECT_FALSE(judge(absent(), "US", r));
  EXPECT_FALSE(judge(str(""), "US", r));
  EXPECT_FALSE(judge(str("   "), "US", r));
  EXPECT_FALSE(judge(str("94107"), "US", r));
  EXPECT_FALSE(judge(str(" 94107-1234\t"), "US", r));
  EXPECT_FALSE(judge(str("sw1a 1aa"), "GB", r));
  EXPECT_FALSE(judge(str("K1A 0B1"), "CA", r));
  EXPECT_FALSE(judge(str("k1a 0b1"), "CA", r));
}

TEST_F(ZipRule, MismatchAndNoPostalCodes) {
  reason r;
  ASSERT_TRUE(judge(str("9410"), "US", r));
  EXPECT_EQ(r.what, detail::format_mismatch);
  EXPECT_FALSE(r.note.empty());  // the message shows the country's example
  ASSERT_TRUE(judge(str("941077"), "US", r));
  EXPECT_EQ(r.what, detail::format_mismatch);
  ASSERT_TRUE(judge(str("94107"), "GB", r));
  EXPECT_EQ(r.what, detail::format_mismatch);
  ASSERT_TRUE(judge(str("12345"), "AE", r));
  EXPECT_EQ(r.what, detail::country_has_no_postal_codes);
  EXPECT_FALSE(judge(str(""), "AE", r));
  ASSERT_TRUE(judge(wrong(), "US", r));
  EXPECT_EQ(r.what, detail::wrong_type);
}

TEST_F(ZipRule, NotJudgedWhenCountryIsInvalid) {
  reason r;
  EXPECT_FALSE(judge(str("not a zip"), "XX", r, false));
  EXPECT_FALSE(judge(str("not a zip"), "us", r, false));
}

}  // namespace
}  // namespace cg::validate
