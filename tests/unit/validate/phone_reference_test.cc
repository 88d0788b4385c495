#include <gtest/gtest.h>

#include "validate/phone.h"

namespace cg::validate {
namespace {

TEST(ReferencePhoneValidator, VerdictsMatchLibphonenumberOutcomes) {
  const reference_phone_validator v;
  EXPECT_EQ(v.check("+14155552671"), phone_verdict::valid);
  EXPECT_EQ(v.check("+447400123456"), phone_verdict::valid);
  EXPECT_EQ(v.check("+999123456789"), phone_verdict::invalid_country_code);
  EXPECT_EQ(v.check("+1"), phone_verdict::too_short);
  EXPECT_EQ(v.check("+4412"), phone_verdict::too_short);
  EXPECT_EQ(v.check("+44740012345678"), phone_verdict::too_long);
  EXPECT_EQ(v.check("+14152671"), phone_verdict::is_possible_local_only);
  EXPECT_EQ(v.check("+10000000000"), phone_verdict::not_valid);
}

TEST(ReferencePhoneValidator, MetadataVersionNamesSizeAndDigest) {
  const std::string v = phone_metadata_version();
  EXPECT_NE(v.find("libphonenumber"), std::string::npos);
  EXPECT_NE(v.find("bytes"), std::string::npos);
}

}  // namespace
}  // namespace cg::validate
