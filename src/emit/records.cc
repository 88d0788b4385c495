#include "emit/records.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "core/format.h"
#include "core/utf8.h"
#include "emit/json_buffer.h"
#include "emit/json_writer.h"
#include "emit/reason_cache.h"

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

validator_info make_validator_info(std::string version, std::string phone_data, std::string country_data,
                                   std::string postal_data) {
  validator_info v{std::move(version), std::move(phone_data), std::move(country_data), std::move(postal_data), {}};
  string_sink sink(v.json);
  json_writer w(sink);
  w.StartObject();
  write_key(w, "version");
  write_string(w, v.version);
  write_key(w, "phone_data");
  write_string(w, v.phone_data);
  write_key(w, "country_data");
  write_string(w, v.country_data);
  write_key(w, "postal_data");
  write_string(w, v.postal_data);
  w.EndObject();
  return v;
}

namespace {

void put_string(buffer_json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_source(buffer_json_writer& w, const source_info& src, long long index) {
  w.StartObject();
  w.key<"topic">();
  put_string(w, src.topic);
  w.key<"partition">();
  w.Int(src.partition);
  w.key<"offset">();
  w.Int64(src.offset);
  w.key<"index">();
  if (index >= 0)
    w.Int64(index);
  else
    w.Null();
  w.key<"timestamp">();
  if (src.timestamp_ms >= 0)
    w.Int64(src.timestamp_ms);
  else
    w.Null();
  w.EndObject();
}

// iso8601_utc() for the rejection records: the date and time of day are formatted once per
// second per thread (gmtime_r and snprintf cost more than the rest of a small record).
std::string_view rejected_at(std::int64_t ms, char (&buf)[32]) {
  thread_local std::int64_t cached_second = INT64_MIN;
  thread_local std::string cached;  // "YYYY-MM-DDTHH:MM:SS."
  const std::int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != cached_second) {
    cached = iso8601_utc(second * 1000);
    cached.resize(cached.size() - 4);  // drop "000Z"
    cached_second = second;
  }
  const int milli = static_cast<int>(ms - second * 1000);
  std::memcpy(buf, cached.data(), cached.size());
  char* p = buf + cached.size();
  *p++ = static_cast<char>('0' + milli / 100);
  *p++ = static_cast<char>('0' + milli / 10 % 10);
  *p++ = static_cast<char>('0' + milli % 10);
  *p++ = 'Z';
  return {buf, static_cast<std::size_t>(p - buf)};
}

}  // namespace

std::string reasons_header(const reason_list& reasons) {
  std::string h;
  for (const reason& r : reasons) {
    if (!h.empty()) h.push_back(',');
    h.append(to_string(r.code)).append(":").append(to_string(r.what));
  }
  return h;
}

namespace {

enum class record_kind { json, raw, omitted };

out_message rejection(const reason_list& reasons, const field_value* correlation_id, record_kind kind,
                      std::string_view record, bool malformed, const source_info& src, long long index,
                      const validator_info& info, std::int64_t now_ms) {
  const bool has_cid = correlation_id && correlation_id->kind == field_kind::string;
  out_message m;
  m.dest = destination::rejected;
  m.reasons = reasons;
  m.malformed = malformed;
  m.index = index;
  if (has_cid) {
    m.has_correlation_id = true;
    m.correlation_id = std::string(correlation_id->text);
  }
  if (src.has_key) {
    m.key_source = out_message::key_from::source;
    m.source_key = src.key;
  } else if (has_cid) {
    m.key_source = out_message::key_from::correlation_id;
  }
  bool retryable = false;
  for (const reason& r : reasons) retryable |= r.code == reason_code::internal_server_error;
  // One writer and reason cache per thread: the writer keeps its level stack, the cache the
  // rendered reasons (a hit costs a hash instead of building the message text).
  thread_local buffer_json_writer w;
  thread_local reason_json_cache reason_json{256};
  m.body.reserve_exact(512 + info.json.size() + record.size() * 2);
  w.Reset(m.body);
  w.StartObject();
  w.key<"error_code">();
  w.Int(30647);
  w.key<"error_message">();
  w.string_literal<"Failed to Upsert Contact">();
  w.key<"correlation_id">();
  if (has_cid)
    put_string(w, correlation_id->text);
  else
    w.Null();
  w.key<"retryable">();
  w.Bool(retryable);
  w.key<"reasons">();
  w.StartArray();
  for (const reason& r : reasons) {
    const std::string_view json = reason_json.json_of(r);
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.key<"record">();
  std::string_view encoding;
  if (kind == record_kind::json) {  // the contact object exactly as received
    w.RawValue(record.data(), record.size(), rapidjson::kObjectType);
    encoding = "json";
  } else if (kind == record_kind::omitted) {
    w.Null();
    encoding = "omitted";
  } else if (find_invalid_utf8(record) == std::string_view::npos) {
    put_string(w, record);
    encoding = "string";
  } else {
    put_string(w, base64(record));
    encoding = "base64";
  }
  w.key<"record_encoding">();
  put_string(w, encoding);
  w.key<"source">();
  write_source(w, src, index);
  w.key<"validator">();
  w.RawValue(info.json.data(), info.json.size(), rapidjson::kObjectType);
  w.key<"rejected_at">();
  char at[32];
  put_string(w, rejected_at(now_ms, at));
  w.EndObject();
  return m;
}

}  // namespace

void build_outputs(const payload_outcome& outcome, std::string_view raw_payload, const source_info& src,
                   const validator_info& info, std::int64_t now_ms, out_list& out) {
  if (outcome.malformed) {
    reason_list rl;
    rl.push(outcome.malformed_reason);
    out.push_back(rejection(rl, nullptr, record_kind::raw, raw_payload, true, src, -1, info, now_ms));
    return;
  }
  for (const contact_outcome& c : outcome.contacts) {
    if (!c.accepted()) {
      out.push_back(
          rejection(c.reasons, &c.correlation_id, record_kind::json, c.raw, false, src, c.index, info, now_ms));
      continue;
    }
    out_message& m = out.emplace_back();
    m.dest = destination::accepted;
    m.index = c.index;
    m.has_correlation_id = true;  // an accepted contact's correlation_id is a valid string
    m.correlation_id.assign(c.correlation_id.text);
    if (src.has_key) {
      m.key_source = out_message::key_from::source;
      m.source_key = src.key;
    } else {
      m.key_source = out_message::key_from::correlation_id;
    }
    m.raw = c.raw;
  }
}

void write_headers(const out_message& m, const source_info& src, header_sink& sink) {
  if (m.dest == destination::rejected) {
    sink.add(h_error_code, "30647");
    sink.add(h_error_reasons, reasons_header(m.reasons));
  }
  char num[24];
  sink.add(h_source_topic, src.topic);
  auto add_number = [&](std::string_view name, long long v) {
    const auto r = std::to_chars(num, num + sizeof num, v);
    sink.add(name, std::string_view(num, static_cast<std::size_t>(r.ptr - num)));
  };
  add_number(h_source_partition, src.partition);
  add_number(h_source_offset, src.offset);
  if (m.index >= 0) add_number(h_source_index, m.index);
  if (m.has_correlation_id) sink.add(h_correlation_id, m.correlation_id);
}

std::vector<header> collect_headers(const out_message& m, const source_info& src) {
  struct vector_sink final : header_sink {
    std::vector<header> v;
    void add(std::string_view name, std::string_view value) override { v.push_back({name, std::string(value)}); }
  } sink;
  write_headers(m, src, sink);
  return std::move(sink.v);
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

void build_internal_error_outputs(const payload_outcome* outcome, std::string_view raw_payload, const source_info& src,
                                  const validator_info& info, std::int64_t now_ms, std::string_view note,
                                  out_list& out) {
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
