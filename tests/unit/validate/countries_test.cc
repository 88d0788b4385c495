#include "validate/countries.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>

namespace cg::validate {
namespace {

// Reads Debian's iso-codes JSON independently of the build-time generator.
std::set<std::string> iso_codes_from_debian() {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(CG_ISO_CODES_JSON);
  std::set<std::string> codes;
  for (simdjson::dom::element e : doc["3166-1"].get_array())
    codes.insert(std::string(e["alpha_2"].get_string().value()));
  return codes;
}

TEST(Countries, EveryAssignedCodeAcceptedAndEveryOtherPairRejected) {
  const auto codes = iso_codes_from_debian();
  ASSERT_GE(codes.size(), 249u);
  int accepted = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const std::string cc{a, b};
      EXPECT_EQ(is_assigned_country(cc), codes.count(cc) == 1) << cc;
      accepted += is_assigned_country(cc);
      const std::string lower{static_cast<char>(a + 32), static_cast<char>(b + 32)};
      EXPECT_FALSE(is_assigned_country(lower)) << lower;
    }
  }
  EXPECT_EQ(accepted, static_cast<int>(codes.size()));
  EXPECT_EQ(assigned_countries().size(), codes.size());
}

TEST(Countries, ReservedAndUserAssignedCodesAreRejected) {
  for (const char* cc : {"UK", "EU", "XK", "ZZ", "AA", "QM", "XA", "EZ", "UN"})
    EXPECT_FALSE(is_assigned_country(cc)) << cc;
}

}  // namespace
}  // namespace cg::validate
