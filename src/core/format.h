#pragma once
/// Text forms of outcomes: JSON string escaping, human messages for reasons, and the
/// JSON object of a reason, masked phone numbers. Pure functions on values; safe from any thread.
/// Appends to a caller-owned std::string so hot loops can reuse one buffer.
#include <string>
#include <string_view>

#include "core/outcome.h"

namespace cg {

/// Appends `s` as a JSON string literal (with quotes). `s` must be valid UTF-8; control
/// characters, '"' and '\\' are escaped, everything else is copied as is.
void append_json_string(std::string& out, std::string_view s);

/// Appends the decimal form of `v`.
void append_int(std::string& out, long long v);

/// The human-readable explanation of a reason, e.g. "correlation_id must be exactly 32
/// hexadecimal characters (found 31)".
[[nodiscard]] std::string describe(const reason& r);

/// Appends {"code":..,"field":..,"detail":..,"message":..[,"byte_offset":N]}.
void append_reason_json(std::string& out, const reason& r);

/// Appends a JSON array of the reasons.
void append_reasons_json(std::string& out, const reason_list& reasons);

/// Masks a phone number for logs (phone numbers are personal data): keeps '+', the first 4
/// and the last 2 digits ("+14155552671" -> "+1415*****71"); 6 digits or fewer are all masked.
[[nodiscard]] std::string mask_phone(std::string_view s);

}  // namespace cg
