#include <stdexcept>
#include <string>

#include "validate/phone.h"
#include "validate/phone_data.h"
#include "validate/phone_fast.h"

namespace cg::validate {

std::unique_ptr<phone_validator> make_phone_validator(std::string_view name) {
  std::unique_ptr<phone_validator> v;
  if (name == "fast") {
    v = std::make_unique<fast_phone_validator>();
  } else if (name == "reference") {
    v = std::make_unique<reference_phone_validator>();
  } else {
    throw std::invalid_argument("phone validator '" + std::string(name) + "': expected fast or reference");
  }
  check_phone_canaries(*v);
  return v;
}

}  // namespace cg::validate
