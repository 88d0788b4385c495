#include "emit/json_writer.h"

#include "core/format.h"

namespace cg::emit {

void write_reason(json_writer& w, const reason& r) {
  w.StartObject();
  write_key(w, "code");
  write_string(w, to_string(r.code));
  write_key(w, "field");
  if (r.field == field_id::none) {
    w.Null();
  } else {
    write_string(w, to_string(r.field));
  }
  write_key(w, "detail");
  write_string(w, to_string(r.what));
  write_key(w, "message");
  write_string(w, describe(r));
  if (r.byte_offset >= 0) {
    write_key(w, "byte_offset");
    w.Int64(r.byte_offset);
  }
  w.EndObject();
}

void write_reasons(json_writer& w, const reason_list& reasons) {
  w.StartArray();
  for (const reason& r : reasons) write_reason(w, r);
  w.EndArray();
}

}  // namespace cg::emit
