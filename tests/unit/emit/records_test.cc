#include "emit/records.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>

#include "validate/payload_validator.h"

namespace cg::emit {
namespace {

class Records : public ::testing::Test {
 protected:
  validate::reference_phone_validator phones;
  validate::rule_set rules{phones, validate::postal_table::builtin()};
  validate::payload_validator validator{rules};
  validator_info info = make_validator_info("1.2.3", "pn", "iso", "postal");
  source_info src{"contacts.upsert", 2, 1834, 1795801295781, false, {}};

  std::deque<std::string> payloads;  // an accepted output's value is a view into its payload
  std::vector<out_message> outputs(std::string_view p) {
    const std::string& payload = payloads.emplace_back(p);
    payload_outcome po;
    validator.validate(payload, po);
    out_list out;
    build_outputs(po, payload, src, info, 0, out);
    return {std::make_move_iterator(out.begin()), std::make_move_iterator(out.end())};
  }
  std::string header(const out_message& m, std::string_view name) const {
    for (const auto& h : collect_headers(m, src)) {
      if (h.name == name) return h.value;
    }
    return "<none>";
  }
};

TEST_F(Records, AcceptedIsTheExactObjectKeyedByCorrelationId) {
  const std::string c =
      R"({ "correlation_id" : "0123456789abcdef0123456789abcdef", "contact_id":"+14155552671","country_iso_code":"US","x":[1, 2] })";
  auto out = outputs("[" + c + "]");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dest, destination::accepted);
  EXPECT_EQ(out[0].value(), c);
  EXPECT_EQ(out[0].key(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(header(out[0], h_source_offset), "1834");
  EXPECT_EQ(header(out[0], h_source_index), "0");
}

TEST_F(Records, HeadersComeInADocumentedOrderWithoutAnInputKey) {
  auto ok = outputs(
      R"([{"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US"}])");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_TRUE(ok[0].value().data() >= payloads.back().data() &&
              ok[0].value().data() < payloads.back().data() + payloads.back().size())
      << "an accepted value is a view into the input payload (no copy)";
  std::vector<std::string> got;
  for (const auto& h : collect_headers(ok[0], src)) got.push_back(std::string(h.name) + "=" + h.value);
  EXPECT_EQ(got, (std::vector<std::string>{"contactgate.source.topic=contacts.upsert", "contactgate.source.partition=2",
                                           "contactgate.source.offset=1834", "contactgate.source.index=0",
                                           "contactgate.correlation_id=0123456789abcdef0123456789abcdef"}));
  auto bad = outputs(R"({"correlation_id":"abc","contact_id":"+14155552671","country_iso_code":"US"})");
  got.clear();
  for (const auto& h : collect_headers(bad[0], src)) got.push_back(std::string(h.name) + "=" + h.value);
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "contactgate.error.code=30647", "contactgate.error.reasons=INVALID_CORRELATION_ID:WRONG_LENGTH",
                "contactgate.source.topic=contacts.upsert", "contactgate.source.partition=2",
                "contactgate.source.offset=1834", "contactgate.source.index=0", "contactgate.correlation_id=abc"}));
  EXPECT_EQ(bad[0].key(), "abc");
  src.has_key = true;
  src.key = "k1";
  auto keyed = outputs(R"({"correlation_id":"abc","contact_id":"+14155552671","country_iso_code":"US"})");
  EXPECT_EQ(keyed[0].key(), "k1") << "the input's key wins over the correlation_id";
}

TEST_F(Records, RejectionRecordHasEveryFieldAndHeaders) {
  auto out = outputs(R"({"correlation_id":"abc","contact_id":"+10000000000","country_iso_code":"us"})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dest, destination::rejected);
  EXPECT_EQ(header(out[0], h_error_code), "30647");
  EXPECT_EQ(header(out[0], h_error_reasons),
            "INVALID_CORRELATION_ID:WRONG_LENGTH,INVALID_COUNTRY_ISO_CODE:NOT_UPPERCASE,INVALID_CONTACT_ID:NOT_VALID");
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(out[0].value());
  EXPECT_EQ(int64_t(doc["error_code"]), 30647);
  EXPECT_EQ(std::string_view(doc["error_message"]), "Failed to Upsert Contact");
  EXPECT_EQ(std::string_view(doc["correlation_id"]), "abc");
  EXPECT_EQ(bool(doc["retryable"]), false);
  EXPECT_EQ(simdjson::dom::array(doc["reasons"]).size(), 3u);
  EXPECT_EQ(std::string_view(doc["record"]["contact_id"]), "+10000000000");
  EXPECT_EQ(std::string_view(doc["record_encoding"]), "json");
  EXPECT_EQ(int64_t(doc["source"]["partition"]), 2);
  EXPECT_EQ(int64_t(doc["source"]["offset"]), 1834);
  EXPECT_EQ(int64_t(doc["source"]["index"]), 0);
  EXPECT_EQ(std::string_view(doc["validator"]["version"]), "1.2.3");
  EXPECT_EQ(std::string_view(doc["rejected_at"]), "1970-01-01T00:00:00.000Z");
}

TEST_F(Records, RejectionRecordBytes) {
  // The whole record, byte for byte: member order, escaping, the contact inserted verbatim.
  const payload_outcome po = [&] {
    payload_outcome o;
    validator.validate(R"({"correlation_id":"a\u00e9\"b","contact_id":"+14155552671","country_iso_code":"US" })", o);
    return o;
  }();
  out_list out;
  build_outputs(po, "", src, info, 1795801295781, out);
  ASSERT_EQ(out.size(), 1u);
  // RapidJSON escapes only what JSON requires: the unescaped é is written as UTF-8.
  EXPECT_EQ(
      out[0].value(),
      "{\"error_code\":30647,\"error_message\":\"Failed to Upsert Contact\",\"correlation_id\":\"a\xC3\xA9\\\"b\","
      R"x("retryable":false,"reasons":[{"code":"INVALID_CORRELATION_ID","field":"correlation_id",)x"
      R"x("detail":"WRONG_LENGTH","message":"correlation_id must be exactly 32 hexadecimal characters (found 4)"}],)x"
      R"x("record":{"correlation_id":"a\u00e9\"b","contact_id":"+14155552671","country_iso_code":"US" },)x"
      R"x("record_encoding":"json","source":{"topic":"contacts.upsert","partition":2,"offset":1834,"index":0,)x"
      R"x("timestamp":1795801295781},"validator":{"version":"1.2.3","phone_data":"pn","country_data":"iso",)x"
      R"x("postal_data":"postal"},"rejected_at":"2026-11-27T17:41:35.781Z"})x");
}

TEST_F(Records, HasRejectionIsTrueExactlyWhenARejectionRecordIsWritten) {
  for (const std::string_view p :
       {R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US"})",
        R"({"correlation_id":"abc","contact_id":"+14155552671","country_iso_code":"US"})",
        R"({"contacts":[{"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671"},)"
        R"({"correlation_id":"abc","contact_id":"+14155552671"}]})",
        "not json"}) {
    payload_outcome po;
    validator.validate(p, po);
    out_list out;
    build_outputs(po, p, src, info, 0, out);
    bool written = false;
    for (const auto& o : out) written |= o.dest == destination::rejected;
    EXPECT_EQ(po.has_rejection(), written) << p;
  }
}

TEST_F(Records, RejectedAtFollowsTheClockAcrossSecondsAndBack) {
  // rejected_at caches the formatted second per thread: every millisecond must still be exact,
  // also when the clock steps back.
  for (const std::int64_t ms : {1795801295781LL, 1795801295782LL, 1795801295999LL, 1795801296000LL, 1795801296001LL,
                                1795801295000LL, 1795887695123LL, 0LL, 1795801296001LL}) {
    auto out = outputs(R"({"correlation_id":"abc","contact_id":"+14155552671","country_iso_code":"US"})");
    out_list again;
    payload_outcome po;
    validator.validate(payloads.back(), po);
    build_outputs(po, payloads.back(), src, info, ms, again);
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(again[0].value());
    EXPECT_EQ(std::string_view(doc["rejected_at"]), iso8601_utc(ms)) << ms;
  }
}

TEST_F(Records, MalformedPayloadKeepsRawBytesAsStringOrBase64) {
  auto out = outputs("not json");
  ASSERT_EQ(out.size(), 1u);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(out[0].value());
  EXPECT_EQ(std::string_view(doc["record"]), "not json");
  EXPECT_EQ(std::string_view(doc["record_encoding"]), "string");
  EXPECT_TRUE(doc["source"]["index"].is_null());
  EXPECT_TRUE(doc["correlation_id"].is_null());
  auto bin = outputs(std::string("\xff\x00\x01", 3));
  simdjson::dom::element d2 = p.parse(bin[0].value());
  EXPECT_EQ(std::string_view(d2["record"]), "/wAB");
  EXPECT_EQ(std::string_view(d2["record_encoding"]), "base64");
}

TEST(RecordHelpers, Base64) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace cg::emit
