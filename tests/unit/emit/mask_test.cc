// Phone numbers in rejection records shown by `contactgate tail` are masked after decoding.
#include <gtest/gtest.h>

#include "emit/mask.h"

namespace cg::emit {
namespace {

TEST(MaskRejectionJson, MasksContactIdWrittenWithEscapes) {
  const std::string rec = R"({"error_code":30647,"record":{"correlation_id":"0123456789abcdef0123456789abcdef",)"
                          R"("contact_id":"\u002b1415555\u0032671","country_iso_code":"US"},"source":{"offset":7}})";
  const std::string out = mask_rejection_json(rec);
  EXPECT_NE(out.find(R"("contact_id":"+1415*****71")"), std::string::npos) << out;
  EXPECT_EQ(out.find("5552671"), std::string::npos) << out;
  EXPECT_EQ(out.find("u002b"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("source":{"offset":7})"), std::string::npos) << out;
}

TEST(MaskRejectionJson, MasksEveryContactOfARequestAndDigitRunsOfRawPayloads) {
  const std::string req = R"({"record":{"contacts":[{"contact_id":"+14155552671"},{"contact_id":"+442071838750"}]}})";
  const std::string out = mask_rejection_json(req);
  EXPECT_EQ(out, R"({"record":{"contacts":[{"contact_id":"+1415*****71"},{"contact_id":"+4420******50"}]}})");
  const std::string raw = R"({"record":"{\"contact_id\":\"+14155552671\",","record_encoding":"string"})";
  const std::string masked = mask_rejection_json(raw);
  EXPECT_EQ(masked.find("4155552671"), std::string::npos) << masked;
  EXPECT_NE(masked.find("1415*****71"), std::string::npos) << masked;
  EXPECT_EQ(mask_rejection_json("not json"), "<unreadable record>");
}

}  // namespace
}  // namespace cg::emit
