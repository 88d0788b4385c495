#include "pipeline/kafka.h"

#include <gtest/gtest.h>

namespace cg::pipeline {
namespace {

// Replaces std::stoll in librdkafka callbacks, which threw on a malformed header value.
TEST(ParseIntOr, ReadsWholeNumbersAndFallsBackWithoutThrowing) {
  EXPECT_EQ(parse_int_or("0", -1), 0);
  EXPECT_EQ(parse_int_or("1234", -1), 1234);
  EXPECT_EQ(parse_int_or("-5", 7), -5);
  EXPECT_EQ(parse_int_or("", -1), -1);
  EXPECT_EQ(parse_int_or("12x", -1), -1);
  EXPECT_EQ(parse_int_or(" 12", -1), -1);
  EXPECT_EQ(parse_int_or("99999999999999999999999", -1), -1);  // std::stoll: std::out_of_range
  EXPECT_EQ(parse_int_or("abc", -2), -2);                      // std::stoll: std::invalid_argument
}

}  // namespace
}  // namespace cg::pipeline
