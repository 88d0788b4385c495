#include "app/verdict_writer.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "emit/json_writer.h"

namespace cg::app {
namespace {

// The line as a plain RapidJSON Writer<StringBuffer> writes it (no specialisation of ours).
std::string reference_line(std::size_t line_no, const contact_outcome& co) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("line");
  w.Uint64(line_no);
  w.Key("index");
  w.Uint(co.index);
  w.Key("correlation_id");
  if (co.correlation_id.kind == field_kind::string) {
    w.String(co.correlation_id.text.data(), static_cast<rapidjson::SizeType>(co.correlation_id.text.size()));
  } else {
    w.Null();
  }
  w.Key("status");
  w.String(co.accepted() ? "accepted" : "rejected");
  if (!co.accepted()) {
    w.Key("error_code");
    w.Int(30647);
  }
  w.Key("reasons");
  w.StartArray();
  for (const reason& r : co.reasons) {
    std::string json;
    emit::string_sink sink(json);
    emit::json_writer rw(sink);
    emit::write_reason(rw, r);
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

// Every string length from 0 to 40 with a byte to escape (or a UTF-8 / invalid byte) at every
// position: the unescaped runs are copied 16, 8 or 4 bytes at a time, the rest by RapidJSON.
TEST(VerdictWriter, LinesEqualRapidJsonWriterForEveryEscapePosition) {
  verdict_writer vw;
  output_buffer out;
  const std::string_view specials[] = {
      "\"", "\\", std::string_view("\0", 1), "\x01", "\x1F", "\n", "\x7F", "\xFF", "\xC3\xA9", " "};
  std::size_t line_no = 0;
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (std::string_view special : specials) {
        std::string id(len, 'a');
        id.insert(at, special);
        contact_outcome co;
        co.index = static_cast<std::uint32_t>(at);
        co.correlation_id = field_value{field_kind::string, id};
        if (len % 3 == 0) {
          reason r;
          r.code = reason_code::invalid_correlation_id;
          r.field = field_id::correlation_id;
          r.what = detail::wrong_length;
          r.number = static_cast<std::int64_t>(id.size());
          co.reasons.push(r);
        }
        out.clear();
        vw.write_contact(out, ++line_no * 1000003, co);
        ASSERT_EQ(std::string(out.data(), out.size()), reference_line(line_no * 1000003, co))
            << "length " << len << ", special at " << at;
      }
    }
  }
}

TEST(VerdictWriter, MalformedLineAndReasonNoteAreWrittenAsRapidJsonWould) {
  verdict_writer vw;
  output_buffer out;
  reason r;
  r.code = reason_code::malformed_payload;
  r.what = detail::invalid_json;
  r.byte_offset = 12;
  r.note = "a \"quoted\"\tnote";
  vw.write_malformed(out, 7, r);
  std::string json;
  emit::string_sink sink(json);
  emit::json_writer rw(sink);
  emit::write_reason(rw, r);
  EXPECT_EQ(std::string(out.data(), out.size()),
            R"({"line":7,"index":null,"correlation_id":null,"status":"rejected","error_code":30647,"reasons":[)" +
                json + "]}\n");
  // Accepted, absent correlation_id; appended after the first line.
  contact_outcome co;
  vw.write_contact(out, 8, co);
  EXPECT_EQ(std::string(out.data(), out.size()).substr(out.size() - 76),
            R"({"line":8,"index":0,"correlation_id":null,"status":"accepted","reasons":[]})"
            "\n");
}

}  // namespace
}  // namespace cg::app
