#pragma once
/// JSON output with RapidJSON's Writer, appending straight to a std::string: the rejection
/// records, `validate`'s verdict lines and the other JSON contactgate prints. RapidJSON does
/// the escaping; RawValue() inserts bytes that already are JSON (a contact object exactly as
/// received).
///
/// Threading: a writer and its string belong to one thread.
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "core/outcome.h"

namespace cg::emit {

/// A RapidJSON output stream over a std::string it does not own. Characters gather in a small
/// local buffer that is appended to the string in blocks (RapidJSON's Writer puts one character
/// at a time; a std::string::push_back each cost ~9% of the pipeline's CPU in rejections).
/// The string is complete after Flush(), which the Writer calls when a top-level value ends,
/// and after the sink's destruction.
class string_sink {
 public:
  using Ch = char;
  explicit string_sink(std::string& out) : _out(out) {}
  ~string_sink() { Flush(); }
  string_sink(const string_sink&) = delete;
  string_sink& operator=(const string_sink&) = delete;
  void Put(char c) {
    if (_n == sizeof _buf) Flush();
    _buf[_n++] = c;
  }
  void Flush() {
    _out.append(_buf, _n);
    _n = 0;
  }
  void reserve_more(std::size_t n) {
    if (_out.capacity() < _out.size() + _n + n) _out.reserve(_out.size() + _n + n);
  }

 private:
  std::string& _out;
  std::size_t _n{0};
  char _buf[256];
};

using json_writer = rapidjson::Writer<string_sink>;

inline void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void write_key(json_writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

/// {"code":..,"field":..|null,"detail":..,"message":..[,"byte_offset":N]}
void write_reason(json_writer& w, const reason& r);
/// [reason,...]
void write_reasons(json_writer& w, const reason_list& reasons);

}  // namespace cg::emit

namespace rapidjson {
template <>
inline void PutReserve(cg::emit::string_sink& s, std::size_t count) {
  s.reserve_more(count);
}
}  // namespace rapidjson
