#include "core/format.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

TEST(Format, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\n\x01\x7f", 8));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001\u007f")");
}

TEST(Format, KeepsUtf8AsIs) {
  std::string out;
  append_json_string(out, "Zürich");
  EXPECT_EQ(out, "\"Zürich\"");
}

TEST(Format, ReasonJsonCarriesCodeFieldDetailAndMessage) {
  reason r;
  r.code = reason_code::invalid_correlation_id;
  r.field = field_id::correlation_id;
  r.what = detail::wrong_length;
  r.number = 31;
  std::string out;
  append_reason_json(out, r);
  EXPECT_EQ(out, R"x({"code":"INVALID_CORRELATION_ID","field":"correlation_id","detail":"WRONG_LENGTH",)x"
                 R"x("message":"correlation_id must be exactly 32 hexadecimal characters (found 31)"})x");
}

TEST(Format, MalformedReasonHasNullFieldAndByteOffset) {
  reason r;
  r.code = reason_code::malformed_payload;
  r.what = detail::invalid_json;
  r.byte_offset = 7;
  std::string out;
  append_reason_json(out, r);
  EXPECT_NE(out.find(R"("field":null)"), std::string::npos);
  EXPECT_NE(out.find(R"("byte_offset":7)"), std::string::npos);
  EXPECT_NE(out.find("(at byte 7)"), std::string::npos);
}

TEST(Format, E164MessageSaysWhichPartIsWrong) {
  reason r;
  r.code = reason_code::invalid_contact_id;
  r.field = field_id::contact_id;
  r.what = detail::not_e164;
  r.e164 = e164_problem::no_plus;
  EXPECT_NE(describe(r).find("'+'"), std::string::npos);
  r.e164 = e164_problem::too_many_digits;
  EXPECT_NE(describe(r).find("15 digits"), std::string::npos);
  r.e164 = e164_problem::non_digit;
  EXPECT_NE(describe(r).find("only digits"), std::string::npos);
}

TEST(Format, HyphenatedMessageTellsToDropHyphens) {
  reason r;
  r.code = reason_code::invalid_correlation_id;
  r.field = field_id::correlation_id;
  r.what = detail::hyphenated;
  EXPECT_NE(describe(r).find("remove the four hyphens"), std::string::npos);
}

// Phone numbers are personal data: logs show '+', the first 4 and the last 2 digits.
TEST(Format, MaskPhoneKeepsFourLeadingAndTwoTrailingDigits) {
  EXPECT_EQ(mask_phone("+14155552671"), "+1415*****71");
  EXPECT_EQ(mask_phone("+1 415-555-2671"), "+1 415-***-**71");
  EXPECT_EQ(mask_phone("1234567"), "1234*67");
  EXPECT_EQ(mask_phone("+1234"), "+****");  // 6 digits or fewer: all masked
  EXPECT_EQ(mask_phone("123456"), "******");
  EXPECT_EQ(mask_phone(""), "");
}

}  // namespace
}  // namespace cg
