#pragma once
/// A JSON writer that costs little per value: RapidJSON's Writer over `output_buffer`, a byte
/// buffer written through a raw pointer into room reserved by RapidJSON (PutReserve() then
/// PutUnsafe(), as Writer::WriteString does). RapidJSON still decides every escape; the member
/// specialisations at the end (RapidJSON's own extension point, as it uses for
/// Writer<StringBuffer> with SSE2) only copy the runs of bytes that need none, integers and raw
/// values in one step instead of one Put per byte. Used for `validate`'s verdict lines and the
/// pipeline's rejection records.
///
/// Ownership: an output_buffer owns its bytes (one heap block, moved with the buffer).
/// Threading: a buffer and a writer belong to one thread at a time.
#include <rapidjson/writer.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace cg::emit {

/// A growing byte buffer and RapidJSON output stream (Ch, Put, Flush, plus PutReserve /
/// PutUnsafe below): one thread's verdict lines for a batch, or one rejection record. Grows by
/// doubling; a first allocation by growth is at least 64 KiB (a batch of lines), reserve_exact()
/// sizes an empty buffer for one record instead. clear() keeps its memory.
class output_buffer {
 public:
  using Ch = char;
  output_buffer() = default;
  output_buffer(output_buffer&& o) noexcept
      : _data(std::move(o._data)), _top(std::exchange(o._top, nullptr)), _limit(std::exchange(o._limit, nullptr)) {}
  output_buffer& operator=(output_buffer&& o) noexcept {
    _data = std::move(o._data);
    _top = std::exchange(o._top, nullptr);
    _limit = std::exchange(o._limit, nullptr);
    return *this;
  }
  output_buffer(const output_buffer&) = delete;
  output_buffer& operator=(const output_buffer&) = delete;
  ~output_buffer() = default;
  void Put(char c) {
    reserve(1);
    *_top++ = c;
  }
  void Flush() noexcept {}

  /// Room for at least `n` more bytes, for put_unsafe() / push_unsafe().
  void reserve(std::size_t n) {
    if (static_cast<std::size_t>(_limit - _top) < n) grow(n);
  }
  /// An empty buffer without memory gets exactly `n` bytes of room (a single record's estimate);
  /// otherwise the same as reserve().
  void reserve_exact(std::size_t n);
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
  [[nodiscard]] std::string_view view() const noexcept { return {data(), size()}; }
  /// Bytes allocated.
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(_limit - _data.get()); }

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> _data;
  char* _top{nullptr};
  char* _limit{nullptr};
};

/// A compile-time string (a class-type template argument) for buffer_json_writer's literals.
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
class buffer_json_writer : public rapidjson::Writer<output_buffer> {
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

}  // namespace cg::emit

namespace rapidjson {
template <>
inline void PutReserve(cg::emit::output_buffer& s, std::size_t count) {
  s.reserve(count);
}
template <>
inline void PutUnsafe(cg::emit::output_buffer& s, char c) {
  s.put_unsafe(c);
}
/// Copies the run of bytes that needs no escape (not '"', '\\' or below 0x20) in one memcpy
/// into the room WriteString() reserved; RapidJSON's WriteString escapes the byte that stops it.
template <>
inline bool Writer<cg::emit::output_buffer>::ScanWriteUnescapedString(GenericStringStream<UTF8<>>& is, size_t length) {
  const char* const from = is.src_;
  const char* const end = is.head_ + length;
  const char* p = from;
#if defined(__SSE2__)
  // RapidJSON's SSE2 scan for Writer<StringBuffer>, on unaligned loads, with the bound fixed:
  // v < 0x20 <=> max(v, 0x1F) == 0x1F (RapidJSON 1.1.0 compares with 0x19 and so misses
  // 0x1A-0x1F, which is why RAPIDJSON_SSE2 is not defined for this project).
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), below = _mm_set1_epi8(0x1F);
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
inline bool Writer<cg::emit::output_buffer>::WriteInt(int i) {
  os_->reserve(11);
  os_->advance_to(internal::i32toa(i, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::emit::output_buffer>::WriteUint(unsigned u) {
  os_->reserve(10);
  os_->advance_to(internal::u32toa(u, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::emit::output_buffer>::WriteInt64(int64_t i64) {
  os_->reserve(21);
  os_->advance_to(internal::i64toa(i64, os_->cursor()));
  return true;
}
template <>
inline bool Writer<cg::emit::output_buffer>::WriteUint64(uint64_t u64) {
  os_->reserve(20);
  os_->advance_to(internal::u64toa(u64, os_->cursor()));
  return true;
}
/// A raw value in one memcpy.
template <>
inline bool Writer<cg::emit::output_buffer>::WriteRawValue(const Ch* json, size_t length) {
  PutReserve(*os_, length);
  std::memcpy(os_->push_unsafe(length), json, length);
  return true;
}
}  // namespace rapidjson
