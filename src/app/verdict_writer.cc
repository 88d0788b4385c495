#include "app/verdict_writer.h"

#include <charconv>
#include <cstdint>
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

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
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

void append_rapidjson_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out.push_back('"');
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* copied = p;
  const auto escape_at = [&](const char* at) {
    const auto c = static_cast<unsigned char>(*at);
    const char e = escape_table[c];
    out.append(copied, static_cast<std::size_t>(at - copied));
    copied = at + 1;
    const char esc[6] = {'\\', e, '0', '0', hex[c >> 4], hex[c & 0xF]};
    out.append(esc, e == 'u' ? 6 : 2);
  };
#if defined(__SSE2__)
  // 16 bytes at a time: most strings (correlation ids) need no escape at all.
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));  // unsigned v <= 0x1F
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask == 0) {
      p += 16;
      continue;
    }
    p += __builtin_ctz(mask);
    escape_at(p);
    ++p;
  }
#endif
  for (; p < end; ++p)
    if (escape_table[static_cast<unsigned char>(*p)] != 0) escape_at(p);
  out.append(copied, static_cast<std::size_t>(end - copied));
  out.push_back('"');
}

void verdict_writer::append_reason(std::string& out, const reason& r) {
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

void verdict_writer::write_contact(std::string& out, std::size_t line_no, const contact_outcome& co) {
  out.append(R"({"line":)");
  append_uint(out, line_no);
  out.append(R"(,"index":)");
  append_uint(out, co.index);
  out.append(R"(,"correlation_id":)");
  if (co.correlation_id.kind == field_kind::string)
    append_rapidjson_string(out, co.correlation_id.text);
  else
    out.append("null");
  if (co.accepted()) {
    out.append(R"(,"status":"accepted","reasons":[]})"
               "\n");
    return;
  }
  out.append(R"(,"status":"rejected","error_code":30647,"reasons":[)");
  bool first = true;
  for (const reason& r : co.reasons) {
    if (!first) out.push_back(',');
    first = false;
    append_reason(out, r);
  }
  out.append("]}\n");
}

void verdict_writer::write_malformed(std::string& out, std::size_t line_no, const reason& r) {
  out.append(R"({"line":)");
  append_uint(out, line_no);
  out.append(R"(,"index":null,"correlation_id":null,"status":"rejected","error_code":30647,"reasons":[)");
  append_reason(out, r);
  out.append("]}\n");
}

}  // namespace cg::app
