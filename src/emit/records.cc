#include "emit/records.h"

#include <ctime>

#include "core/format.h"
#include "core/utf8.h"

namespace cg::emit {

std::string iso8601_utc(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string base64(std::string_view in) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string mask_phone(std::string_view s) {
  std::string out(s);
  std::size_t digits = 0;
  for (char c : s) digits += (c >= '0' && c <= '9');
  if (digits <= 6) {
    for (char& c : out) if (c >= '0' && c <= '9') c = '*';
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

validator_info make_validator_info(std::string version, std::string phone_data, std::string country_data,
                                   std::string postal_data) {
  validator_info v{std::move(version), std::move(phone_data), std::move(country_data), std::move(postal_data), {}};
  v.json = "{\"version\":";
  append_json_string(v.json, v.version);
  v.json += ",\"phone_data\":";
  append_json_string(v.json, v.phone_data);
  v.json += ",\"country_data\":";
  append_json_string(v.json, v.country_data);
  v.json += ",\"postal_data\":";
  append_json_string(v.json, v.postal_data);
  v.json += "}";
  return v;
}

namespace {

void add_source_headers(out_message& m, const source_info& src, long long index) {
  m.headers.push_back({h_source_topic, std::string(src.topic)});
  m.headers.push_back({h_source_partition, std::to_string(src.partition)});
  m.headers.push_back({h_source_offset, std::to_string(src.offset)});
  if (index >= 0) m.headers.push_back({h_source_index, std::to_string(index)});
}

void append_source_json(std::string& v, const source_info& src, long long index) {
  v += "\"source\":{\"topic\":";
  append_json_string(v, src.topic);
  v += ",\"partition\":";
  append_int(v, src.partition);
  v += ",\"offset\":";
  append_int(v, src.offset);
  v += ",\"index\":";
  if (index >= 0) append_int(v, index); else v += "null";
  v += ",\"timestamp\":";
  if (src.timestamp_ms >= 0) append_int(v, src.timestamp_ms); else v += "null";
  v += "}";
}

std::string reasons_header(const reason_list& reasons) {
  std::string h;
  for (const reason& r : reasons) {
    if (!h.empty()) h.push_back(',');
    h.append(to_string(r.code)).append(":").append(to_string(r.what));
  }
  return h;
}

enum class record_kind { json, raw, omitted };

out_message rejection(const reason_list& reasons, const field_value* correlation_id, record_kind kind,
                      std::string_view record, bool malformed, const source_info& src, long long index,
                      const validator_info& info, std::int64_t now_ms) {
  out_message m;
  m.dest = destination::rejected;
  m.reasons = reasons;
  m.malformed = malformed;
  if (src.has_key) {
    m.has_key = true;
    m.key = std::string(src.key);
  } else if (correlation_id && correlation_id->kind == field_kind::string) {
    m.has_key = true;
    m.key = std::string(correlation_id->text);
  }
  std::string& v = m.value;
  v.reserve(512 + record.size() * 2);
  v += "{\"error_code\":30647,\"error_message\":\"Failed to Upsert Contact\",\"correlation_id\":";
  if (correlation_id && correlation_id->kind == field_kind::string) append_json_string(v, correlation_id->text); else v += "null";
  bool retryable = false;
  for (const reason& r : reasons) retryable |= r.code == reason_code::internal_server_error;
  v += ",\"retryable\":";
  v += retryable ? "true" : "false";
  v += ",\"reasons\":";
  append_reasons_json(v, reasons);
  v += ",\"record\":";
  if (kind == record_kind::json) {
    v += record;
    v += ",\"record_encoding\":\"json\"";
  } else if (kind == record_kind::omitted) {
    v += "null,\"record_encoding\":\"omitted\"";
  } else if (find_invalid_utf8(record) == std::string_view::npos) {
    append_json_string(v, record);
    v += ",\"record_encoding\":\"string\"";
  } else {
    append_json_string(v, base64(record));
    v += ",\"record_encoding\":\"base64\"";
  }
  v += ",";
  append_source_json(v, src, index);
  v += ",\"validator\":";
  v += info.json;
  v += ",\"rejected_at\":";
  append_json_string(v, iso8601_utc(now_ms));
  v += "}";
  m.headers.push_back({h_error_code, "30647"});
  m.headers.push_back({h_error_reasons, reasons_header(reasons)});
  add_source_headers(m, src, index);
  if (correlation_id && correlation_id->kind == field_kind::string) {
    m.headers.push_back({h_correlation_id, std::string(correlation_id->text)});
  }
  return m;
}

}  // namespace

void build_outputs(const payload_outcome& outcome, std::string_view raw_payload, const source_info& src,
                   const validator_info& info, std::int64_t now_ms, std::vector<out_message>& out) {
  if (outcome.malformed) {
    reason_list rl;
    rl.push(outcome.malformed_reason);
    out.push_back(rejection(rl, nullptr, record_kind::raw, raw_payload, true, src, -1, info, now_ms));
    return;
  }
  for (const contact_outcome& c : outcome.contacts) {
    if (!c.accepted()) {
      out.push_back(rejection(c.reasons, &c.correlation_id, record_kind::json, c.raw, false, src, c.index, info, now_ms));
      continue;
    }
    out_message m;
    m.dest = destination::accepted;
    if (src.has_key) {
      m.has_key = true;
      m.key = std::string(src.key);
    } else {
      m.has_key = true;
      m.key = std::string(c.correlation_id.text);
    }
    m.value = std::string(c.raw);
    add_source_headers(m, src, c.index);
    m.headers.push_back({h_correlation_id, std::string(c.correlation_id.text)});
    out.push_back(std::move(m));
  }
}

namespace {
reason internal_reason(std::string_view note) {
  reason r;
  r.code = reason_code::internal_server_error;
  r.field = field_id::none;
  r.what = detail::processing_failed;
  r.note = note;
  return r;
}
}  // namespace

void build_internal_error_outputs(const payload_outcome* outcome, std::string_view raw_payload,
                                  const source_info& src, const validator_info& info, std::int64_t now_ms,
                                  std::string_view note, std::vector<out_message>& out) {
  reason_list rl;
  rl.push(internal_reason(note));
  if (outcome == nullptr || outcome->malformed || outcome->contacts.empty()) {
    out.push_back(rejection(rl, nullptr, record_kind::raw, raw_payload, false, src, -1, info, now_ms));
    return;
  }
  for (const contact_outcome& c : outcome->contacts) {
    out.push_back(rejection(rl, &c.correlation_id, record_kind::json, c.raw, false, src, c.index, info, now_ms));
  }
}

out_message internal_error_without_record(std::string_view correlation_id, const source_info& src, long long index,
                                          const validator_info& info, std::int64_t now_ms, std::string_view note) {
  reason_list rl;
  rl.push(internal_reason(note));
  field_value cid{correlation_id.empty() ? field_kind::absent : field_kind::string, correlation_id};
  return rejection(rl, &cid, record_kind::omitted, {}, false, src, index, info, now_ms);
}

}  // namespace cg::emit
