#include "parse/json_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parse/payload_parser.h"

namespace cg::parse {
namespace {

struct checked {
  bool ok{false};
  json_problem problem;
};

checked check(std::string_view text) {
  std::vector<std::uint64_t> stack(json_check_stack_words(text.size()));
  checked c;
  c.ok = check_json(text, stack, c.problem);
  return c;
}

TEST(JsonCheck, AcceptsEveryKindOfValue) {
  for (const std::string_view t :
       {"{}", "[]", " [1, -0.5e+10, 1E400, 123456789012345678901234567890, true, false, null] ", "\"\"",
        R"({"a":{"b":[{"c":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}]},"a":1})", "0", "-0", "\t\r\n{}\n",
        "\"\xF0\x9F\x98\x80\""}) {
    SCOPED_TRACE(t);
    const checked c = check(t);
    EXPECT_TRUE(c.ok) << c.problem.note << " at " << c.problem.offset;
  }
}

TEST(JsonCheck, NamesTheFirstByteThatIsNotJson) {
  struct tc {
    std::string_view text;
    std::size_t offset;
    std::string_view note_has;
  };
  for (const tc& t : std::vector<tc>{
           {"", 0, "no JSON value"},
           {"[1 2]", 3, "expected ',' or ']'"},
           {R"({"a" 1})", 5, "expected ':'"},
           {R"({"a":1 "b":2})", 7, "expected ',' or '}'"},
           {R"({"a":1,})", 7, "trailing comma"},
           {"{,}", 1, "expected a string key or '}'"},
           {"[,1]", 1, "comma with no element"},
           {"[01]", 1, "leading zero"},
           {"[1.]", 1, "digit must follow '.'"},
           {"[1e]", 1, "exponent"},
           {"[nulll]", 5, "expected ',' or ']'"},
           {"[\"\\u12\"]", 2, "four hexadecimal digits"},
           {"[\"\\udc00\"]", 2, "low surrogate"},
           {"[\"\\ud800\\u0041\"]", 2, "high surrogate"},
           {"[\"a\x01\"]", 3, "control character"},
           {"[\"abc", 5, "ends inside a string"},
           {"{\"a\":[", 6, "ends where a value was expected"},
           {"{} {}", 3, "after the complete JSON value"},
       }) {
    SCOPED_TRACE(t.text);
    const checked c = check(t.text);
    ASSERT_FALSE(c.ok);
    EXPECT_EQ(c.problem.what, detail::invalid_json);
    EXPECT_EQ(c.problem.offset, t.offset);
    EXPECT_NE(c.problem.note.find(t.note_has), std::string_view::npos) << c.problem.note;
  }
}

TEST(JsonCheck, ChecksUtf8BeforeGrammar) {
  const checked c = check("[1,,\"\xE0\x80\x80\"]");  // a grammar error first, an overlong form later
  ASSERT_FALSE(c.ok);
  EXPECT_EQ(c.problem.what, detail::invalid_utf8);
  EXPECT_EQ(c.problem.offset, 5u);
}

TEST(JsonCheck, AnyDepthInConstantNativeStack) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  EXPECT_TRUE(check(deep).ok);
  const checked c = check(deep.substr(0, 1'999'999));
  ASSERT_FALSE(c.ok);
  EXPECT_EQ(c.problem.offset, 1'999'999u);
}

TEST(JsonCheck, TooSmallStackIsReportedNotOverrun) {
  std::vector<std::uint64_t> stack(1);
  json_problem p;
  EXPECT_FALSE(check_json(std::string(65, '[') + std::string(65, ']'), stack, p));
  EXPECT_NE(p.note.find("stack too small"), std::string_view::npos);
}

// The fast path (simdjson on-demand) and the strict checker must agree on what is JSON:
// mutants of contact payloads, one byte inserted, deleted or replaced at every position.
// Accepted by the parser => JSON; INVALID_JSON/INVALID_UTF8 exactly when the checker
// refuses, at the checker's offset.
TEST(JsonCheck, AgreesWithThePayloadParserOnMutants) {
  const std::vector<std::string> seeds = {
      R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US","zip_code":"94107"})",
      R"([{"contact_id":"+1","x":[1,2.5e3,true,null,{"y":"\u00e9"}]},{"zip_code":"a\"b"}])",
      R"({"request_id":"r1","contacts":[{"contact_id":"+1"},{"contact_id":"+2","n":-0.1}]})",
  };
  const std::string alphabet = std::string("{}[],:\"\\ -.eE01atfnu/", 21) + std::string("\0\x7f\xc3\xff\n", 5);
  payload_parser parser;
  std::vector<contact_fields> out;
  reason err;
  std::size_t mutants = 0, disagreements = 0;
  auto judge = [&](const std::string& m) {
    ++mutants;
    const bool ok = parser.parse(m, out, err);
    std::string_view text = m;
    std::int64_t shift = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") {
      text.remove_prefix(3);
      shift = 3;
    }
    const checked c = check(text);
    const bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
    bool agree = true;
    if (ok) {
      agree = c.ok;
    } else if (blank) {
      agree = err.what == detail::empty_payload;
    } else if (!c.ok) {
      agree = err.what == c.problem.what && err.byte_offset == static_cast<std::int64_t>(c.problem.offset) + shift;
    } else {
      agree = err.what != detail::invalid_json && err.what != detail::invalid_utf8 && err.what != detail::empty_payload;
    }
    if (!agree && ++disagreements <= 10) {
      ADD_FAILURE() << "disagreement on " << m << ": parser " << (ok ? "accepts" : to_string(err.what)) << ", checker "
                    << (c.ok ? "accepts" : c.problem.note);
    }
  };
  for (const auto& s : seeds) {
    judge(s);
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (i < s.size()) judge(s.substr(0, i) + s.substr(i + 1));
      for (const char ch : alphabet) {
        judge(s.substr(0, i) + ch + s.substr(i));
        if (i < s.size()) {
          std::string r = s;
          r[i] = ch;
          judge(r);
        }
      }
    }
  }
  EXPECT_EQ(disagreements, 0u) << "of " << mutants << " mutants";
  EXPECT_GT(mutants, 10000u);
}

}  // namespace
}  // namespace cg::parse
