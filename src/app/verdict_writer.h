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
#include <string>
#include <string_view>

#include "core/outcome.h"

namespace cg::app {

/// Appends `s` as a JSON string exactly as RapidJSON's Writer<.., UTF8, UTF8> escapes it.
void append_rapidjson_string(std::string& out, std::string_view s);

class verdict_writer {
 public:
  /// One contact's line.
  void write_contact(std::string& out, std::size_t line_no, const contact_outcome& co);
  /// The one line of a malformed payload (index and correlation_id null).
  void write_malformed(std::string& out, std::size_t line_no, const reason& r);

 private:
  struct slot {
    bool used{false};
    reason key{};      // key.note views `note` below
    std::string note;  // owned copy of the reason's note
    std::string json;  // the rendered reason
  };
  static constexpr std::size_t slot_count = 512;

  void append_reason(std::string& out, const reason& r);

  std::array<slot, slot_count> _slots{};
};

}  // namespace cg::app
