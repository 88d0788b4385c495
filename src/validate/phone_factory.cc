#include <stdexcept>
#include <string>

#include "validate/phone.h"
#include "validate/phone_fast.h"

namespace cg::validate {

std::unique_ptr<phone_validator> make_phone_validator(std::string_view name) {
  if (name == "fast") return std::make_unique<fast_phone_validator>();
  if (name == "reference") return std::make_unique<reference_phone_validator>();
  throw std::invalid_argument("phone validator '" + std::string(name) + "': expected fast or reference");
}

}  // namespace cg::validate
