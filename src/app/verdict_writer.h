#pragma once
/// The output lines of `contactgate validate`, one JSON object per contact or malformed payload:
///
///   {"line":N,"index":I|null,"correlation_id":"..."|null,"status":"accepted"|"rejected"
///    [,"error_code":30647],"reasons":[{reason},...]}\n
///
/// Byte for byte what emit::json_writer (RapidJSON's Writer, default flags) writes for the same
/// calls: strings are escaped with RapidJSON's table (\b \t \n \f \r \" \\, other control bytes
/// as \u00XX with uppercase hex, every other byte copied as is). It writes straight into the
/// caller's std::string, without a Writer (whose level stack allocates) per line.
///
/// A reason's JSON ({"code":..,"field":..,"detail":..,"message":..[,"byte_offset":N]}) depends
/// only on the reason's value, so it is rendered once with emit::write_reason and kept in a small
/// direct-mapped cache (the note is copied into the cache, never borrowed).
///
/// Threading: one writer per thread. Allocates only while its cache warms up or on misses.
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.h"

namespace cg::app {

/// A growable byte buffer written through raw pointers: reserve() room, write, commit(). Cheaper
/// per piece than std::string::append, which checks and terminates on every call.
class output_buffer {
 public:
  /// Room for at least `n` more bytes; returns where they go (valid until the next reserve()).
  char* reserve(std::size_t n) {
    if (_cap - _size < n) grow(n);
    return _data.get() + _size;
  }
  /// Marks everything up to `end` (inside the last reserve()) as written.
  void commit(const char* end) noexcept { _size = static_cast<std::size_t>(end - _data.get()); }
  void append(std::string_view s) {
    std::memcpy(reserve(s.size()), s.data(), s.size());
    _size += s.size();
  }
  void clear() noexcept { _size = 0; }
  [[nodiscard]] const char* data() const noexcept { return _data.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return _size; }
  [[nodiscard]] bool empty() const noexcept { return _size == 0; }

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> _data;
  std::size_t _size{0}, _cap{0};
};

/// Appends `s` as a JSON string exactly as RapidJSON's Writer<.., UTF8, UTF8> escapes it.
void append_rapidjson_string(output_buffer& out, std::string_view s);

class verdict_writer {
 public:
  /// One contact's line.
  void write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co);
  /// The one line of a malformed payload (index and correlation_id null).
  void write_malformed(output_buffer& out, std::size_t line_no, const reason& r);

 private:
  struct slot {
    bool used{false};
    reason key{};      // key.note views `note` below
    std::string note;  // owned copy of the reason's note
    std::string json;  // the rendered reason
  };
  static constexpr std::size_t slot_count = 4096;

  void append_reason(output_buffer& out, const reason& r);

  std::vector<slot> _slots = std::vector<slot>(slot_count);
};

}  // namespace cg::app
