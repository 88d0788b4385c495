#include "app/verdict_writer.h"

#include <string_view>

namespace cg::app {

void verdict_writer::write_reason(const reason& r) {
  const std::string_view json = _reasons.json_of(r);
  _w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

void verdict_writer::write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co) {
  _w.Reset(out);
  _w.StartObject();
  _w.key<"line">();
  _w.Uint64(line_no);
  _w.key<"index">();
  _w.Uint(co.index);
  _w.key<"correlation_id">();
  if (co.correlation_id.kind == field_kind::string) {
    _w.String(co.correlation_id.text.data(), static_cast<rapidjson::SizeType>(co.correlation_id.text.size()));
  } else {
    _w.Null();
  }
  _w.key<"status">();
  if (co.accepted()) {
    _w.string_literal<"accepted">();
  } else {
    _w.string_literal<"rejected">();
    _w.key<"error_code">();
    _w.Int(30647);
  }
  _w.key<"reasons">();
  _w.StartArray();
  for (const reason& r : co.reasons) write_reason(r);
  _w.EndArray();
  _w.EndObject();
  out.Put('\n');
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
