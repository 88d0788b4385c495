#include "app/validate_input.h"

#include <csv.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "parse/payload_parser.h"

namespace cg::app {

namespace {

/// Reads fixed-size blocks; remembers the first read error.
class block_reader {
 public:
  explicit block_reader(std::FILE* f) : _f(f) {}
  /// Refills when empty; false at the end of the input or on an error.
  bool fill() {
    if (_pos < _len) return true;
    _len = std::fread(_buf.data(), 1, _buf.size(), _f);
    _pos = 0;
    if (_len == 0 && std::ferror(_f)) _error = errno ? errno : EIO;
    return _len > 0;
  }
  [[nodiscard]] const char* data() const noexcept { return _buf.data() + _pos; }
  [[nodiscard]] std::size_t size() const noexcept { return _len - _pos; }
  void consume(std::size_t n) noexcept { _pos += n; }
  [[nodiscard]] std::string error() const { return _error ? std::strerror(_error) : ""; }

 private:
  std::FILE* _f;
  std::array<char, 1 << 16> _buf{};
  std::size_t _pos{0}, _len{0};
  int _error{0};
};

// Appends up to `keep` bytes in total to `text`; counts every byte in `full`.
void keep_bytes(std::string& text, std::size_t& full, std::size_t keep, const char* p, std::size_t n) {
  if (text.size() < keep) text.append(p, std::min(n, keep - text.size()));
  full += n;
}

class ndjson_source final : public payload_source {
 public:
  ndjson_source(std::FILE* f, std::size_t keep, std::size_t& line_no) : _in(f), _keep(keep), _line_no(line_no) {}

  bool next(line_item& item) override {
    item.text.clear();
    item.full_size = 0;
    bool any = false;
    while (_in.fill()) {
      any = true;
      const void* nl = std::memchr(_in.data(), '\n', _in.size());
      const std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - _in.data()) : _in.size();
      keep_bytes(item.text, item.full_size, _keep, _in.data(), n);
      _in.consume(n);
      if (nl) {
        _in.consume(1);
        break;
      }
    }
    if (any) item.line_no = ++_line_no;
    return any;
  }
  [[nodiscard]] std::string error() const override { return _in.error(); }

 private:
  block_reader _in;
  std::size_t _keep;
  std::size_t& _line_no;
};

class document_source final : public payload_source {
 public:
  document_source(std::FILE* f, std::size_t keep, std::size_t& line_no) : _in(f), _keep(keep), _line_no(line_no) {}

  bool next(line_item& item) override {
    if (_done) return false;
    _done = true;
    item.text.clear();
    item.full_size = 0;
    while (_in.fill()) {
      keep_bytes(item.text, item.full_size, _keep, _in.data(), _in.size());
      _in.consume(_in.size());
    }
    if (!_in.error().empty()) return false;
    item.line_no = ++_line_no;
    return true;  // an empty file is one empty payload (MALFORMED_PAYLOAD / EMPTY_PAYLOAD)
  }
  [[nodiscard]] std::string error() const override { return _in.error(); }

 private:
  block_reader _in;
  std::size_t _keep;
  std::size_t& _line_no;
  bool _done{false};
};

// RFC 4180 with libcsv in strict mode. The input is fed one physical line at a time so that
// each row knows the line it starts on.
class csv_source final : public payload_source {
 public:
  csv_source(std::FILE* f, std::size_t keep, std::size_t& line_no) : _in(f), _keep(keep), _line_no(line_no) {
    csv_init(&_parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL);
    csv_set_space_func(&_parser, [](unsigned char) { return 0; });  // spaces belong to the field
  }
  ~csv_source() override { csv_free(&_parser); }
  csv_source(const csv_source&) = delete;
  csv_source& operator=(const csv_source&) = delete;

  bool next(line_item& item) override {
    while (_rows.empty() && _error.empty() && !_finished) feed();
    if (_rows.empty()) return false;
    item = std::move(_rows.front());
    _rows.pop_front();
    return true;
  }
  [[nodiscard]] std::string error() const override { return _error.empty() ? _in.error() : _error; }

 private:
  static constexpr int row_not_begun = 0;  // libcsv's pstate before a row's first byte

  // Feeds up to one physical line (or the rest of the block) to the parser.
  void feed() {
    if (!_in.fill()) {
      if (!_in.error().empty()) return;
      if (csv_fini(&_parser, on_field, on_row, this) != 0) fail(_line_no);
      _finished = true;
      if (_header.empty() && _error.empty()) _error = "no header row (CSV input needs one naming the fields)";
      return;
    }
    if (_at_line_start) {
      ++_line_no;
      if (_parser.pstate == row_not_begun) _row_line = _line_no;
    }
    const void* nl = std::memchr(_in.data(), '\n', _in.size());
    const std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - _in.data()) + 1 : _in.size();
    if (csv_parse(&_parser, _in.data(), n, on_field, on_row, this) != n) fail(_line_no);
    _in.consume(n);
    if (_parser.entry_pos > _keep && _error.empty())  // libcsv buffers a whole field: bound it
      _error = "line " + std::to_string(_line_no) + ": a field longer than the payload limit (" +
               std::to_string(_keep - 1) + " bytes)";
    _at_line_start = nl != nullptr;
  }

  void fail(std::size_t line) {
    if (_error.empty())
      _error = "line " + std::to_string(line) + ": not valid CSV (RFC 4180): " + csv_strerror(csv_error(&_parser));
  }

  static void on_field(void* s, std::size_t len, void* self_) {
    auto* self = static_cast<csv_source*>(self_);
    self->_cells.emplace_back();
    auto& cell = self->_cells.back();
    cell.present = s != nullptr;
    self->_row_bytes += len;
    // A row larger than the payload limit is rejected as too large: its cells are not kept.
    if (s != nullptr && self->_row_bytes <= self->_keep) cell.text.assign(static_cast<const char*>(s), len);
  }

  static void on_row(int, void* self_) { static_cast<csv_source*>(self_)->end_row(); }

  void end_row() {
    std::vector<cell> cells = std::move(_cells);
    _cells.clear();
    const std::size_t row_bytes = std::exchange(_row_bytes, 0);
    if (!_error.empty()) return;
    if (_header.empty()) {
      std::set<std::string> seen;
      for (const cell& c : cells) {
        if (!c.present || c.text.empty()) {
          _error = "line " + std::to_string(_row_line) + ": the header row has an empty field name";
          return;
        }
        if (!seen.insert(c.text).second) {
          _error = "line " + std::to_string(_row_line) + ": the header row names '" + c.text + "' twice";
          return;
        }
        _header.push_back(c.text);
      }
      return;
    }
    if (cells.size() != _header.size()) {
      _error = "line " + std::to_string(_row_line) + ": " + std::to_string(cells.size()) +
               " fields, the header row has " + std::to_string(_header.size());
      return;
    }
    line_item item;
    item.line_no = _row_line;
    if (row_bytes > _keep) {  // judged MALFORMED_PAYLOAD / TOO_LARGE by its size
      item.full_size = row_bytes;
      _rows.push_back(std::move(item));
      return;
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (!cells[i].present) continue;
      w.Key(_header[i].data(), static_cast<rapidjson::SizeType>(_header[i].size()));
      w.String(cells[i].text.data(), static_cast<rapidjson::SizeType>(cells[i].text.size()));
    }
    w.EndObject();
    keep_bytes(item.text, item.full_size, _keep, buf.GetString(), buf.GetSize());
    _rows.push_back(std::move(item));
  }

  struct cell {
    bool present{false};
    std::string text;
  };

  block_reader _in;
  std::size_t _keep;
  std::size_t& _line_no;
  csv_parser _parser{};
  std::vector<std::string> _header;
  std::vector<cell> _cells;
  std::deque<line_item> _rows;
  std::size_t _row_line{0};
  std::size_t _row_bytes{0};
  bool _at_line_start{true};
  bool _finished{false};
  std::string _error;
};

// NDJSON lines as views into one large buffer, refilled with large reads. A line that does not
// fit the buffer is gathered (up to `keep` bytes) into `_long`, as ndjson_source would keep it.
// The buffer has parse::payload_padding bytes of slack after its end, so every line in it is
// followed by that many readable bytes (the rest of the buffer, then the slack) and is parsed
// in place. The padding bytes after the data read so far are zeroed after each read (their
// value does not matter to simdjson, but they are then never uninitialised memory; the 4 MiB
// buffer itself is not zeroed, so a small input touches few pages).
class ndjson_batch_reader final : public payload_batch_reader {
 public:
  ndjson_batch_reader(std::FILE* f, std::size_t keep, std::size_t& line_no)
      : _f(f),
        _keep(keep),
        _line_no(line_no),
        _buf(std::make_unique_for_overwrite<char[]>(buffer_size + parse::payload_padding)) {
    std::memset(_buf.get(), 0, parse::payload_padding);
  }

  bool next_batch(std::vector<payload_view>& out, std::size_t max) override {
    out.clear();  // the previous batch's views die here: the unread rest may move to the front
    // Only when the next read would not fit behind the data: moving the unread rest (up to a
    // read's worth of lines) costs about as much as scanning it, so not for every batch.
    if (buffer_size - _len < read_size) compact();
    while (out.size() < max) {
      const char* p = _buf.get() + _pos;
      const std::size_t avail = _len - _pos;
      if (const void* nl = std::memchr(p, '\n', avail)) {
        const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
        push(out, p, n);
        _pos += n + 1;
        continue;
      }
      if (_eof) {  // the last line, without a newline
        if (avail > 0) push(out, p, avail);
        _pos = _len;
        break;
      }
      if (_len == buffer_size) {  // no room left behind the unread rest
        if (!out.empty()) break;  // moving it would move the bytes the batch's views point at
        if (_pos == 0) {          // one line fills the whole buffer
          read_long_line(out);
          continue;
        }
        compact();
      }
      refill();  // appends: the batch's views stay valid
    }
    return !out.empty();
  }
  [[nodiscard]] std::string error() const override { return _error ? std::strerror(_error) : ""; }

 private:
  static constexpr std::size_t buffer_size = std::size_t{4} << 20;
  static constexpr std::size_t read_size = std::size_t{1} << 17;

  void push(std::vector<payload_view>& out, const char* p, std::size_t n) {
    out.push_back(payload_view{std::string_view(p, std::min(n, _keep)), n, ++_line_no, true});
  }

  void compact() {
    std::memmove(_buf.get(), _buf.get() + _pos, _len - _pos);
    _len -= _pos;
    _pos = 0;
  }

  // Appends up to read_size bytes after _len; a short read means the end or an error.
  void refill() {
    const std::size_t want = std::min(read_size, buffer_size - _len);
    const std::size_t got = std::fread(_buf.get() + _len, 1, want, _f);
    _len += got;
    std::memset(_buf.get() + _len, 0, parse::payload_padding);
    if (got < want) {
      _eof = true;
      if (std::ferror(_f)) _error = errno ? errno : EIO;
    }
  }

  // The buffer is full and holds no newline: gather the line into _long.
  void read_long_line(std::vector<payload_view>& out) {
    _long.clear();
    std::size_t full = 0;
    for (;;) {
      const char* p = _buf.get() + _pos;
      const std::size_t avail = _len - _pos;
      const void* nl = std::memchr(p, '\n', avail);
      const std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - p) : avail;
      keep_bytes(_long, full, _keep, p, n);
      _pos += n;
      if (nl) {
        ++_pos;
        break;
      }
      _pos = _len = 0;
      if (_eof) break;
      refill();
      if (_len == 0) break;
    }
    out.push_back(payload_view{_long, full, ++_line_no});
  }

  std::FILE* _f;
  std::size_t _keep;
  std::size_t& _line_no;
  std::unique_ptr<char[]> _buf;
  std::size_t _pos{0}, _len{0};
  bool _eof{false};
  int _error{0};
  std::string _long;
};

// json and csv: payloads from a payload_source, kept for the batch.
class source_batch_reader final : public payload_batch_reader {
 public:
  explicit source_batch_reader(std::unique_ptr<payload_source> src) : _src(std::move(src)) {}

  bool next_batch(std::vector<payload_view>& out, std::size_t max) override {
    out.clear();
    if (_items.size() < max) _items.resize(max);
    std::size_t n = 0;
    while (n < max && _src->next(_items[n])) ++n;
    for (std::size_t i = 0; i < n; ++i)
      out.push_back(payload_view{_items[i].text, _items[i].full_size, _items[i].line_no});
    return n > 0;
  }
  [[nodiscard]] std::string error() const override { return _src->error(); }

 private:
  std::unique_ptr<payload_source> _src;
  std::vector<line_item> _items;
};

}  // namespace

std::unique_ptr<payload_batch_reader> make_batch_reader(input_format format, std::FILE* f, std::size_t keep,
                                                        std::size_t& line_no) {
  if (format == input_format::ndjson) return std::make_unique<ndjson_batch_reader>(f, keep, line_no);
  return std::make_unique<source_batch_reader>(make_payload_source(format, f, keep, line_no));
}

std::unique_ptr<payload_source> make_payload_source(input_format format, std::FILE* f, std::size_t keep,
                                                    std::size_t& line_no) {
  switch (format) {
    case input_format::json: return std::make_unique<document_source>(f, keep, line_no);
    case input_format::csv: return std::make_unique<csv_source>(f, keep, line_no);
    case input_format::ndjson: break;
  }
  return std::make_unique<ndjson_source>(f, keep, line_no);
}

bool looks_like_json_fragment(std::string_view line) noexcept {
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return false;
  const auto last = line.find_last_not_of(" \t\r");
  const std::string_view t = line.substr(first, last - first + 1);
  if (t == "{" || t == "[" || t == "}" || t == "]" || t == "}," || t == "],") return true;
  if (t.back() == '{' || t.back() == '[') return true;  // "contacts": [
  // "key": value,  (a member of an object spread over lines)
  return t.front() == '"' && t.find("\":") != std::string_view::npos;
}

}  // namespace cg::app
