#include "validate/postal_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "validate/countries.h"

namespace cg::validate {
namespace {

TEST(PostalTable, OneRowPerAssignedCountry) {
  const auto& t = postal_table::builtin();
  std::set<std::string> rows;
  for (const auto& r : t.rows()) rows.insert(r.code);
  std::set<std::string> assigned;
  for (auto cc : assigned_countries()) assigned.insert(std::string(cc));
  EXPECT_EQ(rows, assigned);
  EXPECT_EQ(t.rows().size(), assigned.size());
}

TEST(PostalTable, EveryExamplePassesItsOwnPattern) {
  const auto& t = postal_table::builtin();
  for (const auto& r : t.rows()) {
    if (!r.has_postal_codes) continue;
    EXPECT_FALSE(r.example.empty()) << r.code;
    EXPECT_EQ(t.check(r.code, r.example), zip_check::ok) << r.code << " " << r.example;
  }
}

// A pattern made only of digits, \d, fixed repeats and literal separators has exactly one
// length and no letters: every mutation of its example must fail.
bool is_fixed_digit_format(const std::string& p) {
  for (char c : p) {
    if (c == '?' || c == '*' || c == '+' || c == '|' || c == ',' || c == '[') return false;
  }
  return true;
}

TEST(PostalTable, MutatedExamplesAreRejected) {
  const auto& t = postal_table::builtin();
  int rows_checked = 0;
  for (const auto& r : t.rows()) {
    if (!r.has_postal_codes) continue;
    std::vector<std::string> mutations;
    mutations.push_back(r.example + "7");                            // extra digit
    mutations.push_back(r.example.substr(0, r.example.size() - 1));  // truncation
    std::string letter = r.example;
    for (char& c : letter) {
      if (c >= '0' && c <= '9') {
        c = 'Q';
        break;
      }  // letter for digit
    }
    if (letter != r.example) mutations.push_back(letter);
    int rejected = 0;
    for (const auto& m : mutations) rejected += t.check(r.code, m) == zip_check::format_mismatch;
    if (is_fixed_digit_format(r.pattern)) {
      EXPECT_EQ(rejected, static_cast<int>(mutations.size())) << r.code << " " << r.pattern;
    } else {
      EXPECT_GE(rejected, 1) << r.code << " " << r.pattern;
    }
    ++rows_checked;
  }
  EXPECT_GT(rows_checked, 100);
}

TEST(PostalTable, CountriesWithoutPostalCodesRejectAnyZip) {
  const auto& t = postal_table::builtin();
  int without = 0;
  for (const auto& r : t.rows()) {
    if (r.has_postal_codes) continue;
    ++without;
    EXPECT_EQ(t.check(r.code, "12345"), zip_check::country_has_no_postal_codes) << r.code;
  }
  EXPECT_GT(without, 10);
}

TEST(PostalTable, KnownFormatsFromPublishedRules) {
  const auto& t = postal_table::builtin();
  struct c {
    const char* cc;
    const char* zip;
    bool ok;
  };
  for (auto [cc, zip, ok] : std::initializer_list<c>{{"US", "12345", true},
                                                     {"US", "12345-6789", true},
                                                     {"US", "1234", false},
                                                     {"GB", "EC1A 1BB", true},
                                                     {"GB", "W1A 0AX", true},
                                                     {"GB", "M1 1AE", true},
                                                     {"GB", "12345", false},
                                                     {"CA", "K1A 0B1", true},
                                                     {"CA", "12345", false},
                                                     {"DE", "10115", true},
                                                     {"DE", "1011", false},
                                                     {"NL", "1234 AB", true},
                                                     {"NL", "1234", false},
                                                     {"JP", "100-0001", true},
                                                     {"BR", "01310-100", true},
                                                     {"IN", "110001", true},
                                                     {"FR", "75008", true},
                                                     {"FR", "7500", false}}) {
    EXPECT_EQ(t.check(cc, zip) == zip_check::ok, ok) << cc << " " << zip;
  }
}

TEST(PostalTable, BadTablesAreRejectedWithTheLine) {
  EXPECT_THROW(postal_table("US\tyes\t(\\d{5}\t12345\n"), std::runtime_error);  // bad regex
  EXPECT_THROW(postal_table("US\tmaybe\t-\t-\n"), std::runtime_error);
  EXPECT_THROW(postal_table("US\tyes\t\\d{5}\n"), std::runtime_error);             // 3 columns
  EXPECT_THROW(postal_table("US\tno\t-\t-\nUS\tno\t-\t-\n"), std::runtime_error);  // duplicate
  try {
    postal_table("# c\nUS\tno\t-\t-\nus\tno\t-\t-\n");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(PostalTable, TrimAsciiWhitespace) {
  EXPECT_EQ(trim_ascii("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim_ascii(" \t "), "");
  // Every ASCII whitespace byte at either end (the inline check lets strings without any through).
  for (const char c : std::string_view(" \t\n\r\f\v")) {
    EXPECT_EQ(trim_ascii(std::string(1, c) + "9410" + std::string(1, c)), "9410");
    EXPECT_EQ(trim_ascii(std::string(1, c) + "9410"), "9410");
    EXPECT_EQ(trim_ascii("9410" + std::string(1, c)), "9410");
  }
  EXPECT_EQ(trim_ascii(""), "");
  EXPECT_EQ(trim_ascii("!x\x01y~"), "!x\x01y~");
  EXPECT_EQ(trim_ascii("\x01"), "\x01");
  EXPECT_EQ(trim_ascii("\xC3\xA9"), "\xC3\xA9");
}

}  // namespace
}  // namespace cg::validate
