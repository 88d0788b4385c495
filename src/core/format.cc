#include "core/format.h"

#include <charconv>

namespace cg {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out.append("\\u00");
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_int(std::string& out, long long v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes always hold a long long
  out.append(buf, end);
}

namespace {

std::string with_number(std::string_view text, long long n, std::string_view tail = ")") {
  std::string s{text};
  append_int(s, n);
  s.append(tail);
  return s;
}

std::string describe_field_rule(const reason& r) {
  const std::string field{to_string(r.field)};
  switch (r.what) {
    case detail::missing: return field + " is required";
    case detail::wrong_type: return field + " must be a JSON string";
    default: break;
  }
  switch (r.code) {
    case reason_code::invalid_correlation_id:
      switch (r.what) {
        case detail::wrong_length:
          return with_number("correlation_id must be exactly 32 hexadecimal characters (found ", r.number);
        case detail::not_hex:
          return with_number(
              "correlation_id must contain only hexadecimal characters 0-9 and a-f (first other "
              "character at position ",
              r.number);
        case detail::hyphenated:
          return "correlation_id is a hyphenated UUID: remove the four hyphens and send its 32 "
                 "hexadecimal characters";
        case detail::duplicate_in_request:
          return with_number("correlation_id repeats the one of an earlier contact in this request (index ", r.number,
                             "); give every contact a unique correlation_id");
        default: break;
      }
      break;
    case reason_code::invalid_country_iso_code:
      if (r.what == detail::not_uppercase)
        return "country_iso_code must be uppercase, as in ISO 3166-1 (for example US, not us)";
      if (r.what == detail::not_assigned) return "country_iso_code is not an assigned ISO 3166-1 alpha-2 code";
      break;
    case reason_code::invalid_contact_id:
      switch (r.what) {
        case detail::not_e164: return std::string{"contact_id is not in E.164 format: "}.append(to_string(r.e164));
        case detail::invalid_country_code: return "contact_id has no assigned country calling code after '+'";
        case detail::too_short: return "contact_id is too short to be a phone number of its country calling code";
        case detail::too_long: return "contact_id is too long for a phone number of its country calling code";
        case detail::invalid_length: return "contact_id has a length that no number of its country calling code has";
        case detail::is_possible_local_only:
          return "contact_id is only a local number (dialable without the area code); send the "
                 "full international number";
        case detail::not_valid: return "contact_id has a possible length but is in no assigned number range";
        default: break;
      }
      break;
    case reason_code::invalid_zip_code:
      if (r.what == detail::format_mismatch) {
        std::string s = "zip_code does not match the postal code format of country_iso_code";
        if (!r.note.empty()) s.append(" (example: ").append(r.note).append(")");
        return s;
      }
      if (r.what == detail::country_has_no_postal_codes)
        return "country_iso_code names a country without postal codes: send an empty zip_code "
               "or none";
      break;
    default: break;
  }
  return field + " is invalid";
}

std::string describe_malformed(const reason& r) {
  std::string s;
  switch (r.what) {
    case detail::empty_payload: s = "payload is empty"; break;
    case detail::too_large: s = with_number("payload is larger than the limit of ", r.number, " bytes"); break;
    case detail::invalid_utf8: s = "payload is not valid UTF-8"; break;
    case detail::invalid_json: s = "payload is not valid JSON"; break;
    case detail::root_not_container:
      s = "payload must be a JSON object (a contact or {\"contacts\":[...]}) or an array of contacts";
      break;
    case detail::element_not_object: s = "every element of the contacts array must be a JSON object"; break;
    case detail::too_deep: s = with_number("payload nests deeper than the limit of ", r.number, " levels"); break;
    case detail::string_too_long:
      s = with_number("payload holds a string longer than the limit of ", r.number, " bytes");
      break;
    case detail::duplicate_key: s = "an object repeats a key that contactgate reads"; break;
    case detail::contacts_not_array: s = "\"contacts\" must be a JSON array"; break;
    case detail::no_contacts: s = "payload holds no contacts"; break;
    case detail::too_many_contacts:
      s = with_number("payload holds more contacts than the limit of ", r.number, "");
      break;
    default: s = "payload cannot be read as contacts"; break;
  }
  if (!r.note.empty()) s.append(": ").append(r.note);
  if (r.byte_offset >= 0) {
    s.append(" (at byte ");
    append_int(s, r.byte_offset);
    s.push_back(')');
  }
  return s;
}

}  // namespace

std::string describe(const reason& r) {
  switch (r.code) {
    case reason_code::malformed_payload: return describe_malformed(r);
    case reason_code::internal_server_error: {
      std::string s = "contactgate failed while processing this contact; retry later";
      if (!r.note.empty()) s.append(" (").append(r.note).append(")");
      return s;
    }
    default: return describe_field_rule(r);
  }
}

void append_reason_json(std::string& out, const reason& r) {
  out.append("{\"code\":");
  append_json_string(out, to_string(r.code));
  out.append(",\"field\":");
  if (r.field == field_id::none) {
    out.append("null");
  } else {
    append_json_string(out, to_string(r.field));
  }
  out.append(",\"detail\":");
  append_json_string(out, to_string(r.what));
  out.append(",\"message\":");
  append_json_string(out, describe(r));
  if (r.byte_offset >= 0) {
    out.append(",\"byte_offset\":");
    append_int(out, r.byte_offset);
  }
  out.push_back('}');
}

void append_reasons_json(std::string& out, const reason_list& reasons) {
  out.push_back('[');
  bool first = true;
  for (const reason& r : reasons) {
    if (!first) out.push_back(',');
    first = false;
    append_reason_json(out, r);
  }
  out.push_back(']');
}

std::string mask_phone(std::string_view s) {
  std::string out(s);
  std::size_t digits = 0;
  for (char c : s) digits += (c >= '0' && c <= '9');
  if (digits <= 6) {
    for (char& c : out)
      if (c >= '0' && c <= '9') c = '*';
    return out;
  }
  std::size_t seen = 0;
  for (char& c : out) {
    if (c < '0' || c > '9') continue;
    ++seen;
    if (seen > 4 && seen + 2 <= digits) c = '*';
  }
  return out;
}

}  // namespace cg
