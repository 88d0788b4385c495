// JSONTestSuite (Nicolas Seriot's, ../shared/conformance/JSONTestSuite/test_parsing from the
// repository root), run whole and as it is: each file is one payload, read as bytes. Issue 12
// section 3. What each i_ file gets is written down in json_test_suite.md beside this file,
// and checked here, so the two cannot drift apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/format.h"
#include "parse/payload_parser.h"

namespace cg::parse {
namespace {

namespace fs = std::filesystem;

// Set by tests/CMakeLists.txt: <repository>/../shared/conformance/JSONTestSuite/test_parsing.
const fs::path suite_dir{CG_JSON_TEST_SUITE_DIR};

struct suite_file {
  std::string name;
  std::string bytes;
};

std::vector<suite_file> load(char prefix) {
  std::vector<suite_file> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(suite_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 2 || name[0] != prefix || name[1] != '_' || !e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files.push_back({name, std::move(bytes)});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return files;
}

struct verdict {
  bool ok{false};
  reason err;
};

verdict judge(payload_parser& parser, std::string_view payload) {
  verdict v;
  std::vector<contact_fields> contacts;
  v.ok = parser.parse(payload, contacts, v.err);
  return v;
}

bool is_not_json(detail d) { return d == detail::invalid_json || d == detail::invalid_utf8; }

// Blank after an optional UTF-8 byte order mark: what EMPTY_PAYLOAD means (README).
bool is_blank(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

class JsonTestSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    // Never skip: CI checks the suite out beside the clone (shared/ next to the repository).
    ASSERT_TRUE(fs::is_directory(suite_dir))
        << "JSONTestSuite not found at " << suite_dir
        << ": the test needs ../shared/conformance/JSONTestSuite/test_parsing beside the repository";
  }
  payload_parser parser{payload_limits{}};  // the defaults of contactgate run / validate
};

// The suite at upstream commit 1ef36fa: 95 y_, 188 n_, 35 i_. A missing file is a failure.
TEST_F(JsonTestSuite, HoldsTheWholeSuite) {
  EXPECT_EQ(load('y').size(), 95u);
  EXPECT_EQ(load('n').size(), 188u);
  EXPECT_EQ(load('i').size(), 35u);
}

// Every y_ file is JSON: never INVALID_JSON / INVALID_UTF8 / EMPTY_PAYLOAD / a limit. It
// may still not be contacts (a scalar root, an array of numbers, an empty array).
TEST_F(JsonTestSuite, EveryYFileIsAcceptedAsJson) {
  const auto files = load('y');
  ASSERT_FALSE(files.empty());
  std::map<std::string, int> tally;
  for (const auto& f : files) {
    SCOPED_TRACE(f.name);
    const verdict v = judge(parser, f.bytes);
    tally[v.ok ? "contacts" : std::string(to_string(v.err.what))]++;
    if (v.ok) continue;
    EXPECT_EQ(v.err.code, reason_code::malformed_payload);
    const detail d = v.err.what;
    EXPECT_TRUE(d == detail::root_not_container || d == detail::element_not_object || d == detail::no_contacts ||
                d == detail::contacts_not_array || d == detail::duplicate_key)
        << to_string(d) << ": " << describe(v.err);
  }
  for (const auto& [what, n] : tally) std::cout << "[ y_ ] " << what << ": " << n << "\n";
}

// Every n_ file is not JSON, and says so: INVALID_JSON or INVALID_UTF8 with a byte offset
// inside the payload (the payload's size when it ends early) that the message repeats, or
// EMPTY_PAYLOAD for a blank payload. Nothing here reaches a limit (the deepest n_ file is
// not JSON either, and that is checked first).
TEST_F(JsonTestSuite, EveryNFileIsRejectedAsNotJson) {
  const auto files = load('n');
  ASSERT_FALSE(files.empty());
  std::map<std::string, int> tally;
  for (const auto& f : files) {
    SCOPED_TRACE(f.name);
    const verdict v = judge(parser, f.bytes);
    ASSERT_FALSE(v.ok);
    tally[std::string(to_string(v.err.what))]++;
    EXPECT_EQ(v.err.code, reason_code::malformed_payload);
    if (v.err.what == detail::empty_payload) {
      EXPECT_TRUE(is_blank(f.bytes));
      continue;
    }
    ASSERT_TRUE(is_not_json(v.err.what)) << to_string(v.err.what) << ": " << describe(v.err);
    EXPECT_GE(v.err.byte_offset, 0);
    EXPECT_LE(v.err.byte_offset, static_cast<std::int64_t>(f.bytes.size()));
    const std::string message = describe(v.err);
    EXPECT_NE(message.find("(at byte " + std::to_string(v.err.byte_offset) + ")"), std::string::npos) << message;
  }
  for (const auto& [what, n] : tally) std::cout << "[ n_ ] " << what << ": " << n << "\n";
}

// What each i_ file gets (json_test_suite.md lists the same, with the reasons).
TEST_F(JsonTestSuite, EveryIFileGetsTheDocumentedVerdict) {
  struct expected {
    const char* verdict;  // "contacts" or the MALFORMED_PAYLOAD detail
    std::int64_t offset;  // -1: none
  };
  const std::map<std::string, expected> documented = {
      {"i_number_double_huge_neg_exp.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_huge_exp.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_neg_int_huge_exp.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_pos_double_huge_exp.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_real_neg_overflow.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_real_pos_overflow.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_real_underflow.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_too_big_neg_int.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_too_big_pos_int.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_number_very_big_negative_int.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_object_key_lone_2nd_surrogate.json", {"INVALID_JSON", 2}},
      {"i_string_1st_surrogate_but_2nd_missing.json", {"INVALID_JSON", 2}},
      {"i_string_1st_valid_surrogate_2nd_invalid.json", {"INVALID_JSON", 2}},
      {"i_string_UTF-16LE_with_BOM.json", {"INVALID_UTF8", 0}},
      {"i_string_UTF-8_invalid_sequence.json", {"INVALID_UTF8", 7}},
      {"i_string_UTF8_surrogate_U+D800.json", {"INVALID_UTF8", 2}},
      {"i_string_incomplete_surrogate_and_escape_valid.json", {"INVALID_JSON", 2}},
      {"i_string_incomplete_surrogate_pair.json", {"INVALID_JSON", 2}},
      {"i_string_incomplete_surrogates_escape_valid.json", {"INVALID_JSON", 2}},
      {"i_string_invalid_lonely_surrogate.json", {"INVALID_JSON", 2}},
      {"i_string_invalid_surrogate.json", {"INVALID_JSON", 2}},
      {"i_string_invalid_utf-8.json", {"INVALID_UTF8", 2}},
      {"i_string_inverted_surrogates_U+1D11E.json", {"INVALID_JSON", 2}},
      {"i_string_iso_latin_1.json", {"INVALID_UTF8", 2}},
      {"i_string_lone_second_surrogate.json", {"INVALID_JSON", 2}},
      {"i_string_lone_utf8_continuation_byte.json", {"INVALID_UTF8", 2}},
      {"i_string_not_in_unicode_range.json", {"INVALID_UTF8", 2}},
      {"i_string_overlong_sequence_2_bytes.json", {"INVALID_UTF8", 2}},
      {"i_string_overlong_sequence_6_bytes.json", {"INVALID_UTF8", 2}},
      {"i_string_overlong_sequence_6_bytes_null.json", {"INVALID_UTF8", 2}},
      {"i_string_truncated-utf-8.json", {"INVALID_UTF8", 2}},
      {"i_string_utf16BE_no_BOM.json", {"INVALID_UTF8", 0}},
      {"i_string_utf16LE_no_BOM.json", {"INVALID_UTF8", 0}},
      {"i_structure_500_nested_arrays.json", {"ELEMENT_NOT_OBJECT", 1}},
      {"i_structure_UTF-8_BOM_empty_object.json", {"contacts", -1}},
  };
  const auto files = load('i');
  ASSERT_EQ(files.size(), documented.size());
  for (const auto& f : files) {
    SCOPED_TRACE(f.name);
    const auto it = documented.find(f.name);
    ASSERT_NE(it, documented.end()) << "not documented";
    const verdict v = judge(parser, f.bytes);
    EXPECT_EQ(v.ok ? std::string("contacts") : std::string(to_string(v.err.what)), it->second.verdict)
        << describe(v.err);
    if (!v.ok) {
      EXPECT_EQ(v.err.byte_offset, it->second.offset);
    }
  }
}

}  // namespace
}  // namespace cg::parse
