#include "parse/payload_parser.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "core/format.h"

namespace cg::parse {
namespace {

struct parsed {
  bool ok{false};
  std::vector<contact_fields> contacts;
  reason err;
};

class PayloadParser : public ::testing::Test {
 protected:
  // A contact's `raw` is a view into the payload: keep each payload alive for the test.
  parsed run(std::string_view payload) {
    const std::string& held = payloads.emplace_back(payload);
    parsed p;
    p.ok = parser.parse(held, p.contacts, p.err);
    return p;
  }
  std::deque<std::string> payloads;
  payload_parser parser{payload_limits{}};
};

TEST_F(PayloadParser, SingleObjectIsOneContactWithRawBytes) {
  const std::string payload =
      R"(  {"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671",)"
      R"("country_iso_code":"US","zip_code":"94107","name":{"first":"Ana"},"tags":[1,2.5e3,true,null]} )";
  auto p = run(payload);
  ASSERT_TRUE(p.ok) << p.err.note;
  ASSERT_EQ(p.contacts.size(), 1u);
  const auto& c = p.contacts[0];
  EXPECT_EQ(c.index, 0u);
  EXPECT_EQ(c.correlation_id.kind, field_kind::string);
  EXPECT_EQ(c.correlation_id.text, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.contact_id.text, "+14155552671");
  EXPECT_EQ(c.country_iso_code.text, "US");
  EXPECT_EQ(c.zip_code.text, "94107");
  EXPECT_EQ(c.raw, payload.substr(2, payload.size() - 3));
}

TEST_F(PayloadParser, ArrayGivesContactsInOrderWithByteIdenticalRaw) {
  const std::string a = R"({"correlation_id":"a","contact_id":"+1"})";
  const std::string b = R"({ "x" : [ {"y":"}"} ] , "contact_id" : "+2" })";
  const std::string payload = "[" + a + " ,\n " + b + "]";
  auto p = run(payload);
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.contacts.size(), 2u);
  EXPECT_EQ(p.contacts[0].raw, a);
  EXPECT_EQ(p.contacts[1].raw, b);
  EXPECT_EQ(p.contacts[1].index, 1u);
  EXPECT_EQ(p.contacts[1].contact_id.text, "+2");
  EXPECT_EQ(p.contacts[1].correlation_id.kind, field_kind::absent);
}

// The pipeline produces an accepted contact's bytes without copying them: `raw` must point
// into the caller's payload (not the parser's padded copy, reused by the next parse), also
// after a UTF-8 BOM.
TEST_F(PayloadParser, RawViewsPointIntoTheCallersPayloadAndSurviveTheNextParse) {
  const std::string payload = "\xEF\xBB\xBF[{\"correlation_id\":\"a\"}, {\"correlation_id\":\"b\"}]";
  std::vector<contact_fields> contacts;
  reason err;
  ASSERT_TRUE(parser.parse(payload, contacts, err));
  ASSERT_EQ(contacts.size(), 2u);
  for (const auto& c : contacts) {
    EXPECT_GE(c.raw.data(), payload.data());
    EXPECT_LE(c.raw.data() + c.raw.size(), payload.data() + payload.size());
  }
  EXPECT_EQ(contacts[1].raw, R"({"correlation_id":"b"})");
  std::vector<contact_fields> other;
  ASSERT_TRUE(parser.parse(R"({"correlation_id":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"})", other, err));
  EXPECT_EQ(contacts[0].raw, R"({"correlation_id":"a"})");
}

TEST_F(PayloadParser, BulkRequestReadsContactsArray) {
  const std::string c0 = R"({"contact_id":"+1"})";
  const std::string c1 = R"({"contact_id":"+2"})";
  auto p = run(R"({"request_id":"r1","contacts":[)" + c0 + "," + c1 + R"(],"zip_code":"x"})");
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.contacts.size(), 2u);
  EXPECT_EQ(p.contacts[0].raw, c0);
  EXPECT_EQ(p.contacts[1].raw, c1);
}

TEST_F(PayloadParser, EscapedStringsAreUnescaped) {
  auto p = run(R"({"contact_id":"\u002b1415","zip_code":"a\"b"})");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.contacts[0].contact_id.text, "+1415");
  EXPECT_EQ(p.contacts[0].zip_code.text, "a\"b");
}

TEST_F(PayloadParser, WrongTypesAreFieldStatesNotMalformed) {
  auto p = run(R"({"correlation_id":123,"contact_id":null,"country_iso_code":["US"],"zip_code":{"a":1}})");
  ASSERT_TRUE(p.ok);
  const auto& c = p.contacts[0];
  EXPECT_EQ(c.correlation_id.kind, field_kind::wrong_type);
  EXPECT_EQ(c.contact_id.kind, field_kind::wrong_type);
  EXPECT_EQ(c.country_iso_code.kind, field_kind::wrong_type);
  EXPECT_EQ(c.zip_code.kind, field_kind::wrong_type);
}

TEST_F(PayloadParser, BigNumbersAreValidJson) {
  auto p = run(R"({"n":123456789012345678901234567890,"m":1e400,"k":-0.5E-3})");
  EXPECT_TRUE(p.ok) << p.err.note;
}

TEST_F(PayloadParser, LeadingBomIsIgnored) {
  auto p = run("\xEF\xBB\xBF{\"contact_id\":\"+1\"}");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.contacts[0].raw, "{\"contact_id\":\"+1\"}");
}

struct hostile_case {
  std::string name;
  std::string payload;
  detail expected;
  std::int64_t offset;  // -1: don't care
};

std::vector<hostile_case> hostile_corpus() {
  std::vector<hostile_case> v = {
      {"empty", "", detail::empty_payload, -1},
      {"whitespace", " \t\r ", detail::empty_payload, -1},
      {"truncated_object", R"({"contact_id":"+1)", detail::invalid_json, 17},
      {"truncated_array", R"([{"contact_id":"+1"},)", detail::invalid_json, 21},
      {"missing_colon", R"({"contact_id" "+1"})", detail::invalid_json, 14},
      {"trailing_comma", R"({"contact_id":"+1",})", detail::invalid_json, 19},
      {"trailing_garbage", R"({"contact_id":"+1"} x)", detail::invalid_json, 20},
      {"two_documents", R"({"a":1}{"b":2})", detail::invalid_json, 7},
      {"bad_literal", R"({"contact_id":"+1","x":nul})", detail::invalid_json, 23},
      {"bad_number", R"({"contact_id":"+1","x":01})", detail::invalid_json, 23},
      {"bad_escape", R"({"contact_id":"\x41"})", detail::invalid_json, 15},
      {"invalid_utf8", "{\"zip_code\":\"ab\xff\"}", detail::invalid_utf8, 15},
      {"invalid_utf8_in_key", "{\"k\xc3\":1}", detail::invalid_utf8, 3},
      {"nul_inside_string", std::string("{\"zip_code\":\"a\0b\"}", 18), detail::invalid_json, 14},
      {"nul_outside_string", std::string("{\"a\":1}\0", 8), detail::invalid_json, 7},
      {"raw_newline_in_string", "{\"zip_code\":\"a\nb\"}", detail::invalid_json, 14},
      {"root_string", R"("+14155552671")", detail::root_not_container, 0},
      {"root_number", "42", detail::root_not_container, 0},
      {"root_null", " null", detail::root_not_container, 1},
      {"array_of_strings", R"(["+1"])", detail::element_not_object, 1},
      {"array_with_null", R"([{"a":1}, null])", detail::element_not_object, 10},
      {"empty_array", "[]", detail::no_contacts, 0},
      {"empty_contacts", R"({"contacts":[]})", detail::no_contacts, 12},
      {"contacts_not_array", R"({"contacts":{"contact_id":"+1"}})", detail::contacts_not_array, 12},
      {"duplicate_contacts_key", R"({"contacts":[{}],"contacts":[{}]})", detail::duplicate_key, -1},
      {"duplicate_known_key", R"({"contact_id":"+1","contact_id":"+2"})", detail::duplicate_key, 0},
      {"bulk_element_not_object", R"({"contacts":[{"a":1},7]})", detail::element_not_object, 21},
  };
  // A root array's first element must be an object: that is the first problem found.
  v.push_back({"deep_100k_root", std::string(100000, '[') + std::string(100000, ']'), detail::element_not_object, 1});
  v.push_back({"deep_100k_in_contact", "[{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}]",
               detail::too_deep, -1});
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += "{\"a\":";
  nested += "1" + std::string(100000, '}');
  v.push_back({"deep_100k_objects", nested, detail::too_deep, -1});
  v.push_back({"not_json_word", "not json", detail::invalid_json, 0});
  v.push_back({"root_true_garbage", "true x", detail::invalid_json, 5});
  v.push_back({"deep_in_contact", "{\"x\":" + std::string(40, '[') + std::string(40, ']') + "}", detail::too_deep, -1});
  v.push_back({"string_10mb", "{\"zip_code\":\"" + std::string(10'000'000, 'a') + "\"}", detail::too_large, -1});
  return v;
}

TEST_F(PayloadParser, HostileInputsGetPreciseMalformedReasons) {
  for (const auto& hc : hostile_corpus()) {
    SCOPED_TRACE(hc.name);
    auto p = run(hc.payload);
    EXPECT_FALSE(p.ok);
    EXPECT_TRUE(p.contacts.empty());
    EXPECT_EQ(p.err.code, reason_code::malformed_payload);
    EXPECT_EQ(to_string(p.err.what), to_string(hc.expected));
    if (hc.offset >= 0) {
      EXPECT_EQ(p.err.byte_offset, hc.offset);
    }
    if (p.err.what == detail::invalid_json || p.err.what == detail::invalid_utf8) {
      EXPECT_GE(p.err.byte_offset, 0) << "every INVALID_JSON / INVALID_UTF8 verdict says where";
    }
  }
}

// Issue 12, section 3: a payload that is not JSON is INVALID_JSON / INVALID_UTF8 whatever
// its shape, with the byte where it stops being JSON and a note that says why.
TEST_F(PayloadParser, Issue12NotJsonBeatsContactShape) {
  struct c {
    std::string payload;
    detail what;
    std::int64_t offset;
    std::string_view note_has;
  };
  const std::vector<c> cases = {
      {"[1,]", detail::invalid_json, 3, "trailing comma"},
      {"[-01]", detail::invalid_json, 1, "leading zero"},
      {"[tru]", detail::invalid_json, 1, "invalid literal"},
      {"[][]", detail::invalid_json, 2, "after the complete JSON value"},
      {R"({"contacts":nul})", detail::invalid_json, 12, "invalid literal"},
      {R"({"contacts":[{}],"contacts":[{}], "x":})", detail::invalid_json, 38, "expected a value"},
      {R"({"contact_id":"+1","contact_id":"+2",})", detail::invalid_json, 37, "trailing comma"},
      {R"({"contacts":[{"contact_id":"+1"}]}])", detail::invalid_json, 34, "after the complete JSON value"},
      {R"({"contact_id":"+1"}})", detail::invalid_json, 19, "after the complete JSON value"},
      {R"(["+1", "\ud800"])", detail::invalid_json, 8, "lone UTF-16 high surrogate"},
      {"{\"x\":" + std::string(46, '[') + "1" + std::string(46, ']') + "}x", detail::invalid_json, 99,
       "after the complete JSON value"},
      {"[" + std::string(2000, '[') + "{}", detail::invalid_json, 2003, "ends inside an array"},
      {"\xEF\xBB\xBF[1,]", detail::invalid_json, 6, "trailing comma"},  // offsets count the BOM
      {std::string("\xFF\xFE[\0{\0}\0]\0", 10), detail::invalid_utf8, 0, "UTF-16LE"},
      {std::string("\0[\0{\0}\0]", 8), detail::invalid_utf8, 0, "UTF-16BE"},
      {std::string("{\0\0\0}\0\0\0", 8), detail::invalid_utf8, 0, "UTF-32LE"},
      {"[\"\xC3\x28\"]", detail::invalid_utf8, 2, ""},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.payload);
    auto p = run(tc.payload);
    ASSERT_FALSE(p.ok);
    EXPECT_EQ(to_string(p.err.what), to_string(tc.what));
    EXPECT_EQ(p.err.byte_offset, tc.offset);
    EXPECT_NE(p.err.note.find(tc.note_has), std::string_view::npos) << p.err.note;
  }
}

// ...and a payload that is JSON keeps its contact-shape verdict.
TEST_F(PayloadParser, Issue12JsonKeepsItsShapeVerdict) {
  EXPECT_EQ(run("[1]").err.what, detail::element_not_object);
  EXPECT_EQ(run("[[]]").err.what, detail::element_not_object);
  EXPECT_EQ(run(R"({"contacts":null})").err.what, detail::contacts_not_array);
  EXPECT_EQ(run(R"({"contacts":[{}],"contacts":[{}]})").err.what, detail::duplicate_key);
  EXPECT_EQ(run("[]").err.what, detail::no_contacts);
  EXPECT_EQ(run("1e999").err.what, detail::root_not_container);
  EXPECT_EQ(run(std::string("[\0]", 3)).err.what, detail::invalid_json);  // a NUL byte, not UTF-16
}

// A DUPLICATE_KEY reason names the repeated key in its note. The note must not borrow the
// parser's buffers: a rejection is often written after the next payload has been parsed.
TEST_F(PayloadParser, DuplicateKeyNoteOutlivesTheNextParse) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"contact_id":"+1","contact_id":"+2"})", "contact_id"},
      {R"({"zip_code":"1","correlation_id":"a","zip_code":"2"})", "zip_code"},
      {R"([{"country_iso_code":"US","country_iso_code":"FR"}])", "country_iso_code"},
      {R"({"contacts":[{"correlation_id":"a","correlation_id":"b"}]})", "correlation_id"},
      {R"({"contacts":[{}],"contacts":[{}]})", "contacts"},
  };
  for (const auto& [payload, key] : cases) {
    SCOPED_TRACE(payload);
    std::vector<contact_fields> contacts;
    reason err;
    ASSERT_FALSE(parser.parse(payload, contacts, err));
    ASSERT_EQ(err.what, detail::duplicate_key);
    EXPECT_EQ(err.note, key);
    const std::string message = describe(err);
    // Overwrites every buffer of the parser (the copy of the payload, simdjson's strings).
    std::vector<contact_fields> other;
    reason other_err;
    ASSERT_TRUE(parser.parse(R"({"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",)"
                             R"("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})",
                             other, other_err));
    EXPECT_EQ(err.note, key);
    EXPECT_EQ(describe(err), message);
  }
}

// parse_padded() reads the payload in place (the caller's buffer carries the padding): same
// verdicts, offsets, notes and contacts as parse(), whatever bytes follow the payload, and
// `raw` views into the caller's bytes.
TEST_F(PayloadParser, PaddedParseMatchesCopyingParse) {
  std::vector<std::string> cases = {
      R"({"correlation_id":"a","contact_id":"+14155552671","country_iso_code":"US","zip_code":"94107"})",
      R"([{"correlation_id":"a"}, {"correlation_id":"b","x":[1,2.5e3,true,null]}])",
      "\xEF\xBB\xBF[{\"correlation_id\":\"a\"}, {\"correlation_id\":\"b\"}]",
      R"({"request_id":"r1","contacts":[{"contact_id":"+1"},{"contact_id":"+2"}]})",
      R"({"contact_id":"\u002b1415","zip_code":"a\"b"})",
      R"({"n":123456789012345678901234567890,"m":1e400,"k":-0.5E-3})",
      R"([{"a":12)",
      R"({"a":tru)",
      R"({"a":"x)",
      "[1",
      "{\"a\":1} ",
      "{\"a\":-",
  };
  for (const auto& hc : hostile_corpus()) cases.push_back(hc.payload);
  // What follows the payload: a newline and the next line, zeros, or bytes that would continue it.
  const std::vector<std::string> tails = {"\n{\"contact_id\":\"+2\"}\n", std::string(payload_padding, '\0'),
                                          "3]}\"\\ \"}true1e5,", std::string(payload_padding, ' ')};
  // The unescaped fields view the parser's buffers, reused by the next parse: keep copies.
  const auto snapshot = [](const parsed& p) {
    std::vector<std::string> v{p.ok ? std::string("ok") : describe(p.err), std::string(to_string(p.err.what))};
    for (const contact_fields& c : p.contacts) {
      for (const field_value* f : {&c.correlation_id, &c.contact_id, &c.country_iso_code, &c.zip_code}) {
        v.push_back(std::to_string(static_cast<int>(f->kind)) + ":" + std::string(f->text));
      }
      v.push_back(std::to_string(c.index) + ":" + std::string(c.raw));
    }
    return v;
  };
  for (const auto& payload : cases) {
    for (const auto& tail : tails) {
      SCOPED_TRACE(payload.substr(0, 80) + " + tail " + std::to_string(&tail - tails.data()));
      const parsed want = run(payload);
      const auto want_snapshot = snapshot(want);
      std::string buf = payload + tail;
      buf.resize(std::max(buf.size(), payload.size() + payload_padding), 'x');
      const std::string_view view(buf.data(), payload.size());
      parsed got;
      got.ok = parser.parse_padded(view, got.contacts, got.err);
      EXPECT_EQ(got.ok, want.ok);
      EXPECT_EQ(got.err.what, want.err.what);
      EXPECT_EQ(got.err.byte_offset, want.err.byte_offset);
      EXPECT_EQ(got.err.number, want.err.number);
      EXPECT_EQ(snapshot(got), want_snapshot);
      for (const contact_fields& c : got.contacts) {
        EXPECT_GE(c.raw.data(), buf.data());
        EXPECT_LE(c.raw.data() + c.raw.size(), buf.data() + payload.size());
      }
    }
  }
}

TEST_F(PayloadParser, ParserIsReusableAfterErrors) {
  for (const auto& hc : hostile_corpus()) {
    (void)run(hc.payload);
    auto p = run(R"({"contact_id":"+1"})");
    ASSERT_TRUE(p.ok) << "after " << hc.name;
    EXPECT_EQ(p.contacts[0].contact_id.text, "+1");
  }
}

TEST(PayloadParserLimits, TenMegabyteStringIsReadWhenTheLimitAllows) {
  payload_parser parser(payload_limits{
      .max_payload_bytes = 20'000'000, .max_depth = 32, .max_contacts = 10, .max_string_bytes = 20'000'000});
  const std::string big(10'000'000, 'a');
  std::vector<contact_fields> out;
  reason err;
  ASSERT_TRUE(parser.parse("{\"zip_code\":\"" + big + "\"}", out, err));
  EXPECT_EQ(out[0].zip_code.text.size(), big.size());
}

TEST(PayloadParserLimits, LongStringsAreMalformedWithTheirOffset) {
  payload_parser parser(
      payload_limits{.max_payload_bytes = 1000, .max_depth = 32, .max_contacts = 10, .max_string_bytes = 8});
  std::vector<contact_fields> out;
  reason err;
  EXPECT_TRUE(parser.parse(R"({"zip_code":"12345678"})", out, err));
  EXPECT_FALSE(parser.parse(R"({"zip_code":"123456789"})", out, err));
  EXPECT_EQ(err.what, detail::string_too_long);
  EXPECT_EQ(err.byte_offset, 12);
  EXPECT_FALSE(parser.parse(R"({"x":{"y":"123456789"}})", out, err));
  EXPECT_EQ(err.what, detail::string_too_long);
  EXPECT_FALSE(parser.parse(R"({"a_very_long_key":1})", out, err));
  EXPECT_EQ(err.what, detail::string_too_long);
}

TEST(PayloadParserLimits, TooManyContactsIsMalformed) {
  payload_parser parser(
      payload_limits{.max_payload_bytes = 1000, .max_depth = 32, .max_contacts = 2, .max_string_bytes = 100});
  std::vector<contact_fields> out;
  reason err;
  EXPECT_TRUE(parser.parse("[{},{}]", out, err));
  EXPECT_FALSE(parser.parse("[{},{},{}]", out, err));
  EXPECT_EQ(err.what, detail::too_many_contacts);
  EXPECT_EQ(err.byte_offset, 7);
}

TEST(PayloadParserLimits, DepthLimitCountsTheRootAsOne) {
  payload_parser parser(
      payload_limits{.max_payload_bytes = 1000, .max_depth = 3, .max_contacts = 10, .max_string_bytes = 100});
  std::vector<contact_fields> out;
  reason err;
  EXPECT_TRUE(parser.parse(R"([{"a":[1]}])", out, err));     // 3 levels
  EXPECT_FALSE(parser.parse(R"([{"a":[[1]]}])", out, err));  // 4 levels
  EXPECT_EQ(err.what, detail::too_deep);
  EXPECT_EQ(err.byte_offset, 7);
}

}  // namespace
}  // namespace cg::parse
