#include "emit/json_buffer.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>

#include <string>
#include <string_view>

namespace cg::emit {
namespace {

// The reference is written from RFC 8259 section 7, not taken from RapidJSON (whose 1.1.0 SSE2
// scan misses 0x1A-0x1F): '"' and '\\' and every byte below 0x20 are escaped, with RapidJSON's
// spelling (the short forms \b \f \n \r \t, else \u00XX in upper case); all else is copied.
std::string escaped(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// What RapidJSON's plain Writer<StringBuffer> writes in this build (mask.cc, CSV rows, redrive).
std::string rapidjson_string_buffer(std::string_view s) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {sb.GetString(), sb.GetSize()};
}

std::string ours(std::string_view s) {
  output_buffer out;
  buffer_json_writer w;
  w.Reset(out);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(out.view());
}

TEST(JsonBuffer, EveryAsciiByteAtEveryPositionIsEscapedAsRfc8259Requires) {
  // Lengths around the 4-, 8- and 16-byte scan steps; each byte 0..127 at each position of a
  // clean string (a control byte missed by a scan would be written raw: invalid JSON).
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int c = 0; c < 128; ++c) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        ASSERT_EQ(ours(s), escaped(s)) << "length " << len << ", byte " << c << " at " << at;
        ASSERT_EQ(rapidjson_string_buffer(s), escaped(s)) << "Writer<StringBuffer>: length " << len << ", byte " << c
                                                          << " at " << at << " (RAPIDJSON_SSE2 defined again?)";
      }
    }
  }
}

TEST(JsonBuffer, NonAsciiBytesAndLongRunsAreCopiedUnchanged) {
  std::string s;
  for (int i = 0; i < 300; ++i) s += i % 7 == 0 ? "\xc3\xa9" : "x";
  s += '\x1e';
  s += std::string(40, 'y');
  EXPECT_EQ(ours(s), escaped(s));
}

TEST(JsonBuffer, NumbersRawValuesAndLiteralsMatchRapidJson) {
  output_buffer out;
  buffer_json_writer w;
  w.Reset(out);
  w.StartObject();
  w.key<"a">();
  w.Int(-2147483647 - 1);
  w.key<"b">();
  w.Uint64(18446744073709551615ull);
  w.key<"c">();
  w.Int64(-9223372036854775807LL - 1);
  w.key<"d">();
  w.RawValue("{\"x\":[1, 2]}", 12, rapidjson::kObjectType);
  w.key<"e">();
  w.string_literal<"text">();
  w.EndObject();
  EXPECT_EQ(out.view(),
            R"({"a":-2147483648,"b":18446744073709551615,"c":-9223372036854775808,"d":{"x":[1, 2]},"e":"text"})");
}

TEST(JsonBuffer, ReserveExactSizesAnEmptyBufferAndGrowthKeepsTheBytes) {
  output_buffer out;
  out.reserve_exact(10);
  EXPECT_EQ(out.capacity(), 10u);
  for (int i = 0; i < 1000; ++i) out.Put(static_cast<char>('a' + i % 26));
  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out.data()[i], static_cast<char>('a' + i % 26));
  output_buffer moved(std::move(out));
  EXPECT_EQ(moved.size(), 1000u);
  EXPECT_EQ(out.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from buffer is empty
}

}  // namespace
}  // namespace cg::emit
