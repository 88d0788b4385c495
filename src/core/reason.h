#pragma once
/// Reason codes and details: the vocabulary of every outcome contactgate reports.
///
/// Values, not exceptions: the per-record path returns these and never throws.
/// Thread-safety: plain enums and constexpr lookups, safe from any thread.
/// Place in the pipeline: produced by parse/ and validate/, serialised by emit code.
#include <cstdint>
#include <string_view>

namespace cg {

/// Twilio's error code for a contact that fails a bulk upsert.
inline constexpr int error_code_30647 = 30647;
inline constexpr std::string_view error_message_30647 = "Failed to Upsert Contact";

/// Reason codes, in the fixed order in which a contact's reasons are reported.
enum class reason_code : std::uint8_t {
  invalid_correlation_id,
  invalid_country_iso_code,
  invalid_contact_id,
  invalid_zip_code,
  internal_server_error,  ///< failure of the processor itself; retryable
  malformed_payload,      ///< the payload cannot be read as contacts
};
inline constexpr int reason_code_count = 6;

/// The field a reason is about.
enum class field_id : std::uint8_t { correlation_id, country_iso_code, contact_id, zip_code, none };
inline constexpr int contact_field_count = 4;

/// What exactly is wrong. Each reason code uses a subset (see README "Rules").
enum class detail : std::uint8_t {
  // shared by the field rules
  missing,
  wrong_type,
  // INVALID_CORRELATION_ID
  wrong_length,
  not_hex,
  hyphenated,
  duplicate_in_request,
  // INVALID_COUNTRY_ISO_CODE
  not_uppercase,
  not_assigned,
  // INVALID_CONTACT_ID
  not_e164,
  invalid_country_code,
  too_short,
  too_long,
  invalid_length,
  is_possible_local_only,
  not_valid,
  // INVALID_ZIP_CODE
  format_mismatch,
  country_has_no_postal_codes,
  // MALFORMED_PAYLOAD
  empty_payload,
  too_large,
  invalid_utf8,
  invalid_json,
  root_not_container,
  element_not_object,
  too_deep,
  string_too_long,
  duplicate_key,
  contacts_not_array,
  no_contacts,
  too_many_contacts,
  // INTERNAL_SERVER_ERROR
  processing_failed,
};
inline constexpr int detail_count = static_cast<int>(detail::processing_failed) + 1;

/// Which part of an E.164 string broke the syntax (carried with detail::not_e164).
enum class e164_problem : std::uint8_t { none, no_plus, no_digits, non_digit, leading_zero, too_many_digits };

[[nodiscard]] constexpr std::string_view to_string(reason_code c) noexcept {
  switch (c) {
    case reason_code::invalid_correlation_id: return "INVALID_CORRELATION_ID";
    case reason_code::invalid_country_iso_code: return "INVALID_COUNTRY_ISO_CODE";
    case reason_code::invalid_contact_id: return "INVALID_CONTACT_ID";
    case reason_code::invalid_zip_code: return "INVALID_ZIP_CODE";
    case reason_code::internal_server_error: return "INTERNAL_SERVER_ERROR";
    case reason_code::malformed_payload: return "MALFORMED_PAYLOAD";
  }
  return "UNKNOWN";
}

[[nodiscard]] constexpr std::string_view to_string(field_id f) noexcept {
  switch (f) {
    case field_id::correlation_id: return "correlation_id";
    case field_id::country_iso_code: return "country_iso_code";
    case field_id::contact_id: return "contact_id";
    case field_id::zip_code: return "zip_code";
    case field_id::none: return "";
  }
  return "";
}

[[nodiscard]] constexpr std::string_view to_string(detail d) noexcept {
  switch (d) {
    case detail::missing: return "MISSING";
    case detail::wrong_type: return "WRONG_TYPE";
    case detail::wrong_length: return "WRONG_LENGTH";
    case detail::not_hex: return "NOT_HEX";
    case detail::hyphenated: return "HYPHENATED";
    case detail::duplicate_in_request: return "DUPLICATE_IN_REQUEST";
    case detail::not_uppercase: return "NOT_UPPERCASE";
    case detail::not_assigned: return "NOT_ASSIGNED";
    case detail::not_e164: return "NOT_E164";
    case detail::invalid_country_code: return "INVALID_COUNTRY_CODE";
    case detail::too_short: return "TOO_SHORT";
    case detail::too_long: return "TOO_LONG";
    case detail::invalid_length: return "INVALID_LENGTH";
    case detail::is_possible_local_only: return "IS_POSSIBLE_LOCAL_ONLY";
    case detail::not_valid: return "NOT_VALID";
    case detail::format_mismatch: return "FORMAT_MISMATCH";
    case detail::country_has_no_postal_codes: return "COUNTRY_HAS_NO_POSTAL_CODES";
    case detail::empty_payload: return "EMPTY_PAYLOAD";
    case detail::too_large: return "TOO_LARGE";
    case detail::invalid_utf8: return "INVALID_UTF8";
    case detail::invalid_json: return "INVALID_JSON";
    case detail::root_not_container: return "ROOT_NOT_CONTAINER";
    case detail::element_not_object: return "ELEMENT_NOT_OBJECT";
    case detail::too_deep: return "TOO_DEEP";
    case detail::string_too_long: return "STRING_TOO_LONG";
    case detail::duplicate_key: return "DUPLICATE_KEY";
    case detail::contacts_not_array: return "CONTACTS_NOT_ARRAY";
    case detail::no_contacts: return "NO_CONTACTS";
    case detail::too_many_contacts: return "TOO_MANY_CONTACTS";
    case detail::processing_failed: return "PROCESSING_FAILED";
  }
  return "UNKNOWN";
}

[[nodiscard]] constexpr std::string_view to_string(e164_problem p) noexcept {
  switch (p) {
    case e164_problem::none: return "";
    case e164_problem::no_plus: return "it must start with '+'";
    case e164_problem::no_digits: return "there are no digits after '+'";
    case e164_problem::non_digit: return "only digits may follow '+'";
    case e164_problem::leading_zero: return "the country code cannot start with 0";
    case e164_problem::too_many_digits: return "E.164 allows at most 15 digits";
  }
  return "";
}

/// True when `d` is one of the details reason code `c` reports (bounds metric label sets).
[[nodiscard]] constexpr bool detail_belongs_to(reason_code c, detail d) noexcept {
  const auto v = static_cast<int>(d);
  switch (c) {
    case reason_code::invalid_correlation_id:
      return d == detail::missing || d == detail::wrong_type ||
             (v >= static_cast<int>(detail::wrong_length) && v <= static_cast<int>(detail::duplicate_in_request));
    case reason_code::invalid_country_iso_code:
      return d == detail::missing || d == detail::wrong_type || d == detail::not_uppercase || d == detail::not_assigned;
    case reason_code::invalid_contact_id:
      return d == detail::missing || d == detail::wrong_type ||
             (v >= static_cast<int>(detail::not_e164) && v <= static_cast<int>(detail::not_valid));
    case reason_code::invalid_zip_code:
      return d == detail::wrong_type || d == detail::format_mismatch || d == detail::country_has_no_postal_codes;
    case reason_code::malformed_payload:
      return v >= static_cast<int>(detail::empty_payload) && v <= static_cast<int>(detail::too_many_contacts);
    case reason_code::internal_server_error: return d == detail::processing_failed;
  }
  return false;
}

/// The outcome of libphonenumber-style validity checking for an E.164-shaped number.
/// Both phone validators (reference and fast) return exactly these.
enum class phone_verdict : std::uint8_t {
  valid,
  invalid_country_code,
  too_short,
  too_long,
  invalid_length,
  is_possible_local_only,
  not_valid,
};

[[nodiscard]] constexpr detail to_detail(phone_verdict v) noexcept {
  switch (v) {
    case phone_verdict::invalid_country_code: return detail::invalid_country_code;
    case phone_verdict::too_short: return detail::too_short;
    case phone_verdict::too_long: return detail::too_long;
    case phone_verdict::invalid_length: return detail::invalid_length;
    case phone_verdict::is_possible_local_only: return detail::is_possible_local_only;
    case phone_verdict::not_valid:
    case phone_verdict::valid: return detail::not_valid;
  }
  return detail::not_valid;
}

[[nodiscard]] constexpr std::string_view to_string(phone_verdict v) noexcept {
  return v == phone_verdict::valid ? std::string_view{"VALID"} : to_string(to_detail(v));
}

}  // namespace cg
