#include "app/verdict_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "emit/json_writer.h"

namespace cg::app {

namespace {

// RapidJSON 1.1.0 writer.h, Writer::WriteString: the byte after the backslash, 0 = copied.
constexpr std::array<char, 256> escape_table = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

// RapidJSON writes integers in plain decimal, as to_chars does.
char* write_uint(char* o, std::uint64_t v) noexcept { return std::to_chars(o, o + 20, v).ptr; }

template <std::size_t N>
char* write_literal(char* o, const char (&text)[N]) noexcept {
  std::memcpy(o, text, N - 1);
  return o + N - 1;
}

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
  const std::size_t cap = std::max(_size + n, std::max<std::size_t>(_cap * 2, 1 << 16));
  auto data = std::make_unique_for_overwrite<char[]>(cap);
  if (_size > 0) std::memcpy(data.get(), _data.get(), _size);
  _data = std::move(data);
  _cap = cap;
}

void append_rapidjson_string(output_buffer& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  // Worst case: every byte becomes \u00XX.
  char* o = out.reserve(2 + 6 * s.size());
  *o++ = '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  const auto escape = [&o](unsigned char c) {
    const char e = escape_table[c];
    *o++ = '\\';
    *o++ = e;
    if (e == 'u') {
      *o++ = '0';
      *o++ = '0';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 0xF];
    }
  };
#if defined(__SSE2__)
  // 16 bytes at a time, stored whole before looking (the reserve above leaves room: at most
  // 1 + 6 * read bytes are written, and 16 more bytes remain to be read). Most strings
  // (correlation ids) need no escape at all.
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));  // unsigned v <= 0x1F
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask == 0) {
      p += 16;
      o += 16;
      continue;
    }
    const auto k = static_cast<unsigned>(__builtin_ctz(mask));
    p += k;
    o += k;
    escape(static_cast<unsigned char>(*p++));
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (escape_table[c] == 0)
      *o++ = *p;
    else
      escape(c);
  }
  *o++ = '"';
  out.commit(o);
}

void verdict_writer::append_reason(output_buffer& out, const reason& r) {
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
  out.append(s.json);
}

void verdict_writer::write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co) {
  char* o = out.reserve(128);  // the longest line head and tail: 119 bytes
  o = write_literal(o, R"({"line":)");
  o = write_uint(o, line_no);
  o = write_literal(o, R"(,"index":)");
  o = write_uint(o, co.index);
  o = write_literal(o, R"(,"correlation_id":)");
  if (co.correlation_id.kind == field_kind::string) {
    out.commit(o);
    append_rapidjson_string(out, co.correlation_id.text);
    o = out.reserve(64);
  } else {
    o = write_literal(o, "null");
  }
  if (co.accepted()) {
    o = write_literal(o, R"(,"status":"accepted","reasons":[]})"
                         "\n");
    out.commit(o);
    return;
  }
  o = write_literal(o, R"(,"status":"rejected","error_code":30647,"reasons":[)");
  out.commit(o);
  bool first = true;
  for (const reason& r : co.reasons) {
    if (!first) out.append(",");
    first = false;
    append_reason(out, r);
  }
  out.append("]}\n");
}

void verdict_writer::write_malformed(output_buffer& out, std::size_t line_no, const reason& r) {
  char* o = out.reserve(128);
  o = write_literal(o, R"({"line":)");
  o = write_uint(o, line_no);
  o = write_literal(o, R"(,"index":null,"correlation_id":null,"status":"rejected","error_code":30647,"reasons":[)");
  out.commit(o);
  append_reason(out, r);
  out.append("]}\n");
}

}  // namespace cg::app
