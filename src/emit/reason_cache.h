#pragma once
/// The JSON of a reason ({"code":..,"field":..,"detail":..,"message":..[,"byte_offset":N]})
/// depends only on the reason's value, so it is rendered once with emit::write_reason and kept
/// in a small direct-mapped cache; a hit costs a hash and a compare instead of building the
/// message text. The reason's note is copied into the cache, never borrowed.
///
/// Ownership: the cache owns its rendered texts; a returned view is valid until the next call.
/// Threading: one cache per thread. Allocates only while it warms up or on misses.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.h"

namespace cg::emit {

class reason_json_cache {
 public:
  /// `slots` direct-mapped entries.
  explicit reason_json_cache(std::size_t slots) : _slots(slots == 0 ? 1 : slots) {}
  /// The JSON object of `r`, exactly as write_reason() writes it.
  [[nodiscard]] std::string_view json_of(const reason& r);

 private:
  struct slot {
    bool used{false};
    reason key{};      // key.note views `note` below
    std::string note;  // owned copy of the reason's note
    std::string json;  // the rendered reason
  };
  std::vector<slot> _slots;
};

}  // namespace cg::emit
