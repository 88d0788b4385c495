#pragma once
/// Judges one payload: parses it (parse::payload_parser) and applies the four rules to
/// every contact, plus DUPLICATE_IN_REQUEST across the contacts of the payload.
///
/// Threading: one payload_validator per thread (it owns a parser and scratch buffers);
/// the rule_set it refers to is shared, immutable and must outlive it.
/// Lifetime: views inside the payload_outcome stay valid until the next validate() call.
/// Errors: never throws; every payload yields either one MALFORMED_PAYLOAD reason or one
/// contact_outcome per contact.
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/outcome.h"
#include "parse/payload_parser.h"
#include "validate/phone.h"
#include "validate/postal_table.h"
#include "validate/rules.h"

namespace cg::validate {

/// What the rules judge with. Shared by all threads; must outlive every validator.
struct rule_set {
  const phone_validator& phones;
  const postal_table& postal;
};

class payload_validator {
 public:
  payload_validator(const rule_set& rules, payload_limits limits = {});

  /// Judges `payload` into `out` (cleared first).
  void validate(std::string_view payload, payload_outcome& out) noexcept;

  /// As validate(), for a payload followed by parse::payload_padding readable bytes, which is
  /// parsed in place (parse::payload_parser::parse_padded; see its IMPORTANT note): no copy.
  void validate_padded(std::string_view payload, payload_outcome& out) noexcept;

  /// Judges one already-parsed contact (no duplicate check).
  void validate_contact(const contact_fields& c, contact_outcome& out) const noexcept;

 private:
  // Readies `out` for a payload (what judge() does not overwrite).
  static void begin(payload_outcome& out) noexcept;
  // The rules and the duplicate check, once the parser has filled _contacts (or failed).
  void judge(bool parsed, payload_outcome& out) noexcept;

  rule_set _rules;
  parse::payload_parser _parser;
  std::vector<contact_fields> _contacts;
  std::vector<std::pair<correlation_key, std::uint32_t>> _seen_ids;
  mutable postal_memo _zip_memo;  // this thread's; validate_contact() is const but per-thread
};

}  // namespace cg::validate
