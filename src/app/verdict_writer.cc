#include "app/verdict_writer.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>

#include "emit/json_writer.h"

namespace cg::app {

namespace {

std::size_t hash_of(const reason& r) noexcept {
  std::size_t h = std::hash<std::string_view>{}(r.note);
  const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x9E3779B97F4A7C15ull; };
  mix(static_cast<std::uint64_t>(r.code) | static_cast<std::uint64_t>(r.field) << 8 |
      static_cast<std::uint64_t>(r.what) << 16 | static_cast<std::uint64_t>(r.e164) << 24);
  mix(static_cast<std::uint64_t>(r.byte_offset));
  mix(static_cast<std::uint64_t>(r.number));
  return h ^ (h >> 29);
}

}  // namespace

void output_buffer::grow(std::size_t n) {
  const std::size_t size = this->size();
  const std::size_t cap =
      std::max(size + n, std::max<std::size_t>(2 * static_cast<std::size_t>(_limit - _data.get()), 1 << 16));
  auto data = std::make_unique_for_overwrite<char[]>(cap);
  if (size > 0) std::memcpy(data.get(), _data.get(), size);
  _data = std::move(data);
  _top = _data.get() + size;
  _limit = _data.get() + cap;
}

void verdict_writer::write_reason(const reason& r) {
  slot& s = _slots[hash_of(r) % slot_count];
  if (!s.used || !(s.key == r)) {
    s.note.assign(r.note);
    s.key = r;
    s.key.note = s.note;
    s.json.clear();
    emit::string_sink sink(s.json);
    emit::json_writer w(sink);
    emit::write_reason(w, r);
    s.used = true;
  }
  _w.RawValue(s.json.data(), s.json.size(), rapidjson::kObjectType);
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
