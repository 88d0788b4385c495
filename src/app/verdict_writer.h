#pragma once
/// The output lines of `contactgate validate`, one JSON object per contact or malformed payload:
///
///   {"line":N,"index":I|null,"correlation_id":"..."|null,"status":"accepted"|"rejected"
///    [,"error_code":30647],"reasons":[{reason},...]}\n
///
/// Written with RapidJSON's Writer (issue 9: every JSON the program prints goes through a JSON
/// writer library) over emit::output_buffer (emit/json_buffer.h: raw-pointer writes into room
/// RapidJSON reserved), so that it costs little per line: one Writer per thread, Reset() onto
/// the thread's output buffer for each line (its level stack is kept, not reallocated).
///
/// A reason's JSON comes from an emit::reason_json_cache and is inserted with
/// Writer::RawValue().
///
/// Threading: one writer per thread. Allocates only while its cache warms up or on misses.
#include <cstddef>
#include <string>
#include <vector>

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

  emit::buffer_json_writer _w;  // Reset() onto the caller's buffer for each line
  emit::reason_json_cache _reasons{4096};
};

}  // namespace cg::app
