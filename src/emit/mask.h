#pragma once
/// Masking phone numbers in rejection records shown to people (`contactgate tail`).
/// Pure functions; any thread.
#include <string>
#include <string_view>

namespace cg::emit {

/// The rejection record `json` with every contact_id in its `record` masked (cg::mask_phone),
/// judged after decoding, so a "+" written as "\u002b" or digits written as escapes are
/// masked too; a record kept as a string (a malformed payload) has every run of 7 or more
/// digits masked. Parsed and written again with RapidJSON; "<unreadable record>" when `json`
/// is not a JSON object.
[[nodiscard]] std::string mask_rejection_json(std::string_view json);

}  // namespace cg::emit
