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

// Every shape of a contact's line (its fixed parts are copied, not written call by call):
// accepted or rejected with 1 to 4 reasons, correlation_id absent, of the wrong type or a
// string, and the integers at their extremes.
TEST(VerdictWriter, EveryLineShapeEqualsRapidJsonWriter) {
  verdict_writer vw;
  output_buffer out;
  const field_value ids[] = {{},
                             {field_kind::wrong_type, {}},
                             {field_kind::string, "0123456789abcdef0123456789ABCDEF"},
                             {field_kind::string, ""},
                             {field_kind::string, "a\"b"}};
  const std::size_t line_nos[] = {0, 1, 9, 10, 99999999, 100000000, 18446744073709551615ull};
  const std::uint32_t indexes[] = {0, 7, 4294967295u};
  for (const field_value& id : ids) {
    for (std::size_t reasons = 0; reasons <= 4; ++reasons) {
      for (std::size_t n = 0; n < std::size(line_nos); ++n) {
        contact_outcome co;
        co.index = indexes[n % std::size(indexes)];
        co.correlation_id = id;
        for (std::size_t k = 0; k < reasons; ++k) {
          reason r;
          r.code = static_cast<reason_code>(k);
          r.field = static_cast<field_id>(k);
          r.what = k % 2 == 0 ? detail::wrong_type : detail::missing;
          co.reasons.push(r);
        }
        out.clear();
        vw.write_contact(out, line_nos[n], co);
        vw.write_contact(out, line_nos[n], co);  // appended: the second line is the same
        const std::string line = reference_line(line_nos[n], co);
        ASSERT_EQ(std::string(out.data(), out.size()), line + line) << reasons << " reasons, line " << line_nos[n];
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
