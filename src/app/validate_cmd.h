#pragma once
/// `contactgate validate [FILE...]`: payloads in (NDJSON lines, whole JSON documents, or CSV
/// rows: validate_input.h), one JSON line per contact out, in input order. Runs on the
/// calling thread plus `threads - 1` helpers.
#include <cstddef>
#include <string>
#include <vector>

#include "app/validate_input.h"
#include "core/limits.h"

namespace cg::app {

struct validate_options {
  std::vector<std::string> files;  ///< empty: read stdin; "-" also means stdin
  input_format input{input_format::ndjson};
  bool summary{false};
  unsigned threads{1};
  payload_limits limits{};
  std::string phone_validator{"fast"};  ///< "fast" or "reference"
  std::string phone_metadata{};         ///< a phone metadata file; "" = the built-in data
};

/// Exit code: 0 all accepted, 1 any contact or payload rejected, 2 usage or I/O error.
[[nodiscard]] int run_validate(const validate_options& opts);

}  // namespace cg::app
