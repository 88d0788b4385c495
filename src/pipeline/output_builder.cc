#include "pipeline/output_builder.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "core/format.h"
#include "pipeline/kafka.h"
#include "pipeline/log.h"

namespace cg::pipeline {

namespace {

using clock_type = std::chrono::steady_clock;

// Writes an output's headers straight into a librdkafka header list.
struct kafka_header_sink final : emit::header_sink {
  rd_kafka_headers_t* hs;
  explicit kafka_header_sink(rd_kafka_headers_t* h) noexcept : hs(h) {}
  void add(std::string_view name, std::string_view value) override {
    rd_kafka_header_add(hs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
};

// The correlation_id string of a payload found by a byte search, for the fair pass-through
// (pipeline.mode = passthrough_headers): no JSON parse, the first "correlation_id" member.
std::string_view find_correlation_id(std::string_view payload) noexcept {
  static constexpr std::string_view name = "\"correlation_id\"";
  const std::size_t at = payload.find(name);
  if (at == std::string_view::npos) return {};
  std::size_t i = at + name.size();
  while (i < payload.size() && (payload[i] == ' ' || payload[i] == ':' || payload[i] == '\t')) ++i;
  if (i >= payload.size() || payload[i] != '"') return {};
  const std::size_t end = payload.find('"', i + 1);
  if (end == std::string_view::npos) return {};
  return payload.substr(i + 1, end - i - 1);
}

}  // namespace

input_record input_of(const rd_kafka_message_t& m) noexcept {
  rd_kafka_timestamp_type_t tt;
  const std::int64_t ts = rd_kafka_message_timestamp(&m, &tt);
  return input_of(m, tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts);
}

input_record input_of(const rd_kafka_message_t& m, std::int64_t timestamp_ms) noexcept {
  input_record in;
  in.payload = std::string_view(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
  in.has_key = m.key != nullptr;
  if (in.has_key) in.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
  in.partition = m.partition;
  in.offset = m.offset;
  in.timestamp_ms = timestamp_ms;
  rd_kafka_headers_t* hs = nullptr;
  if (rd_kafka_message_headers(&m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) in.headers = hs;
  return in;
}

emit::source_info output_builder::source_of(const input_record& in) const noexcept {
  emit::source_info src;
  src.topic = _cfg.input_topic;
  src.partition = in.partition;
  src.offset = in.offset;
  src.timestamp_ms = in.timestamp_ms;
  src.has_key = in.has_key;
  src.key = in.key;
  return src;
}

rd_kafka_headers_t* output_builder::kafka_headers(const emit::out_message& o, const emit::source_info& src,
                                                  const rd_kafka_headers_t* input_headers) {
  rd_kafka_headers_t* hs = rd_kafka_headers_new(o.dest == emit::destination::accepted ? 5 : 7);
  kafka_header_sink sink(hs);
  emit::write_headers(o, src, sink);
  if (o.replaced) sink.add(h_replacement, "1");
  if (input_headers) {
    // An input sent again by `contactgate redrive` keeps its contactgate.redrive.* headers
    // on every output, so a contact rejected again says how often it was redriven.
    static constexpr std::string_view prefix = "contactgate.redrive.";
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(input_headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      if (std::string_view(name).substr(0, prefix.size()) == prefix)
        rd_kafka_header_add(hs, name, -1, value, static_cast<ssize_t>(size));
    }
  }
  return hs;
}

// testing.fault_rate: a deterministic share of input messages (by partition and offset)
// fail to process; "transient" faults fail only the first attempt.
bool output_builder::inject_fault(const input_record& in, int attempt) const noexcept {
  if (_cfg.fault_rate <= 0) return false;
  if (_cfg.fault_mode == "transient" && attempt > 0) return false;
  std::uint64_t h = static_cast<std::uint64_t>(in.offset) * 0x9E3779B97F4A7C15ull ^
                    static_cast<std::uint64_t>(in.partition) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return static_cast<double>(h >> 11) / 9007199254740992.0 < _cfg.fault_rate;
}

void output_builder::remember_internal(const emit::out_message& o, const input_record& in) const {
  stats::internal_error e;
  e.ts_ms = now_ms();
  if (o.has_correlation_id) e.correlation_id = o.correlation_id;
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a known false positive of GCC 12)
  // about "literal" + std::string&& in release builds.
  e.source = _cfg.input_topic + "/" + std::to_string(in.partition) + "@" + std::to_string(in.offset);
  if (o.index >= 0) e.source.append("[").append(std::to_string(o.index)).append("]");
  _st.remember_internal_error(std::move(e));
}

void output_builder::passthrough(const input_record& in, bool with_headers, emit::out_list& outputs,
                                 header_lists& headers) const {
  // The benchmark ceilings: the same pipeline without validation. "passthrough" copies the
  // value and key; "passthrough_headers" also writes what contactgate writes on an accepted
  // output: its key (the input's, else the correlation_id) and its five headers.
  emit::out_message& o = outputs.emplace_back();
  o.dest = emit::destination::accepted;
  o.raw = in.payload;
  if (in.has_key) {
    o.key_source = emit::out_message::key_from::source;
    o.source_key = in.key;
  }
  if (!with_headers) {
    headers.push_back(nullptr);
    _st.contacts_accepted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::string_view cid = find_correlation_id(in.payload);
  if (!cid.empty()) {
    o.has_correlation_id = true;
    o.correlation_id.assign(cid);
    if (!in.has_key) o.key_source = emit::out_message::key_from::correlation_id;
  }
  o.index = 0;
  headers.push_back(kafka_headers(o, source_of(in), in.headers));
  _st.contacts_accepted.fetch_add(1, std::memory_order_relaxed);
}

void output_builder::build(const input_record& in, scratch& s, emit::out_list& outputs, header_lists& headers) const {
  for (rd_kafka_headers_t* h : headers) {
    if (h) rd_kafka_headers_destroy(h);
  }
  headers.clear();
  outputs.clear();
  if (_cfg.mode != "validate") {
    passthrough(in, _cfg.mode == "passthrough_headers", outputs, headers);
    return;
  }
  const auto t0 = clock_type::now();
  const emit::source_info src = source_of(in);
  payload_outcome& outcome = s.outcome;
  // A failure of contactgate itself is retried with backoff, then the contacts are
  // rejected with INTERNAL_SERVER_ERROR (retryable). Never dropped, never blocking.
  bool done = false, parsed = false;
  const char* failure = "processing failed";
  for (int attempt = 0; attempt <= _cfg.internal_retries && !done; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 << attempt, 100)));
    outputs.clear();
    parsed = false;
    try {
      s.validator.validate(in.payload, outcome);
      parsed = true;
      if (inject_fault(in, attempt)) {
        failure = "injected fault (testing.fault_rate)";
        continue;
      }
      // The wall clock only for rejection records (their rejected_at): most inputs have none.
      emit::build_outputs(outcome, in.payload, src, _info, outcome.has_rejection() ? now_ms() : 0, outputs);
      done = true;
    } catch (const std::exception&) {
      failure = "processing failed with an exception";
    }
  }
  if (!done) {
    outputs.clear();
    emit::build_internal_error_outputs(parsed ? &outcome : nullptr, in.payload, src, _info, now_ms(), failure, outputs);
    log(level::error, std::string("input partition ") + std::to_string(in.partition) + " offset " +
                          std::to_string(in.offset) + ": " + failure + " after " +
                          std::to_string(_cfg.internal_retries + 1) + " attempts; rejected as INTERNAL_SERVER_ERROR");
  }
  count(in, s, done || parsed ? &outcome : nullptr, outputs);
  headers.reserve(outputs.size());
  for (const auto& o : outputs) headers.push_back(kafka_headers(o, src, in.headers));
  const auto busy = clock_type::now() - t0;
  _st.validation_seconds.observe(std::chrono::duration<double>(busy).count());
  _st.worker_busy_ns.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(busy).count()),
                               std::memory_order_relaxed);
}

// The counters by outcome and reason, and a sample of rejections for the operator's view
// (phone numbers masked).
void output_builder::count(const input_record& in, scratch& s, const payload_outcome* oc,
                           const emit::out_list& outputs) const {
  std::size_t k = 0;  // outputs follow the contacts in order (or one malformed output)
  for (const auto& o : outputs) {
    const contact_outcome* co = !oc || oc->malformed || k >= oc->contacts.size() ? nullptr : &oc->contacts[k];
    ++k;
    if (o.dest == emit::destination::accepted) {
      _st.contacts_accepted.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    (o.malformed ? _st.payloads_malformed : _st.contacts_rejected).fetch_add(1, std::memory_order_relaxed);
    for (const reason& r : o.reasons) {
      _st.count_reason(r.code, r.what);
      if (r.code == reason_code::internal_server_error) {
        _st.internal_errors.fetch_add(1, std::memory_order_relaxed);
        remember_internal(o, in);
      }
    }
    if ((s.rejections++ & 63) == 0) {
      std::string line =
          emit::iso8601_utc(now_ms()) + " p" + std::to_string(in.partition) + "@" + std::to_string(in.offset);
      if (co) line.append("[").append(std::to_string(co->index)).append("]");  // see remember_internal()
      if (o.has_correlation_id) line += " correlation_id=" + o.correlation_id;
      if (co && co->contact_id.kind == field_kind::string) line += " contact_id=" + mask_phone(co->contact_id.text);
      line += " reasons=" + emit::reasons_header(o.reasons);
      _st.remember_rejection(std::move(line));
    }
  }
}

emit::out_message output_builder::replacement(std::string_view correlation_id, long long index,
                                              const input_record& in) const {
  emit::out_message r = emit::internal_error_without_record(correlation_id, source_of(in), index, _info, now_ms(),
                                                            "the output is larger than the topic allows");
  r.replaced = true;
  _st.contacts_rejected.fetch_add(1, std::memory_order_relaxed);
  _st.internal_errors.fetch_add(1, std::memory_order_relaxed);
  _st.count_reason(reason_code::internal_server_error, detail::processing_failed);
  remember_internal(r, in);
  return r;
}

}  // namespace cg::pipeline
