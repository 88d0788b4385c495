#pragma once
/// Phone validity for contact_id, behind one interface so the pipeline can pick the
/// implementation: `reference` calls libphonenumber (Parse + IsValidNumber +
/// IsPossibleNumberWithReason) and defines the truth; a fast one must return the same
/// verdict for every input.
///
/// Threading: implementations are immutable after construction and check() is safe from
/// any number of threads. Lifetime: callers hold a reference; the validator outlives them.
#include <memory>
#include <string>
#include <string_view>

#include "core/reason.h"

namespace cg::validate {

class phone_validator {
 public:
  virtual ~phone_validator() = default;
  /// `e164` has passed check_e164_syntax: '+', then 1 to 15 digits, the first not 0.
  [[nodiscard]] virtual phone_verdict check(std::string_view e164) const noexcept = 0;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

/// libphonenumber itself: PhoneNumberUtil::Parse(number, "ZZ"), IsValidNumber, and
/// IsPossibleNumberWithReason for the detail. Parse errors map to: INVALID_COUNTRY_CODE_ERROR
/// -> invalid_country_code; TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD, NOT_A_NUMBER -> too_short;
/// TOO_LONG_NSN -> too_long.
class reference_phone_validator final : public phone_validator {
 public:
  reference_phone_validator();
  [[nodiscard]] phone_verdict check(std::string_view e164) const noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "libphonenumber"; }
};

/// The validator named `name`: "fast" (fast_phone_validator, the default) or "reference"
/// (libphonenumber itself), over the phone data in use (phone_data.h), checked against the
/// data's canaries. Throws std::invalid_argument for another name, and std::runtime_error
/// when the fast tables cannot be built or a canary fails (start-up only).
[[nodiscard]] std::unique_ptr<phone_validator> make_phone_validator(std::string_view name);

/// The phone data in use, for --version, /metrics and rejection records: e.g.
/// "libphonenumber metadata 9.0.43 (sha256 8a04ed3f4096297b, 201290 bytes; code libphonenumber 8.12.57+ds-3)".
[[nodiscard]] std::string phone_metadata_version();

}  // namespace cg::validate
