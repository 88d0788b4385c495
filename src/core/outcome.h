#pragma once
/// The record model: what the validator says about one payload and each contact in it.
///
/// Ownership: string_views point into buffers owned by the parser that produced them
/// (parse::payload_parser) and stay valid until that parser parses the next payload.
/// Copy what you keep. Thread-safety: plain values; confine an instance to one thread.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/reason.h"

namespace cg {

/// One failing reason. The human message is derived from these fields when the reason
/// is written out (core/format.h), so building a reason never allocates.
struct reason {
  reason_code code{reason_code::malformed_payload};
  field_id field{field_id::none};
  detail what{detail::invalid_json};
  e164_problem e164{e164_problem::none};  ///< which part broke E.164 syntax (detail::not_e164)
  std::int64_t byte_offset{-1};           ///< malformed payloads: where, in payload bytes
  std::int64_t number{-1};                ///< e.g. the length found (wrong_length), limits
  std::string_view note{};                ///< static text only (e.g. simdjson's error message)

  friend bool operator==(const reason&, const reason&) = default;
};

/// At most one reason per contact field, so four slots always suffice.
struct reason_list {
  std::array<reason, contact_field_count> items{};
  std::uint8_t size{0};

  void push(const reason& r) noexcept {
    if (size < items.size()) items[size++] = r;
  }
  [[nodiscard]] bool empty() const noexcept { return size == 0; }
  [[nodiscard]] const reason* begin() const noexcept { return items.data(); }
  [[nodiscard]] const reason* end() const noexcept { return items.data() + size; }
};

/// How a contact field appeared in the JSON object.
enum class field_kind : std::uint8_t { absent, string, wrong_type };

struct field_value {
  field_kind kind{field_kind::absent};
  std::string_view text{};  ///< unescaped string value when kind == string
};

/// One contact object as read from a payload.
struct contact_fields {
  std::string_view raw{};  ///< the object's bytes exactly as received
  std::uint32_t index{0};  ///< position inside the payload (0 for a single object)
  field_value correlation_id, contact_id, country_iso_code, zip_code;
};

/// The verdict for one contact.
struct contact_outcome {
  std::uint32_t index{0};
  std::string_view raw{};
  field_value correlation_id{};
  field_value contact_id{};  ///< personal data: mask before logging (cg::mask_phone, core/format.h)
  reason_list reasons{};
  [[nodiscard]] bool accepted() const noexcept { return reasons.empty(); }
};

/// The verdict for one payload: either malformed (one reason, no contacts) or one
/// outcome per contact, in payload order.
struct payload_outcome {
  bool malformed{false};
  reason malformed_reason{};
  std::vector<contact_outcome> contacts;

  /// Whether the outputs include a rejection record (the payload, or any contact, rejected).
  [[nodiscard]] bool has_rejection() const noexcept {
    if (malformed) return true;
    for (const contact_outcome& c : contacts) {
      if (!c.accepted()) return true;
    }
    return false;
  }

  void clear() noexcept {
    malformed = false;
    malformed_reason = {};
    contacts.clear();
  }
};

}  // namespace cg
