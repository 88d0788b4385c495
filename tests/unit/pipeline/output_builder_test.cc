// The output builder without a broker: what a worker turns one input message into (values,
// keys, librdkafka header lists, counters), in every pipeline.mode and on contactgate's own
// failures.
#include "pipeline/output_builder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>

#include "pipeline/kafka.h"
#include "validate/payload_validator.h"

namespace cg::pipeline {
namespace {

std::map<std::string, std::string> headers_of(const rd_kafka_headers_t* hs) {
  std::map<std::string, std::string> out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(hs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
    out[name] = std::string(static_cast<const char*>(value), size);
  return out;
}

class OutputBuilder : public ::testing::Test {
 protected:
  OutputBuilder() {
    cfg.input_topic = "contacts.in";
    cfg.internal_retries = 2;
  }
  ~OutputBuilder() override {
    for (rd_kafka_headers_t* h : headers) {
      if (h) rd_kafka_headers_destroy(h);
    }
  }

  // The input lives in `held` until the next build (outputs' values are views into it).
  void build(std::string payload, const rd_kafka_headers_t* in_headers = nullptr, std::int64_t offset = 7) {
    held = std::move(payload);
    input_record in;
    in.payload = held;
    in.partition = 3;
    in.offset = offset;
    in.timestamp_ms = 1795801295000;
    in.headers = in_headers;
    output_builder b(cfg, info, st);
    b.build(in, scratch, outputs, headers);
  }

  config::settings cfg;
  validate::reference_phone_validator phones;
  validate::rule_set rules{phones, validate::postal_table::builtin()};
  emit::validator_info info = emit::make_validator_info("t", "p", "c", "z");
  stats st;
  output_builder::scratch scratch{validate::payload_validator(rules)};
  std::string held;
  emit::out_list outputs;
  header_lists headers;
};

const std::string good =
    R"({"correlation_id":"0123456789abcdef0123456789abcdef","contact_id":"+14155552671","country_iso_code":"US"})";
const std::string bad = R"({"correlation_id":"abc","contact_id":"+14155552671","country_iso_code":"US"})";

TEST_F(OutputBuilder, AcceptedValueIsTheInputsBytesWithHeadersBuiltOnce) {
  build("[" + good + "," + bad + "]");
  ASSERT_EQ(outputs.size(), 2u);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(outputs[0].dest, emit::destination::accepted);
  EXPECT_EQ(outputs[0].value(), good);
  EXPECT_EQ(outputs[0].value().data(), held.data() + 1) << "no copy: a view into the input";
  EXPECT_EQ(outputs[0].key(), "0123456789abcdef0123456789abcdef");
  const auto h0 = headers_of(headers[0]);
  EXPECT_EQ(h0.at("contactgate.source.topic"), "contacts.in");
  EXPECT_EQ(h0.at("contactgate.source.partition"), "3");
  EXPECT_EQ(h0.at("contactgate.source.offset"), "7");
  EXPECT_EQ(h0.at("contactgate.source.index"), "0");
  EXPECT_EQ(h0.at("contactgate.correlation_id"), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(h0.size(), 5u);
  EXPECT_EQ(outputs[1].dest, emit::destination::rejected);
  const auto h1 = headers_of(headers[1]);
  EXPECT_EQ(h1.at("contactgate.error.reasons"), "INVALID_CORRELATION_ID:WRONG_LENGTH");
  EXPECT_EQ(h1.at("contactgate.source.index"), "1");
  EXPECT_EQ(st.contacts_accepted.load(), 1u);
  EXPECT_EQ(st.contacts_rejected.load(), 1u);
}

TEST_F(OutputBuilder, RedriveHeadersOfTheInputGoOnEveryOutputOthersDoNot) {
  rd_kafka_headers_t* in = rd_kafka_headers_new(3);
  rd_kafka_header_add(in, "contactgate.redrive.count", -1, "2", 1);
  rd_kafka_header_add(in, "contactgate.redrive.id", -1, "run-1", 5);
  rd_kafka_header_add(in, "traceparent", -1, "00-abc", 6);
  build("[" + good + "," + bad + "]", in);
  for (rd_kafka_headers_t* h : headers) {
    const auto m = headers_of(h);
    EXPECT_EQ(m.at("contactgate.redrive.count"), "2");
    EXPECT_EQ(m.at("contactgate.redrive.id"), "run-1");
    EXPECT_EQ(m.count("traceparent"), 0u);
  }
  rd_kafka_headers_destroy(in);
}

TEST_F(OutputBuilder, RecentRejectionsNameTheContactAndMaskItsPhone) {
  build("[" + good + "," + bad + "]");
  const auto recent = st.recent_rejections();
  ASSERT_EQ(recent.size(), 1u);
  const std::string& line = recent[0];
  EXPECT_NE(line.find(" p3@7[1] correlation_id=abc contact_id="), std::string::npos) << line;
  EXPECT_EQ(line.find("4155552671"), std::string::npos) << "phone numbers are masked: " << line;
  EXPECT_NE(line.find(" reasons=INVALID_CORRELATION_ID:"), std::string::npos) << line;
}

TEST_F(OutputBuilder, MalformedPayloadIsOneRejectionWithoutIndex) {
  build("{not json");
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_TRUE(outputs[0].malformed);
  const auto h = headers_of(headers[0]);
  EXPECT_EQ(h.count("contactgate.source.index"), 0u);
  EXPECT_EQ(h.count("contactgate.correlation_id"), 0u);
  EXPECT_EQ(st.payloads_malformed.load(), 1u);
}

TEST_F(OutputBuilder, PermanentFaultsBecomeRetryableInternalServerErrorsAfterRetries) {
  cfg.fault_rate = 1.0;
  build("[" + good + "," + bad + "]");
  ASSERT_EQ(outputs.size(), 2u);
  for (const auto& o : outputs) {
    EXPECT_EQ(o.dest, emit::destination::rejected);
    ASSERT_EQ(o.reasons.size, 1u);
    EXPECT_EQ(o.reasons.begin()->code, reason_code::internal_server_error);
    simdjson::dom::parser p;
    simdjson::dom::element doc = p.parse(std::string(o.value()));
    EXPECT_TRUE(bool(doc["retryable"]));
  }
  EXPECT_EQ(st.internal_errors.load(), 2u);
  // The operator's view names each failed contact as topic/partition@offset[index].
  const auto recent = st.recent_internal_errors(now_ms());
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].source, "contacts.in/3@7[0]");
  EXPECT_EQ(recent[0].correlation_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(recent[1].source, "contacts.in/3@7[1]");
  cfg.fault_mode = "transient";  // fails the first attempt only: the retry succeeds
  build("[" + good + "]");
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].dest, emit::destination::accepted);
}

TEST_F(OutputBuilder, PassthroughCopiesBarePassthroughHeadersWritesContactgatesKeyAndHeaders) {
  cfg.mode = "passthrough";
  build(good);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].value(), good);
  EXPECT_FALSE(outputs[0].has_key());
  EXPECT_EQ(headers[0], nullptr);
  cfg.mode = "passthrough_headers";
  build(bad);  // not validated: the same shape of output whatever the content
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].dest, emit::destination::accepted);
  EXPECT_EQ(outputs[0].key(), "abc");
  const auto h = headers_of(headers[0]);
  EXPECT_EQ(h.size(), 5u);
  EXPECT_EQ(h.at("contactgate.correlation_id"), "abc");
  EXPECT_EQ(h.at("contactgate.source.offset"), "7");
}

TEST_F(OutputBuilder, ReplacementIsAnInternalServerErrorWithoutTheRecordMarkedAsSuch) {
  input_record in;
  in.payload = good;
  in.partition = 1;
  in.offset = 99;
  output_builder b(cfg, info, st);
  const emit::out_message r = b.replacement("0123456789abcdef0123456789abcdef", 0, in);
  EXPECT_TRUE(r.replaced);
  EXPECT_EQ(r.dest, emit::destination::rejected);
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(std::string(r.value()));
  EXPECT_TRUE(doc["record"].is_null());
  EXPECT_EQ(std::string_view(doc["record_encoding"]), "omitted");
  rd_kafka_headers_t* hs = output_builder::kafka_headers(r, b.source_of(in), nullptr);
  EXPECT_EQ(headers_of(hs).at("contactgate.replacement"), "1");
  rd_kafka_headers_destroy(hs);
  EXPECT_EQ(st.internal_errors.load(), 1u);
}

}  // namespace
}  // namespace cg::pipeline
