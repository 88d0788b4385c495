#include "validate/payload_validator.h"

#include <algorithm>

namespace cg::validate {

payload_validator::payload_validator(const rule_set& rules, payload_limits limits) : _rules(rules), _parser(limits) {}

void payload_validator::validate_contact(const contact_fields& c, contact_outcome& out) const noexcept {
  out.index = c.index;
  out.raw = c.raw;
  out.correlation_id = c.correlation_id;
  out.contact_id = c.contact_id;
  out.reasons.size = 0;  // the slots past size are never read
  // The zip memo's slot is most likely a cache miss: start it now, it is read after the phone check.
  if (c.zip_code.kind == field_kind::string) _zip_memo.prefetch(c.country_iso_code.text, trim_ascii(c.zip_code.text));
  reason r;
  if (check_correlation_id(c.correlation_id, r)) out.reasons.push(r);
  const bool country_bad = check_country(c.country_iso_code, r);
  if (country_bad) out.reasons.push(r);
  if (check_contact_id(c.contact_id, _rules.phones, r)) out.reasons.push(r);
  if (check_zip(c.zip_code, c.country_iso_code.text, !country_bad, _rules.postal, r, &_zip_memo)) out.reasons.push(r);
}

void payload_validator::validate(std::string_view payload, payload_outcome& out) noexcept {
  begin(out);
  judge(_parser.parse(payload, _contacts, out.malformed_reason), out);
}

void payload_validator::validate_padded(std::string_view payload, payload_outcome& out) noexcept {
  begin(out);
  judge(_parser.parse_padded(payload, _contacts, out.malformed_reason), out);
}

void payload_validator::begin(payload_outcome& out) noexcept {
  // As out.clear(), but the contacts keep their storage and values: judge() either clears them
  // or resizes them and overwrites every member of every element (validate_contact()).
  out.malformed = false;
  out.malformed_reason = {};
}

void payload_validator::judge(bool parsed, payload_outcome& out) noexcept {
  if (!parsed) {
    out.contacts.clear();
    out.malformed = true;
    return;
  }
  out.contacts.resize(_contacts.size());
  for (std::size_t i = 0; i < _contacts.size(); ++i) validate_contact(_contacts[i], out.contacts[i]);
  if (_contacts.size() < 2) return;

  // DUPLICATE_IN_REQUEST: the second and later contacts with the same (well-formed)
  // correlation_id. Sort keys, then mark every entry after the first of each run.
  _seen_ids.clear();
  for (std::size_t i = 0; i < out.contacts.size(); ++i) {
    const auto& c = out.contacts[i];
    const bool id_ok = c.correlation_id.kind == field_kind::string &&
                       std::none_of(c.reasons.begin(), c.reasons.end(),
                                    [](const reason& r) { return r.code == reason_code::invalid_correlation_id; });
    if (id_ok) _seen_ids.emplace_back(correlation_key_of(c.correlation_id.text), static_cast<std::uint32_t>(i));
  }
  std::sort(_seen_ids.begin(), _seen_ids.end(), [](const auto& a, const auto& b) {
    if (a.first.hi != b.first.hi) return a.first.hi < b.first.hi;
    if (a.first.lo != b.first.lo) return a.first.lo < b.first.lo;
    return a.second < b.second;
  });
  for (std::size_t i = 1; i < _seen_ids.size(); ++i) {
    if (!(_seen_ids[i].first == _seen_ids[i - 1].first)) continue;
    std::size_t first = i - 1;
    while (first > 0 && _seen_ids[first - 1].first == _seen_ids[i].first) --first;
    contact_outcome& dup = out.contacts[_seen_ids[i].second];
    reason r;
    r.code = reason_code::invalid_correlation_id;
    r.field = field_id::correlation_id;
    r.what = detail::duplicate_in_request;
    r.number = out.contacts[_seen_ids[first].second].index;
    // correlation_id is the first rule: keep the fixed order by inserting at the front.
    reason_list ordered;
    ordered.push(r);
    for (const reason& other : dup.reasons) ordered.push(other);
    dup.reasons = ordered;
  }
}

}  // namespace cg::validate
