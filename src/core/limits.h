#pragma once
/// Limits that bound the work and memory spent on one payload. Beyond any of them the
/// payload gets one MALFORMED_PAYLOAD outcome with a detail naming the limit.
#include <cstddef>

namespace cg {

struct payload_limits {
  std::size_t max_payload_bytes{1'000'000};  ///< Kafka's default message.max.bytes is ~1 MB
  std::size_t max_depth{32};                 ///< nesting levels, the root container counts as 1
  std::size_t max_contacts{10'000};          ///< contacts in one array or bulk payload
  std::size_t max_string_bytes{65'536};      ///< any JSON string (values and keys), unescaped
};

}  // namespace cg
