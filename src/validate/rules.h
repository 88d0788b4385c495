#pragma once
/// The four contact rules of Twilio error 30647, one function per field. Each returns
/// true and sets `out` when the field fails. Pure functions over immutable tables:
/// safe from any thread, never throw, never allocate (check_zip's optional memo is the
/// caller's, one per thread).
#include <string_view>

#include "core/outcome.h"
#include "validate/phone.h"
#include "validate/postal_table.h"

namespace cg::validate {

/// INVALID_CORRELATION_ID: exactly 32 hexadecimal characters (either case).
/// Details: MISSING, WRONG_TYPE, WRONG_LENGTH, NOT_HEX, HYPHENATED. (DUPLICATE_IN_REQUEST is
/// judged across a payload by payload_validator.)
[[nodiscard]] bool check_correlation_id(const field_value& f, reason& out) noexcept;

/// INVALID_COUNTRY_ISO_CODE: an assigned ISO 3166-1 alpha-2 code in uppercase.
/// Details: MISSING, WRONG_TYPE, NOT_UPPERCASE, NOT_ASSIGNED.
[[nodiscard]] bool check_country(const field_value& f, reason& out) noexcept;

/// E.164 syntax: '+', then 1 to 15 digits, the first not 0. Returns the first problem.
[[nodiscard]] e164_problem check_e164_syntax(std::string_view s) noexcept;

/// INVALID_CONTACT_ID: E.164 syntax, then `phones` must find it valid.
/// Details: MISSING, WRONG_TYPE, NOT_E164, and the phone verdicts.
[[nodiscard]] bool check_contact_id(const field_value& f, const phone_validator& phones, reason& out) noexcept;

/// INVALID_ZIP_CODE: optional; trimmed, case-insensitive whole match of the country's
/// format. Not judged (returns false) when `country_ok` is false, except WRONG_TYPE.
/// An empty (or all-whitespace) zip counts as not given.
/// Details: WRONG_TYPE, FORMAT_MISMATCH, COUNTRY_HAS_NO_POSTAL_CODES.
/// `memo`, when given, answers instead of `postal` for zips it has seen (same verdicts).
[[nodiscard]] bool check_zip(const field_value& zip, std::string_view country, bool country_ok,
                             const postal_table& postal, reason& out, postal_memo* memo = nullptr) noexcept;

/// 128-bit value of a valid correlation_id (for duplicate detection, case-insensitive).
struct correlation_key {
  unsigned long long hi{0}, lo{0};
  friend bool operator==(const correlation_key&, const correlation_key&) = default;
};
[[nodiscard]] correlation_key correlation_key_of(std::string_view valid_id) noexcept;

}  // namespace cg::validate
