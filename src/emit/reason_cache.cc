#include "emit/reason_cache.h"

#include <cstdint>
#include <functional>

#include "emit/json_writer.h"

namespace cg::emit {

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

std::string_view reason_json_cache::json_of(const reason& r) {
  slot& s = _slots[hash_of(r) % _slots.size()];
  if (!s.used || !(s.key == r)) {
    s.note.assign(r.note);
    s.key = r;
    s.key.note = s.note;
    s.json.clear();
    string_sink sink(s.json);
    json_writer w(sink);
    write_reason(w, r);
    s.used = true;
  }
  return s.json;
}

}  // namespace cg::emit
