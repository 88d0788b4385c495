#pragma once
/// The inputs of `contactgate validate`: a source turns one open file into payloads.
///
///   ndjson  one payload per line (the default)
///   json    the whole file is one payload (a pretty-printed bulk upsert request)
///   csv     RFC 4180 (libcsv, strict): a header row names the fields; every other row is
///           one payload, a contact object of the row's cells (an unquoted empty cell is
///           left out; "" is an empty string)
///
/// Memory is bounded: a payload longer than `keep` bytes is kept truncated, with its full
/// length in `full_size`, so it can be rejected as too large without being held.
///
/// Ownership: a source reads from a FILE* it does not own. Threading: one thread.
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cg::app {

enum class input_format { ndjson, json, csv };

/// One payload read from the input.
struct line_item {
  std::string text;
  std::size_t full_size{0};
  std::size_t line_no{0};  ///< ndjson: the line; json: the payload's ordinal; csv: the row's first line
};

class payload_source {
 public:
  virtual ~payload_source() = default;
  /// The next payload into `item`; false at the end of the input or on an error.
  virtual bool next(line_item& item) = 0;
  /// Why the input could not be read ("" if it could): an I/O error, or for csv a syntax
  /// error with its line.
  [[nodiscard]] virtual std::string error() const = 0;
};

/// A source over `f`. `line_no` counts lines (or payloads, for json) across every input of
/// one run; the source advances it.
[[nodiscard]] std::unique_ptr<payload_source> make_payload_source(input_format format, std::FILE* f, std::size_t keep,
                                                                  std::size_t& line_no);

/// One payload as handed to the validators: a view into the reader's buffers.
struct payload_view {
  std::string_view text;     ///< at most `keep` bytes of the payload
  std::size_t full_size{0};  ///< the payload's whole length
  std::size_t line_no{0};    ///< as line_item::line_no
  /// The parse::payload_padding bytes after `text` are readable and stay so while the batch
  /// lives (ndjson lines in the read buffer): it may be parsed in place (validate_padded()).
  bool padded{false};
};

/// Reads payloads in batches, for validation in place (no copy per payload for ndjson: lines are
/// views into a large read buffer). Same payloads, line numbers, truncation and errors as
/// payload_source.
///
/// Lifetime: the views of a batch stay valid until the next call to next_batch() on the same
/// reader. Ownership and threading as payload_source.
class payload_batch_reader {
 public:
  virtual ~payload_batch_reader() = default;
  /// Replaces `out` by the next payloads, at most `max` (> 0) of them; false (and `out` empty)
  /// at the end of the input or on an error.
  virtual bool next_batch(std::vector<payload_view>& out, std::size_t max) = 0;
  /// As payload_source::error().
  [[nodiscard]] virtual std::string error() const = 0;
};

/// A batch reader over `f`; arguments as make_payload_source().
[[nodiscard]] std::unique_ptr<payload_batch_reader> make_batch_reader(input_format format, std::FILE* f,
                                                                      std::size_t keep, std::size_t& line_no);

/// True when an NDJSON line that is not valid JSON looks like a piece of a larger JSON
/// document ("{", "[", `"key": value,`, "}", ...): the input is probably pretty-printed.
[[nodiscard]] bool looks_like_json_fragment(std::string_view line) noexcept;

}  // namespace cg::app
