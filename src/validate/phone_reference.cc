#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "validate/phone.h"

namespace cg::validate {

namespace pn = i18n::phonenumbers;

reference_phone_validator::reference_phone_validator() { (void)pn::PhoneNumberUtil::GetInstance(); }

phone_verdict reference_phone_validator::check(std::string_view e164) const noexcept {
  try {
    const pn::PhoneNumberUtil& util = *pn::PhoneNumberUtil::GetInstance();
    pn::PhoneNumber number;
    switch (util.Parse(std::string(e164), "ZZ", &number)) {
      case pn::PhoneNumberUtil::NO_PARSING_ERROR: break;
      case pn::PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return phone_verdict::invalid_country_code;
      case pn::PhoneNumberUtil::TOO_LONG_NSN: return phone_verdict::too_long;
      case pn::PhoneNumberUtil::NOT_A_NUMBER:
      case pn::PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      case pn::PhoneNumberUtil::TOO_SHORT_NSN: return phone_verdict::too_short;
    }
    if (util.IsValidNumber(number)) return phone_verdict::valid;
    switch (util.IsPossibleNumberWithReason(number)) {
      case pn::PhoneNumberUtil::IS_POSSIBLE: return phone_verdict::not_valid;
      case pn::PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return phone_verdict::is_possible_local_only;
      case pn::PhoneNumberUtil::INVALID_COUNTRY_CODE: return phone_verdict::invalid_country_code;
      case pn::PhoneNumberUtil::TOO_SHORT: return phone_verdict::too_short;
      case pn::PhoneNumberUtil::INVALID_LENGTH: return phone_verdict::invalid_length;
      case pn::PhoneNumberUtil::TOO_LONG: return phone_verdict::too_long;
    }
    return phone_verdict::not_valid;
  } catch (...) {  // allocation failure inside the library: judge as not valid, never throw
    return phone_verdict::not_valid;
  }
}

}  // namespace cg::validate
