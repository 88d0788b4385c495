#pragma once
/// The output lines of `contactgate validate`, one JSON object per contact or malformed payload:
///
///   {"line":N,"index":I|null,"correlation_id":"..."|null,"status":"accepted"|"rejected"
///    [,"error_code":30647],"reasons":[{reason},...]}\n
///
/// Written with RapidJSON's Writer (issue 9: every JSON the program prints goes through a JSON
/// writer library), used so that it costs little per line: one Writer per thread, Reset() onto
/// the thread's output buffer for each line (its level stack is kept, not reallocated), and an
/// output stream that writes through a raw pointer into room reserved by RapidJSON
/// (PutReserve() then PutUnsafe(), as Writer::WriteString does). RapidJSON still decides every
/// escape; the two member specialisations below (RapidJSON's own extension point, as it uses for
/// Writer<StringBuffer> with SSE2) only copy the runs of bytes that need none, and raw values,
/// with one memcpy instead of one PutUnsafe per byte.
///
/// A reason's JSON ({"code":..,"field":..,"detail":..,"message":..[,"byte_offset":N]}) depends
/// only on the reason's value, so it is rendered once with emit::write_reason, kept in a small
/// direct-mapped cache (the note is copied into the cache, never borrowed) and inserted with
/// Writer::RawValue().
///
/// Threading: one writer per thread. Allocates only while its cache warms up or on misses.
#include <rapidjson/writer.h>
#if defined(RAPIDJSON_SSE2)
#include <emmintrin.h>
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/outcome.h"

namespace cg::app {

/// One thread's output lines for a batch; a RapidJSON output stream (Ch, Put, Flush, plus
/// PutReserve / PutUnsafe below). Grows as needed; clear() keeps its memory.
class output_buffer {
 public:
  using Ch = char;
  void Put(char c) {
    reserve(1);
    *_top++ = c;
  }
  void Flush() noexcept {}

  /// Room for at least `n` more bytes, for put_unsafe() / push_unsafe().
  void reserve(std::size_t n) {
    if (static_cast<std::size_t>(_limit - _top) < n) grow(n);
  }
  void put_unsafe(char c) noexcept { *_top++ = c; }
  /// The next `n` reserved bytes, to be written by the caller.
  char* push_unsafe(std::size_t n) noexcept { return std::exchange(_top, _top + n); }
  /// Where the next byte goes, for a writer that fills reserved room itself and then calls
  /// advance_to() with the end of what it wrote (at most the room reserved).
  [[nodiscard]] char* cursor() const noexcept { return _top; }
  void advance_to(char* end) noexcept { _top = end; }

  void clear() noexcept { _top = _data.get(); }
  [[nodiscard]] const char* data() const noexcept { return _data.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(_top - _data.get()); }
  [[nodiscard]] bool empty() const noexcept { return _top == _data.get(); }

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> _data;
  char* _top{nullptr};
  char* _limit{nullptr};
};

/// A compile-time string (a class-type template argument) for verdict_json_writer's literals.
template <std::size_t N>
struct fixed_text {
  char text[N]{};
  consteval fixed_text(const char (&s)[N]) {  // NOLINT(google-explicit-constructor): used as `key<"line">`
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }
};

/// RapidJSON's Writer over an output_buffer, extended as RapidJSON extends its own Writer
/// (PrettyWriter derives from it and reuses Prefix / EndValue): key<"...">() and
/// string_literal<"...">() write a Key / String whose text is known at compile time and checked
/// there to need no escape, so RapidJSON's WriteString would copy it unchanged: the quoted text
/// is copied with a fixed-size memcpy instead of scanned. Every other string goes through
/// RapidJSON's String() and its escaping. The document structure (commas, colons, levels) is
/// the Writer's own bookkeeping in every call.
///
/// Threading: one per thread, like the Writer.
class verdict_json_writer : public rapidjson::Writer<output_buffer> {
 public:
  template <fixed_text K>
  void key() {
    Prefix(rapidjson::kStringType);
    EndValue(write_quoted<K>());
  }
  template <fixed_text S>
  void string_literal() {
    Prefix(rapidjson::kStringType);
    EndValue(write_quoted<S>());
  }

 private:
  // RapidJSON's WriteString escapes exactly the bytes below 0x20, '"' and '\\'.
  template <fixed_text T>
  static consteval bool needs_no_escape() {
    for (std::size_t i = 0; i < T.size(); ++i) {
      const auto c = static_cast<unsigned char>(T.text[i]);
      if (c < 0x20 || c == '"' || c == '\\') return false;
    }
    return true;
  }
  template <fixed_text T>
  bool write_quoted() {
    static_assert(needs_no_escape<T>(), "a literal written without RapidJSON's escaping must need none");
    static constexpr auto quoted = [] {
      std::array<char, T.size() + 2> q{};
      q[0] = '"';
      for (std::size_t i = 0; i < T.size(); ++i) q[i + 1] = T.text[i];
      q[T.size() + 1] = '"';
      return q;
    }();
    os_->reserve(quoted.size());
    std::memcpy(os_->push_unsafe(quoted.size()), quoted.data(), quoted.size());
    return true;
  }
};

class verdict_writer {
 public:
  /// Appends one contact's line to `out`.
  void write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co);
  /// Appends the one line of a malformed payload (index and correlation_id null) to `out`.
  void write_malformed(output_buffer& out, std::size_t line_no, const reason& r);

 private:
  struct slot {
    bool used{false};
    reason key{};      // key.note views `note` below
    std::string note;  // owned copy of the reason's note
    std::string json;  // the rendered reason
  };
  static constexpr std::size_t slot_count = 4096;

  void write_reason(const reason& r);

  verdict_json_writer _w;  // Reset() onto the caller's buffer for each line
  std::vector<slot> _slots = std::vector<slot>(slot_count);
};

}  // namespace cg::app

namespace rapidjson {
template <>
inline void PutReserve(cg::app::output_buffer& s, std::size_t count) {
  s.reserve(count);
}
template <>
inline void PutUnsafe(cg::app::output_buffer& s, char c) {
  s.put_unsafe(c);
}
/// Copies the run of bytes that needs no escape (not '"', '\\' or below 0x20) in one memcpy
/// into the room WriteString() reserved; RapidJSON's WriteString escapes the byte that stops it.
template <>
inline bool Writer<cg::app::output_buffer>::ScanWriteUnescapedString(GenericStringStream<UTF8<>>& is, size_t length) {
  const char* const from = is.src_;
  const char* const end = is.head_ + length;
  const char* p = from;
#if defined(RAPIDJSON_SSE2)
  // The same test as RapidJSON's SSE2 scan for Writer<StringBuffer>, on unaligned loads.
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), below = _mm_set1_epi8(0x19);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                     _mm_cmpeq_epi8(_mm_max_epu8(v, below), below));  // v < 0x20
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) {
      p += __builtin_ctz(mask);  // a byte to escape: the loop below stops at once
      break;
    }
    p += 16;
  }
#endif
  // The rest (keys and short values are all rest) 8 or 4 bytes at a time: two overlapping words
  // that cover it; any byte to escape in them and the byte loop below finds which.
  const auto clean = [](auto word) {
    using w = decltype(word);
    constexpr w ones = static_cast<w>(~w{0}) / 0xFF, highs = ones * 0x80;
    const w below_space = (word - ones * 0x20) & ~word & highs;  // a byte < 0x20
    const w q = word ^ (ones * '"'), b = word ^ (ones * '\\');
    return (below_space | ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs)) == 0;
  };
  const auto load = [](auto word, const char* at) {
    std::memcpy(&word, at, sizeof word);
    return word;
  };
  const auto left = end - p;
  if (left >= 8) {
    if (clean(load(std::uint64_t{}, p)) && clean(load(std::uint64_t{}, end - 8))) p = end;
  } else if (left >= 4) {
    if (clean(load(std::uint32_t{}, p)) && clean(load(std::uint32_t{}, end - 4))) p = end;
  }
  while (p != end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == '"' || c == '\\') break;
    ++p;
  }
  const auto n = static_cast<size_t>(p - from);
  char* const to = os_->push_unsafe(n);
  // Most runs are keys and short values: fixed-size copies (inlined) instead of a memcpy call.
  if (n > 16 && n <= 32) {  // a correlation_id
    std::memcpy(to, from, 16);
    std::memcpy(to + n - 16, from + n - 16, 16);
  } else if (n >= 8 && n <= 16) {
    std::memcpy(to, from, 8);
    std::memcpy(to + n - 8, from + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(to, from, 4);
    std::memcpy(to + n - 4, from + n - 4, 4);
  } else if (n < 4) {
    for (size_t i = 0; i < n; ++i) to[i] = from[i];
  } else {
    std::memcpy(to, from, n);
  }
  is.src_ = p;
  return p != end;
}
/// Integers straight into the reserved room, as RapidJSON's own Writer<StringBuffer>
/// specialisations do (same internal::i32toa / u32toa / u64toa, so the same digits).
template <>
inline bool Writer<cg::app::output_buffer>::WriteInt(int i) {
  os_->reserve(11);
  os_->advance_to(internal::i32toa(i, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::app::output_buffer>::WriteUint(unsigned u) {
  os_->reserve(10);
  os_->advance_to(internal::u32toa(u, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::app::output_buffer>::WriteInt64(int64_t i64) {
  os_->reserve(21);
  os_->advance_to(internal::i64toa(i64, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::app::output_buffer>::WriteUint64(uint64_t u64) {
  os_->reserve(20);
  os_->advance_to(internal::u64toa(u64, os_->cursor()));
  return true;
}
/// A raw value in one memcpy.
template <>
inline bool Writer<cg::app::output_buffer>::WriteRawValue(const Ch* json, size_t length) {
  PutReserve(*os_, length);
  std::memcpy(os_->push_unsafe(length), json, length);
  return true;
}
}  // namespace rapidjson
