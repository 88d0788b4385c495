#pragma once
/// The output lines of `contactgate validate`, one JSON object per contact or malformed payload:
///
///   {"line":N,"index":I|null,"correlation_id":"..."|null,"status":"accepted"|"rejected"
///    [,"error_code":30647],"reasons":[{reason},...]}\n
///
/// Written over emit::output_buffer (emit/json_buffer.h: raw-pointer writes into reserved
/// room), so that it costs little per line. A contact's line has one shape whose structure does
/// not depend on the values: its constant parts (braces, keys, separators, "accepted" /
/// "rejected" and the error code) are copied as fixed bytes, the integers are RapidJSON's own
/// digits (internal::u64toa / u32toa, as its Writer writes them), and the correlation_id goes
/// through RapidJSON's Writer (issue 9: RapidJSON decides every escape of a value), written as
/// a root value of its own by a Writer Reset() onto the line. A malformed payload's line, rare,
/// is written by the Writer call by call. The unit test compares every shape, byte for byte,
/// with a plain RapidJSON Writer<StringBuffer>.
///
/// A reason's JSON comes from an emit::reason_json_cache (rendered by emit::write_reason) and is
/// inserted unchanged.
///
/// Threading: one writer per thread. Allocates only while its cache warms up or on misses.
#include <cstddef>

#include "core/outcome.h"
#include "emit/json_buffer.h"
#include "emit/reason_cache.h"

namespace cg::app {

using emit::output_buffer;

class verdict_writer {
 public:
  /// Appends one contact's line to `out`.
  void write_contact(output_buffer& out, std::size_t line_no, const contact_outcome& co);
  /// Appends the one line of a malformed payload (index and correlation_id null) to `out`.
  void write_malformed(output_buffer& out, std::size_t line_no, const reason& r);

 private:
  void write_reason(const reason& r);

  emit::buffer_json_writer _w;  // Reset() onto the caller's buffer for each value or line
  emit::reason_json_cache _reasons{4096};
};

}  // namespace cg::app
