#include "validate/payload_validator.h"

#include <gtest/gtest.h>

namespace cg::validate {
namespace {

class PayloadValidator : public ::testing::Test {
 protected:
  reference_phone_validator phones;
  rule_set rules{phones, postal_table::builtin()};
  payload_validator validator{rules};
  payload_outcome out;

  static std::vector<std::string> details(const contact_outcome& c) {
    std::vector<std::string> v;
    for (const auto& r : c.reasons) v.push_back(std::string(to_string(r.code)) + "/" + std::string(to_string(r.what)));
    return v;
  }
};

constexpr const char* good_id = "0123456789abcdef0123456789abcdef";

TEST_F(PayloadValidator, ValidContactIsAccepted) {
  validator.validate(std::string(R"({"correlation_id":")") + good_id +
                         R"(","contact_id":"+14155552671","country_iso_code":"US","zip_code":"94107"})",
                     out);
  ASSERT_FALSE(out.malformed);
  ASSERT_EQ(out.contacts.size(), 1u);
  EXPECT_TRUE(out.contacts[0].accepted());
}

TEST_F(PayloadValidator, EveryFailingReasonInFixedOrder) {
  validator.validate(R"({"zip_code":"x","country_iso_code":"us","contact_id":"123","correlation_id":"abc"})", out);
  ASSERT_EQ(out.contacts.size(), 1u);
  EXPECT_EQ(details(out.contacts[0]),
            (std::vector<std::string>{"INVALID_CORRELATION_ID/WRONG_LENGTH", "INVALID_COUNTRY_ISO_CODE/NOT_UPPERCASE",
                                      "INVALID_CONTACT_ID/NOT_E164"}));
}

TEST_F(PayloadValidator, AllFourReasons) {
  validator.validate(R"({"country_iso_code":"US","zip_code":"1"})", out);
  EXPECT_EQ(details(out.contacts[0]),
            (std::vector<std::string>{"INVALID_CORRELATION_ID/MISSING", "INVALID_CONTACT_ID/MISSING",
                                      "INVALID_ZIP_CODE/FORMAT_MISMATCH"}));
  validator.validate(R"({"correlation_id":1,"country_iso_code":"US","contact_id":"+1","zip_code":"1"})", out);
  EXPECT_EQ(details(out.contacts[0]),
            (std::vector<std::string>{"INVALID_CORRELATION_ID/WRONG_TYPE", "INVALID_CONTACT_ID/TOO_SHORT",
                                      "INVALID_ZIP_CODE/FORMAT_MISMATCH"}));
}

TEST_F(PayloadValidator, DuplicateCorrelationIdsFlagSecondAndLater) {
  const std::string c =
      std::string(R"({"correlation_id":")") + good_id + R"(","contact_id":"+14155552671","country_iso_code":"US"})";
  const std::string upper =
      R"({"correlation_id":"0123456789ABCDEF0123456789ABCDEF","contact_id":"+1","country_iso_code":"US"})";
  const std::string other =
      R"({"correlation_id":"ffffffffffffffffffffffffffffffff","contact_id":"+14155552671","country_iso_code":"US"})";
  validator.validate("{\"contacts\":[" + c + "," + other + "," + c + "," + upper + "]}", out);
  ASSERT_EQ(out.contacts.size(), 4u);
  EXPECT_TRUE(out.contacts[0].accepted());
  EXPECT_TRUE(out.contacts[1].accepted());
  EXPECT_EQ(details(out.contacts[2]), (std::vector<std::string>{"INVALID_CORRELATION_ID/DUPLICATE_IN_REQUEST"}));
  EXPECT_EQ(out.contacts[2].reasons.items[0].number, 0);
  EXPECT_EQ(details(out.contacts[3]),
            (std::vector<std::string>{"INVALID_CORRELATION_ID/DUPLICATE_IN_REQUEST", "INVALID_CONTACT_ID/TOO_SHORT"}));
}

TEST_F(PayloadValidator, MalformedPayloadHasNoContacts) {
  validator.validate("[1]", out);
  EXPECT_TRUE(out.malformed);
  EXPECT_TRUE(out.contacts.empty());
  EXPECT_EQ(out.malformed_reason.what, detail::element_not_object);
}

TEST_F(PayloadValidator, ZipNotJudgedForInvalidCountry) {
  validator.validate(std::string(R"({"correlation_id":")") + good_id +
                         R"(","contact_id":"+14155552671","country_iso_code":"XX","zip_code":"whatever"})",
                     out);
  EXPECT_EQ(details(out.contacts[0]), (std::vector<std::string>{"INVALID_COUNTRY_ISO_CODE/NOT_ASSIGNED"}));
}

}  // namespace
}  // namespace cg::validate
