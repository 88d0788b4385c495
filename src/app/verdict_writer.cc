#include "app/verdict_writer.h"

#include <cstring>
#include <string_view>

namespace cg::app {

void verdict_writer::write_reason(const reason& r) {
  const std::string_view json = _reasons.json_of(r);
  _w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

namespace {

// The constant parts of a contact's line, exactly as RapidJSON's Writer writes them (the unit
// test compares whole lines with it).
constexpr std::string_view head_line = R"({"line":)";
constexpr std::string_view head_index = R"(,"index":)";
constexpr std::string_view head_id = R"(,"correlation_id":)";
constexpr std::string_view null_text = "null";
constexpr std::string_view tail_accepted = R"(,"status":"accepted","reasons":[]})"
                                           "\n";
constexpr std::string_view tail_rejected = R"(,"status":"rejected","error_code":30647,"reasons":[)";
constexpr std::string_view tail_end = "]}\n";
constexpr std::size_t u64_digits = 20, u32_digits = 10;

// Copies `s` into room already reserved.
void put(output_buffer& out, std::string_view s) noexcept {
  std::memcpy(out.push_unsafe(s.size()), s.data(), s.size());
}

}  // namespace

void verdict_writer::write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co) {
  out.reserve(head_line.size() + u64_digits + head_index.size() + u32_digits + head_id.size() + null_text.size());
  put(out, head_line);
  out.advance_to(rapidjson::internal::u64toa(line_no, out.cursor()));
  put(out, head_index);
  out.advance_to(rapidjson::internal::u32toa(co.index, out.cursor()));
  put(out, head_id);
  if (co.correlation_id.kind == field_kind::string) {
    // A root value of its own for the Writer: no separator before it, RapidJSON's escaping in it.
    _w.Reset(out);
    _w.String(co.correlation_id.text.data(), static_cast<rapidjson::SizeType>(co.correlation_id.text.size()));
  } else {
    put(out, null_text);
  }
  if (co.accepted()) {
    out.reserve(tail_accepted.size());
    put(out, tail_accepted);
    return;
  }
  out.reserve(tail_rejected.size());
  put(out, tail_rejected);
  bool first = true;
  for (const reason& r : co.reasons) {
    const std::string_view json = _reasons.json_of(r);
    out.reserve(json.size() + 1);
    if (!first) out.put_unsafe(',');
    first = false;
    put(out, json);
  }
  out.reserve(tail_end.size());
  put(out, tail_end);
}

void verdict_writer::write_malformed(output_buffer& out, std::size_t line_no, const reason& r) {
  _w.Reset(out);
  _w.StartObject();
  _w.key<"line">();
  _w.Uint64(line_no);
  _w.key<"index">();
  _w.Null();
  _w.key<"correlation_id">();
  _w.Null();
  _w.key<"status">();
  _w.string_literal<"rejected">();
  _w.key<"error_code">();
  _w.Int(30647);
  _w.key<"reasons">();
  _w.StartArray();
  write_reason(r);
  _w.EndArray();
  _w.EndObject();
  out.Put('\n');
}

}  // namespace cg::app
