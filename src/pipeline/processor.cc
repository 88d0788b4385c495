#include "pipeline/processor.h"


#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <thread>
#include <vector>

#include "pipeline/kafka.h"
#include "pipeline/log.h"
#include "pipeline/worker_pool.h"

namespace cg::pipeline {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::string_view h_replacement = "contactgate.replacement";

// The message's timestamp in ms since the epoch, or -1 when it has none.
std::int64_t timestamp_ms(const rd_kafka_message_t& m) noexcept {
  rd_kafka_timestamp_type_t tt;
  const std::int64_t ts = rd_kafka_message_timestamp(&m, &tt);
  return tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
}

struct partition_state;

// One input message on its way through the pipeline. Created and destroyed on the main
// thread (or by the delivery callback for orphans, also on the main thread); a worker
// writes `outputs` and then publishes them with `ready`.
struct job {
  rd_kafka_message_t* msg{nullptr};
  partition_state* part{nullptr};
  std::int64_t offset{-1};
  std::vector<emit::out_message> outputs;
  std::vector<rd_kafka_headers_t*> headers;  // one per output, built by the worker; owned until produced
  std::atomic<bool> ready{false};
  int pending{0};  // outputs produced but not yet acknowledged
  bool emitted{false};
  bool failed{false};
  bool orphan{false};  // its partition was released while deliveries were pending
  ~job() {
    for (rd_kafka_headers_t* h : headers) {
      if (h) rd_kafka_headers_destroy(h);
    }
    if (msg) rd_kafka_message_destroy(msg);
  }
};

struct partition_state {
  std::int32_t partition{-1};
  std::deque<job*> inflight;  // consume order
  std::size_t emitted{0};     // jobs at the front that have been produced
  std::int64_t next_commit{-1};
  std::int64_t committed{-1};
  std::int64_t resume_from{-1};  // exactly_once: after a rewind, older messages are stale
  std::int64_t stop_at{-1};      // exactly_once: an output of this offset was refused; never pass it
  bool stuck{false};
};

}  // namespace

struct processor::impl {
  impl(const config::settings& s, std::string bootstrap_, const validate::rule_set& rules_,
       const emit::validator_info& info_, stats& st_)
      : cfg(s), bootstrap(std::move(bootstrap_)), rules(rules_), info(info_), st(st_), pool(s.max_in_flight + 2048) {}

  const config::settings& cfg;
  std::string bootstrap;
  const validate::rule_set& rules;
  const emit::validator_info& info;
  stats& st;

  rk_ptr producer, consumer;
  rd_kafka_topic_t* accepted_topic{nullptr};
  rd_kafka_topic_t* rejected_topic{nullptr};

  worker_pool<job*> pool;

  std::map<std::int32_t, partition_state> parts;
  std::size_t in_flight{0};
  std::string fatal;
  int fatal_rc{1};  // exit code of `fatal`: exit_auth when retrying cannot fix it (processor.h)
  // Fenced (the consumer as a static member, FENCED_INSTANCE_ID, or the transactional
  // producer): run() returns processor::fenced so the caller can start again with new clients.
  std::atomic<bool> fenced{false};
  clock_type::time_point last_commit = clock_type::now();
  clock_type::time_point last_transport_log{};
  clock_type::time_point last_snapshot{};
  // exactly_once
  const bool eos = cfg.processing_guarantee == config::guarantee::exactly_once;
  bool in_txn{false};
  int abort_streak{0};
  std::string refused;  // an output of the open transaction that produce() refused: never commit it
  std::int32_t refused_partition{-1};
  std::int64_t refused_offset{-1};
  clock_type::time_point last_txn_commit = clock_type::now();

  // ---- callbacks (all invoked on the main thread, inside poll/consume calls) ----

  // librdkafka calls these from C, where an exception must never arrive. Whatever one
  // throws (std::bad_alloc from string building or map insertion) stops the process with
  // exit 1 instead, committing nothing more.
  void callback_failed(const char* which) noexcept {
    try {
      if (fatal.empty()) fatal = std::string("an exception in the librdkafka ") + which + " callback";
    } catch (...) {
      fatal = "callback threw";  // short enough for the small-string buffer: no allocation
    }
  }
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) noexcept {
    try {
      on_delivery_unguarded(rk, m, opaque);
    } catch (...) {
      static_cast<impl*>(opaque)->callback_failed("delivery report");
    }
  }
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept {
    try {
      on_error_unguarded(rk, err, reason, opaque);
    } catch (...) {
      static_cast<impl*>(opaque)->callback_failed("error");
    }
  }
  // An asynchronous offset commit that failed (the coordinator moving, a rebalance in
  // progress) must be sent again: commit() recorded it as done when it was queued, and a
  // partition with no new input would otherwise keep its old committed offset for good.
  // Allocates nothing, throws nothing.
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) noexcept {
    auto* self = static_cast<impl*>(opaque);
    if (offsets == nullptr) return;
    for (int i = 0; i < offsets->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = offsets->elems[i];
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && e.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      const auto it = self->parts.find(e.partition);
      if (it != self->parts.end() && it->second.committed == e.offset) it->second.committed = e.offset - 1;
    }
  }
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                           void* opaque) noexcept {
    try {
      on_rebalance_unguarded(rk, err, list, opaque);
    } catch (...) {
      static_cast<impl*>(opaque)->callback_failed("rebalance");
    }
  }

  static void on_delivery_unguarded(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    auto* j = static_cast<job*>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && j->msg && !j->orphan) {
      // The topic refused the output as too large: send a small INTERNAL_SERVER_ERROR
      // rejection in its place (unless that one fails too).
      std::string cid, index;
      rd_kafka_headers_t* hs = nullptr;
      bool was_replacement = false;
      if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const void* v = nullptr;
        size_t n = 0;
        if (rd_kafka_header_get_last(hs, emit::h_correlation_id.data(), &v, &n) == 0 && v) cid.assign(static_cast<const char*>(v), n);
        if (rd_kafka_header_get_last(hs, emit::h_source_index.data(), &v, &n) == 0 && v) index.assign(static_cast<const char*>(v), n);
        was_replacement = rd_kafka_header_get_last(hs, h_replacement.data(), &v, &n) == 0;
      }
      if (!was_replacement) {
        self->st.contacts_accepted.fetch_sub(m->rkt == self->accepted_topic ? 1 : 0, std::memory_order_relaxed);
        if (m->rkt == self->rejected_topic) self->st.contacts_rejected.fetch_sub(1, std::memory_order_relaxed);
        emit::out_message r = self->replacement(cid, parse_int_or(index, -1), *j->msg);
        r.headers.push_back({h_replacement, "1"});
        log(level::error, "the topic refused an output of input partition " + std::to_string(j->msg->partition) +
                              " offset " + std::to_string(j->offset) + " as too large; rejected as INTERNAL_SERVER_ERROR");
        rd_kafka_headers_t* rh = headers_of(r);
        const rd_kafka_resp_err_t e = rd_kafka_producev(
            self->producer.get(), RD_KAFKA_V_RKT(self->rejected_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(r.value.data(), r.value.size()),
            RD_KAFKA_V_KEY(r.has_key ? r.key.data() : nullptr, r.has_key ? r.key.size() : 0), RD_KAFKA_V_HEADERS(rh),
            RD_KAFKA_V_OPAQUE(j), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
          return;  // the replacement's delivery report settles this output
        }
        rd_kafka_headers_destroy(rh);
      }
    }
    if (m->err) {
      j->failed = true;
      self->st.delivery_errors.fetch_add(1, std::memory_order_relaxed);
      log(level::error, std::string("delivery failed for the output of input partition ") +
                            std::to_string(j->part ? j->part->partition : -1) + " offset " + std::to_string(j->offset) +
                            ": " + rd_kafka_err2str(m->err));
    } else {
      self->st.outputs_delivered.fetch_add(1, std::memory_order_relaxed);
    }
    if (--j->pending == 0) {
      if (!j->failed && j->msg) {
        const std::int64_t ts = timestamp_ms(*j->msg);
        if (ts > 0) {
          self->st.end_to_end_seconds.observe(static_cast<double>(std::max<std::int64_t>(0, now_ms() - ts)) / 1000.0);
        }
      }
      if (j->orphan) {
        delete j;
        --self->in_flight;
      }
    }
  }

  // The message for librdkafka's fatal error on `rk`, with what to do about it.
  std::string explain_fatal(rd_kafka_t* rk) {
    char buf[512];
    const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, buf, sizeof buf);
    std::string what = std::string("fatal Kafka error: ") + buf;
    if (cause == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) {
      fenced = true;
      what += " (another consumer joined group " + cfg.group_id + " with this instance's group.instance.id " +
              cfg.group_instance_id +
              ": every running instance needs its own; two instances of one group on one host must set different "
              "kafka.group_instance_id values)";
    } else if (eos && (cause == RD_KAFKA_RESP_ERR__FENCED || cause == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                       cause == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)) {
      fenced = true;
      what += " (another instance started with this instance's transactional.id " + cfg.transactional_id +
              ": every running instance needs its own; two instances of one group on one host must set different "
              "processing.transactional_id and kafka.group_instance_id values)";
    }
    return what;
  }

  static void on_error_unguarded(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    const auto e = static_cast<rd_kafka_resp_err_t>(err);
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
      self->fatal = self->explain_fatal(rk);
      return;
    }
    if (is_fatal(e)) {
      self->fatal_rc = processor::exit_auth;
      self->fatal = std::string("Kafka error that retrying cannot fix: ") + rd_kafka_err2name(e) + ": " + reason +
                    " (check kafka.common security settings and ACLs)";
      return;
    }
    const auto now = clock_type::now();
    if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
        e == RD_KAFKA_RESP_ERR__RESOLVE) {
      if (now - self->last_transport_log < std::chrono::seconds(10)) return;
      self->last_transport_log = now;
      log(level::warn, "cannot reach Kafka at " + self->bootstrap + " (" + reason + "); retrying");
      return;
    }
    log(level::warn, std::string("Kafka: ") + rd_kafka_err2name(e) + ": " + reason);
  }

  static void on_rebalance_unguarded(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                                     void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    self->st.rebalances.fetch_add(1, std::memory_order_relaxed);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::string names;
      for (int i = 0; i < list->cnt; ++i) {
        auto& p = self->parts[list->elems[i].partition];
        p = partition_state{};
        p.partition = list->elems[i].partition;
        names += (names.empty() ? "" : ",") + std::to_string(p.partition);
      }
      log(level::info, "assigned partitions [" + names + "] of " + self->cfg.input_topic);
      self->st.joined.store(true);
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, list)) {
          log(level::error, std::string("incremental assign failed: ") + rd_kafka_error_string(e));
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, list);
      }
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      std::string names;
      for (int i = 0; i < list->cnt; ++i) names += (names.empty() ? "" : ",") + std::to_string(list->elems[i].partition);
      log(level::info, "revoking partitions [" + names + "] of " + self->cfg.input_topic +
                           (rd_kafka_assignment_lost(rk) ? " (assignment lost)" : ""));
      self->release(list);
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list)) {
          log(level::error, std::string("incremental unassign failed: ") + rd_kafka_error_string(e));
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, nullptr);
      }
    } else {
      log(level::error, std::string("rebalance error: ") + rd_kafka_err2str(err));
      self->release(list);
      rd_kafka_assign(rk, nullptr);
    }
  }

  // ---- worker side ----

  // testing.fault_rate: a deterministic share of input messages (by partition and offset)
  // fail to process; "transient" faults fail only the first attempt.
  bool inject_fault(const rd_kafka_message_t* m, int attempt) const noexcept {
    if (cfg.fault_rate <= 0) return false;
    if (cfg.fault_mode == "transient" && attempt > 0) return false;
    std::uint64_t h = static_cast<std::uint64_t>(m->offset) * 0x9E3779B97F4A7C15ull ^
                      static_cast<std::uint64_t>(m->partition) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<double>(h >> 11) / 9007199254740992.0 < cfg.fault_rate;
  }

  void remember_internal(const emit::out_message& o, const rd_kafka_message_t& m) {
    stats::internal_error e;
    e.ts_ms = now_ms();
    std::string index;
    for (const auto& h : o.headers) {
      if (h.name == emit::h_correlation_id) e.correlation_id = h.value;
      if (h.name == emit::h_source_index) index = h.value;
    }
    e.source = cfg.input_topic + "/" + std::to_string(m.partition) + "@" + std::to_string(m.offset) +
               (index.empty() ? "" : "[" + index + "]");
    st.remember_internal_error(std::move(e));
  }

  // Per worker thread: a validator and scratch space, then one call per job.
  struct worker {
    impl& self;
    validate::payload_validator validator;
    payload_outcome outcome{};
    std::uint64_t rejections{0};
    void operator()(job* j) { self.process(*this, j); }
  };

  void process(worker& w, job* j) {
    validate::payload_validator& validator = w.validator;
    payload_outcome& outcome = w.outcome;
    std::uint64_t& rejections = w.rejections;
    const bool passthrough = cfg.mode == "passthrough";
    {
      const rd_kafka_message_t* m = j->msg;
      const std::string_view payload(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
      if (passthrough) {  // benchmark ceiling: the same pipeline without validation
        emit::out_message o;
        o.value = std::string(payload);
        o.has_key = m->key != nullptr;
        if (o.has_key) o.key = std::string(static_cast<const char*>(m->key), m->key_len);
        j->outputs.push_back(std::move(o));
        j->headers.push_back(headers_of(j->outputs.back()));
        j->ready.store(true, std::memory_order_release);
        return;
      }
      const auto t0 = clock_type::now();
      const emit::source_info src = source_of(*m);
      // A failure of contactgate itself is retried with backoff, then the contacts are
      // rejected with INTERNAL_SERVER_ERROR (retryable). Never dropped, never blocking.
      bool done = false, parsed = false;
      const char* failure = "processing failed";
      for (int attempt = 0; attempt <= cfg.internal_retries && !done; ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 << attempt, 100)));
        j->outputs.clear();
        parsed = false;
        try {
          validator.validate(payload, outcome);
          parsed = true;
          if (inject_fault(m, attempt)) {
            failure = "injected fault (testing.fault_rate)";
            continue;
          }
          emit::build_outputs(outcome, payload, src, info, now_ms(), j->outputs);
          done = true;
        } catch (const std::exception&) {
          failure = "processing failed with an exception";
        }
      }
      if (!done) {
        j->outputs.clear();
        emit::build_internal_error_outputs(parsed ? &outcome : nullptr, payload, src, info, now_ms(), failure,
                                           j->outputs);
        log(level::error, std::string("input partition ") + std::to_string(m->partition) + " offset " +
                              std::to_string(m->offset) + ": " + failure + " after " +
                              std::to_string(cfg.internal_retries + 1) + " attempts; rejected as INTERNAL_SERVER_ERROR");
      }
      const payload_outcome* oc = done || parsed ? &outcome : nullptr;
      std::size_t k = 0;  // outputs follow the contacts in order (or one malformed output)
      for (const auto& o : j->outputs) {
        const contact_outcome* co = !oc || oc->malformed || k >= oc->contacts.size() ? nullptr : &oc->contacts[k];
        ++k;
        if (o.dest == emit::destination::accepted) {
          st.contacts_accepted.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        (o.malformed ? st.payloads_malformed : st.contacts_rejected).fetch_add(1, std::memory_order_relaxed);
        for (const reason& r : o.reasons) {
          st.count_reason(r.code, r.what);
          if (r.code == reason_code::internal_server_error) {
            st.internal_errors.fetch_add(1, std::memory_order_relaxed);
            remember_internal(o, *m);
          }
        }
        if ((rejections++ & 63) == 0) {  // a sample for people to look at; phone numbers masked
          std::string line = emit::iso8601_utc(now_ms()) + " p" + std::to_string(m->partition) + "@" +
                             std::to_string(m->offset);
          if (co) line += "[" + std::to_string(co->index) + "]";
          for (const auto& h : o.headers) {
            if (h.name == emit::h_correlation_id) line += " correlation_id=" + h.value;
          }
          if (co && co->contact_id.kind == field_kind::string) line += " contact_id=" + emit::mask_phone(co->contact_id.text);
          for (const auto& h : o.headers) {
            if (h.name == emit::h_error_reasons) line += " reasons=" + h.value;
          }
          st.remember_rejection(std::move(line));
        }
      }
      // librdkafka header lists are built here, off the consumer/producer thread. An input
      // sent again by `contactgate redrive` keeps its contactgate.redrive.* headers on every
      // output, so a contact rejected again says how often it was redriven (the loop guard).
      rd_kafka_headers_t* in_headers = nullptr;
      if (rd_kafka_message_headers(m, &in_headers) != RD_KAFKA_RESP_ERR_NO_ERROR) in_headers = nullptr;
      j->headers.reserve(j->outputs.size());
      for (const auto& o : j->outputs) {
        rd_kafka_headers_t* hs = headers_of(o);
        if (in_headers) copy_redrive_headers(in_headers, hs);
        j->headers.push_back(hs);
      }
      const auto busy = clock_type::now() - t0;
      st.validation_seconds.observe(std::chrono::duration<double>(busy).count());
      st.worker_busy_ns.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(busy).count()),
                                  std::memory_order_relaxed);
      j->ready.store(true, std::memory_order_release);
    }
  }

  static void copy_redrive_headers(const rd_kafka_headers_t* in, rd_kafka_headers_t* out) {
    static constexpr std::string_view prefix = "contactgate.redrive.";
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(in, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      if (std::string_view(name).substr(0, prefix.size()) == prefix)
        rd_kafka_header_add(out, name, -1, value, static_cast<ssize_t>(size));
    }
  }

  // ---- main thread ----

  static rd_kafka_headers_t* headers_of(const emit::out_message& o) {
    rd_kafka_headers_t* hs = rd_kafka_headers_new(o.headers.size());
    for (const auto& h : o.headers) {
      rd_kafka_header_add(hs, h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                          static_cast<ssize_t>(h.value.size()));
    }
    return hs;
  }

  // An INTERNAL_SERVER_ERROR rejection standing in for an output Kafka refused as too large.
  emit::out_message replacement_for(const emit::out_message& o, const rd_kafka_message_t& in) {
    std::string cid, index;
    for (const auto& h : o.headers) {
      if (h.name == emit::h_correlation_id) cid = h.value;
      if (h.name == emit::h_source_index) index = h.value;
    }
    return replacement(cid, parse_int_or(index, -1), in);
  }

  // Where an output came from (views into `m`, which outlives the output's construction).
  emit::source_info source_of(const rd_kafka_message_t& m) const noexcept {
    emit::source_info src;
    src.topic = cfg.input_topic;
    src.partition = m.partition;
    src.offset = m.offset;
    src.timestamp_ms = timestamp_ms(m);
    src.has_key = m.key != nullptr;
    if (src.has_key) src.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
    return src;
  }

  emit::out_message replacement(const std::string& cid, long long index, const rd_kafka_message_t& in) {
    const emit::source_info src = source_of(in);
    emit::out_message r = emit::internal_error_without_record(cid, src, index, info, now_ms(),
                                                              "the output is larger than the topic allows");
    r.replaced = true;
    st.contacts_rejected.fetch_add(1, std::memory_order_relaxed);
    st.internal_errors.fetch_add(1, std::memory_order_relaxed);
    st.count_reason(reason_code::internal_server_error, detail::processing_failed);
    remember_internal(r, in);
    return r;
  }

  void produce_job(job* j) {
    j->pending = static_cast<int>(j->outputs.size());
    j->emitted = true;
    for (std::size_t oi = 0; oi < j->outputs.size(); ++oi) {
      emit::out_message& o = j->outputs[oi];
      rd_kafka_headers_t* hs = j->headers[oi];
      j->headers[oi] = nullptr;  // librdkafka owns it once produced; destroyed below otherwise
      rd_kafka_topic_t* topic = o.dest == emit::destination::accepted ? accepted_topic : rejected_topic;
      while (true) {
        const rd_kafka_resp_err_t e = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(o.value.data(), o.value.size()),
            RD_KAFKA_V_KEY(o.has_key ? o.key.data() : nullptr, o.has_key ? o.key.size() : 0),
            RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_OPAQUE(j), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(producer.get(), 10);
          continue;
        }
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && !o.replaced) {
          // Larger than the producer allows: replace it with a small INTERNAL_SERVER_ERROR
          // rejection (retryable) that leaves the record out.
          rd_kafka_headers_destroy(hs);
          log(level::error, "the output of input partition " + std::to_string(j->part->partition) + " offset " +
                                std::to_string(j->offset) + " is " + std::to_string(o.value.size()) +
                                " bytes, more than the producer allows; rejected as INTERNAL_SERVER_ERROR");
          (o.dest == emit::destination::accepted ? st.contacts_accepted : st.contacts_rejected)
              .fetch_sub(1, std::memory_order_relaxed);
          o = replacement_for(o, *j->msg);
          hs = headers_of(o);
          topic = rejected_topic;
          continue;
        }
        rd_kafka_headers_destroy(hs);
        j->failed = true;
        --j->pending;
        st.delivery_errors.fetch_add(1, std::memory_order_relaxed);
        log(level::error, "cannot produce the output of input partition " + std::to_string(j->part->partition) +
                              " offset " + std::to_string(j->offset) + " (" + std::to_string(o.value.size()) +
                              " bytes): " + rd_kafka_err2str(e));
        if (e == RD_KAFKA_RESP_ERR__FATAL) {  // e.g. fenced: not this output's fault
          if (fatal.empty()) fatal = explain_fatal(producer.get());
        } else if (eos && refused.empty()) {
          // The open transaction now holds this record's input offset without its output:
          // it must not commit (commit_transaction() aborts it instead).
          refused = "input partition " + std::to_string(j->part->partition) + " offset " + std::to_string(j->offset) +
                    ": " + rd_kafka_err2str(e);
          refused_partition = j->part->partition;
          refused_offset = j->offset;
        }
        break;
      }
    }
    j->outputs.clear();
    j->headers.clear();
  }

  void emit_ready(partition_state& p) {
    while (p.emitted < p.inflight.size()) {
      job* j = p.inflight[p.emitted];
      if (!j->ready.load(std::memory_order_acquire)) break;
      if (eos && !in_txn) {
        if (!begin_transaction()) return;
      }
      produce_job(j);
      ++p.emitted;
    }
  }

  void retire(partition_state& p) {
    while (!p.inflight.empty()) {
      job* j = p.inflight.front();
      if (!j->emitted || j->pending > 0) break;
      if (j->failed) {
        if (!p.stuck) {
          p.stuck = true;
          log(level::error, "partition " + std::to_string(p.partition) + " of " + cfg.input_topic +
                                " is stopped at offset " + std::to_string(j->offset) +
                                ": its output could not be delivered; nothing past it will be committed. Fix the "
                                "cause (see the delivery error above) and restart contactgate.");
          pause_one(p.partition);
        }
        break;
      }
      p.next_commit = j->offset + 1;
      p.inflight.pop_front();
      --p.emitted;
      delete j;
      --in_flight;
      st.messages_committed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void pause_one(std::int32_t partition) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), partition);
    rd_kafka_pause_partitions(consumer.get(), l);
    rd_kafka_topic_partition_list_destroy(l);
  }

  // Commits next_commit of the given partitions (all when null) that moved.
  void commit(bool sync, const rd_kafka_topic_partition_list_t* only = nullptr) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto& [id, p] : parts) {
      if (only) {
        bool listed = false;
        for (int i = 0; i < only->cnt; ++i) listed |= only->elems[i].partition == id;
        if (!listed) continue;
      }
      if (p.next_commit > p.committed) {
        rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), id)->offset = p.next_commit;
      }
    }
    if (l->cnt > 0) {
      const rd_kafka_resp_err_t e = rd_kafka_commit(consumer.get(), l, sync ? 0 : 1);
      if (e) {
        log(level::warn, std::string("offset commit failed: ") + rd_kafka_err2str(e));
      } else {
        for (int i = 0; i < l->cnt; ++i) parts[l->elems[i].partition].committed = l->elems[i].offset;
        st.commits.fetch_add(1, std::memory_order_relaxed);
      }
    }
    rd_kafka_topic_partition_list_destroy(l);
    last_commit = clock_type::now();
  }

  // Back-pressure: at pipeline.max_in_flight the main loop stops taking messages from
  // librdkafka's local queue, which is bounded by queued.max.messages.kbytes, so fetching
  // stops by itself and memory stays bounded. Partitions are not paused for this: measured
  // with librdkafka 2.0.2, pausing discards the fetch in flight and resuming waits ~0.7 s
  // for the fetcher's next wake-up, which capped throughput near 20k messages/s.
  [[nodiscard]] std::size_t room() const noexcept {
    return in_flight >= cfg.max_in_flight ? 0 : cfg.max_in_flight - in_flight;
  }

  void count_stopped_partitions() {
    std::uint64_t n = 0;
    for (const auto& [id, p] : parts) n += p.stuck;
    st.paused_partitions.store(n, std::memory_order_relaxed);
  }

  void pump(bool allow_commit = true) {
    for (auto& [id, p] : parts) emit_ready(p);
    rd_kafka_poll(producer.get(), 0);
    if (eos) {
      if (allow_commit && in_txn && clock_type::now() - last_txn_commit >= cfg.transaction_interval) commit_transaction();
    } else {
      for (auto& [id, p] : parts) retire(p);
      if (allow_commit && clock_type::now() - last_commit >= cfg.commit_interval) commit(false);
    }
    count_stopped_partitions();
    st.in_flight.store(in_flight, std::memory_order_relaxed);
    st.queue_depth.store(pool.depth(), std::memory_order_relaxed);
    const auto now = clock_type::now();
    if (now - last_snapshot >= std::chrono::milliseconds(500)) {
      last_snapshot = now;
      publish_snapshot();
    }
  }

  void publish_snapshot() {
    std::vector<partition_snapshot> v;
    v.reserve(parts.size());
    for (const auto& [id, p] : parts) {
      partition_snapshot s;
      s.partition = id;
      s.in_flight = p.inflight.size();
      if (!p.inflight.empty()) s.oldest_in_flight_ts_ms = timestamp_ms(*p.inflight.front()->msg);
      s.stuck = p.stuck;
      v.push_back(s);
    }
    st.publish_partitions(std::move(v));
  }

  // ---- exactly_once: outputs and consumed offsets commit atomically ----

  bool begin_transaction() {
    if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer.get())) {
      fatal = std::string("cannot begin a transaction: ") + rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
      return false;
    }
    in_txn = true;
    return true;
  }

  // Commits the open transaction: every emitted output plus, per partition, the offset after
  // the last emitted message. On an abortable error the transaction is aborted and the
  // partitions rewound to their committed offsets (their messages are consumed again).
  bool commit_transaction() {
    last_txn_commit = clock_type::now();
    if (!in_txn) return true;
    if (!refused.empty()) {
      // Committing would store the refused record's input offset with no outcome written.
      // Abort, rewind, and stop that partition just before the record (as at_least_once
      // does): what precedes it commits in the next transactions, other partitions go on.
      const std::string what = std::move(refused);
      const std::int32_t partition = refused_partition;
      const std::int64_t offset = refused_offset;
      log(level::error, "transaction aborted, re-consuming from the last commit: an output was refused (" + what + ")");
      // librdkafka 2.0.2 sends the abort without waiting for the transaction's pending
      // AddPartitionsToTxn; the broker then answers INVALID_TXN_STATE, a fatal error. Let
      // the produced outputs reach the broker first (they stay uncommitted).
      rd_kafka_flush(producer.get(), 10000);
      abort_and_rewind();
      if (auto it = parts.find(partition); it != parts.end()) {
        it->second.stop_at = it->second.stop_at < 0 ? offset : std::min(it->second.stop_at, offset);
        log(level::error, "partition " + std::to_string(partition) + " of " + cfg.input_topic +
                              " is stopped at offset " + std::to_string(offset) +
                              ": its output was refused; nothing past it will be committed. Fix the cause (see the "
                              "error above) and restart contactgate.");
      }
      if (++abort_streak >= 5 && fatal.empty()) {
        fatal = "5 transactions in a row could not commit; an output was refused (" + what +
                "): nothing past it is committed. Fix the cause (e.g. kafka.producer.message.max.bytes below the "
                "output's size) and restart contactgate.";
      }
      return false;
    }
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto& [id, p] : parts) {
      if (p.emitted > 0) rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), id)->offset = p.inflight[p.emitted - 1]->offset + 1;
    }
    rd_kafka_error_t* err = nullptr;
    // Offsets first (retried while retriable), then the commit (likewise); a commit without
    // its offsets would duplicate on restart, so a failed send aborts the transaction.
    for (int attempt = 0; l->cnt > 0 && attempt < 5; ++attempt) {
      if (err) rd_kafka_error_destroy(err);
      rd_kafka_consumer_group_metadata_t* cgmd = rd_kafka_consumer_group_metadata(consumer.get());
      err = rd_kafka_send_offsets_to_transaction(producer.get(), l, cgmd, 30000);
      rd_kafka_consumer_group_metadata_destroy(cgmd);
      if (!err || !rd_kafka_error_is_retriable(err)) break;
    }
    for (int attempt = 0; !err && attempt < 5; ++attempt) {
      err = rd_kafka_commit_transaction(producer.get(), 60000);
      if (!err || !rd_kafka_error_is_retriable(err)) break;
      if (attempt < 4) {
        rd_kafka_error_destroy(err);
        err = nullptr;
      }
    }
    if (!err) {
      in_txn = false;
      abort_streak = 0;
      std::uint64_t n = 0;
      for (int i = 0; i < l->cnt; ++i) {
        partition_state& p = parts[l->elems[i].partition];
        for (std::size_t k = 0; k < p.emitted; ++k) {
          job* j = p.inflight.front();
          p.inflight.pop_front();
          free_job(j);
          ++n;
        }
        p.emitted = 0;
        p.committed = p.next_commit = l->elems[i].offset;
      }
      rd_kafka_topic_partition_list_destroy(l);
      st.messages_committed.fetch_add(n, std::memory_order_relaxed);
      st.commits.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    rd_kafka_topic_partition_list_destroy(l);
    const std::string what = rd_kafka_error_string(err);
    const bool is_fatal_err = rd_kafka_error_is_fatal(err);
    const rd_kafka_resp_err_t code = rd_kafka_error_code(err);
    rd_kafka_error_destroy(err);
    if (is_fatal_err) {
      // Fenced: by another instance with this transactional.id, or by the broker aborting a
      // transaction that outlived transaction.timeout.ms while it was out of reach.
      fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
               code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
      fatal = "fatal transaction error (another instance with transactional.id " + cfg.transactional_id +
              " may have fenced this one: two instances of one group on one host must set different "
              "processing.transactional_id and kafka.group_instance_id values): " +
              what;
      return false;
    }
    log(level::warn, "transaction aborted, re-consuming from the last commit: " + what);
    abort_and_rewind();
    if (++abort_streak >= 5) {
      fatal = "5 transactions in a row could not commit; last error: " + what +
              " (an output larger than the topic's max.message.bytes aborts every transaction: keep "
              "kafka.producer.message.max.bytes and batch.size at or below it)";
    }
    return false;
  }

  void free_job(job* j) {
    if (j->pending > 0) {
      j->orphan = true;  // its delivery report frees it
    } else {
      delete j;
      --in_flight;
    }
  }

  void abort_and_rewind() {
    for (int attempt = 0;; ++attempt) {
      rd_kafka_error_t* e = rd_kafka_abort_transaction(producer.get(), 60000);
      if (e == nullptr) break;
      // A retriable failure (e.g. the coordinator still busy with this transaction's
      // AddPartitionsToTxn) is retried, as librdkafka documents.
      if (rd_kafka_error_is_retriable(e) && attempt < 10) {
        log(level::warn, std::string("aborting the transaction, retrying: ") + rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (fatal.empty()) {
        fatal = rd_kafka_error_is_fatal(e) ? "cannot abort the transaction: " + explain_fatal(producer.get())
                                           : std::string("cannot abort the transaction: ") + rd_kafka_error_string(e);
      }
      rd_kafka_error_destroy(e);
      return;
    }
    in_txn = false;
    refused.clear();  // it was in the aborted transaction
    refused_partition = -1;
    refused_offset = -1;
    rd_kafka_poll(producer.get(), 0);  // purged messages' delivery reports
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (auto& [id, p] : parts) rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), id);
    if (rd_kafka_resp_err_t ce = rd_kafka_committed(consumer.get(), l, 30000)) {
      fatal = std::string("cannot read committed offsets to rewind: ") + rd_kafka_err2str(ce);
      rd_kafka_topic_partition_list_destroy(l);
      return;
    }
    for (int i = 0; i < l->cnt; ++i) {
      partition_state& p = parts[l->elems[i].partition];
      for (job* j : p.inflight) {
        while (!j->ready.load(std::memory_order_acquire)) std::this_thread::yield();
        free_job(j);
      }
      p.inflight.clear();
      p.emitted = 0;
      if (l->elems[i].offset < 0) l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;  // never committed
      p.resume_from = l->elems[i].offset >= 0 ? l->elems[i].offset : -1;
    }
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer.get(), l, 30000)) {
      fatal = std::string("cannot rewind the input: ") + rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
  }

  bool pending_work() const {
    for (const auto& [id, p] : parts) {
      if (p.emitted < p.inflight.size()) return true;
    }
    return false;
  }

  // Finishes (within the shutdown timeout) the work of the listed partitions, commits
  // what is safe, and abandons the rest: the next owner re-consumes it.
  void release(const rd_kafka_topic_partition_list_t* list) {
    if (eos) {
      // Commit what was emitted (all partitions), drop the rest of the revoked ones: not
      // committed, so their next owner consumes them again.
      if (!rd_kafka_assignment_lost(consumer.get())) commit_transaction();
      else if (in_txn) abort_and_rewind();
      for (int i = 0; i < list->cnt; ++i) {
        auto it = parts.find(list->elems[i].partition);
        if (it == parts.end()) continue;
        for (job* j : it->second.inflight) {
          while (!j->ready.load(std::memory_order_acquire)) std::this_thread::yield();
          j->part = nullptr;
          free_job(j);
        }
        parts.erase(it);
      }
      return;
    }
    const auto deadline = clock_type::now() + cfg.shutdown_timeout;
    auto busy = [&] {
      for (int i = 0; i < list->cnt; ++i) {
        auto it = parts.find(list->elems[i].partition);
        if (it != parts.end() && !it->second.stuck && !it->second.inflight.empty()) return true;
      }
      return false;
    };
    while (busy() && clock_type::now() < deadline) {
      pump(false);
      rd_kafka_poll(producer.get(), 2);
    }
    commit(true, list);
    std::size_t abandoned = 0;
    for (int i = 0; i < list->cnt; ++i) {
      auto it = parts.find(list->elems[i].partition);
      if (it == parts.end()) continue;
      for (job* j : it->second.inflight) {
        while (!j->ready.load(std::memory_order_acquire)) std::this_thread::yield();  // a worker holds it
        ++abandoned;
        j->part = nullptr;
        if (j->pending > 0) {
          j->orphan = true;  // the delivery callback frees it
        } else {
          delete j;
          --in_flight;
        }
      }
      parts.erase(it);
    }
    if (abandoned > 0) {
      log(level::warn, std::to_string(abandoned) +
                           " in-flight messages of released partitions were not committed; their next owner "
                           "processes them again");
    }
  }

  bool init_transactions(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      rd_kafka_error_t* e = rd_kafka_init_transactions(producer.get(), 30000);
      if (!e) {
        log(level::info, "exactly_once: transactions ready (transactional.id " + cfg.transactional_id + ")");
        return true;
      }
      const std::string what = rd_kafka_error_string(e);
      const bool retriable = rd_kafka_error_is_retriable(e) || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT;
      rd_kafka_error_destroy(e);
      if (!retriable) {
        fatal = "cannot initialise transactions (exactly_once needs a broker with transaction support): " + what;
        return false;
      }
      log(level::warn, "waiting to initialise transactions: " + what);
    }
    return false;
  }

  bool wait_for_topics(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      const rd_kafka_metadata_t* md = nullptr;
      const rd_kafka_resp_err_t e = rd_kafka_metadata(producer.get(), 1, nullptr, &md, 1000);
      // Error callbacks (authentication, TLS) are only served by a poll: without it a wrong
      // password would be retried forever instead of stopping with a clear message.
      rd_kafka_poll(producer.get(), 0);
      if (!fatal.empty()) {
        if (md) rd_kafka_metadata_destroy(md);
        return false;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log(level::warn, "waiting for Kafka at " + bootstrap + ": " + rd_kafka_err2str(e) + "; retrying");
        continue;
      }
      std::vector<std::string> missing;
      for (const std::string* t : {&cfg.input_topic, &cfg.accepted_topic, &cfg.rejected_topic}) {
        bool found = false;
        for (int i = 0; i < md->topic_cnt; ++i) found |= *t == md->topics[i].topic && md->topics[i].err == 0;
        if (!found) missing.push_back(*t);
      }
      rd_kafka_metadata_destroy(md);
      if (missing.empty()) return true;
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
      fatal = "topic(s) " + names + " do not exist on " + bootstrap +
              ": create them with 'contactgate topics create' (or set topics.* to existing topics)";
      return false;
    }
    return false;
  }

  void start_clients() {
    char err[512];
    rd_kafka_conf_t* pc = make_conf(cfg, bootstrap, client_kind::producer);
    if (eos && cfg.kafka_producer.count("transactional.id") == 0) {
      if (rd_kafka_conf_set(pc, "transactional.id", cfg.transactional_id.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(pc);
        throw kafka_error(std::string("transactional.id: ") + err);
      }
    }
    if (eos && cfg.kafka_producer.count("transaction.timeout.ms") == 0 &&
        cfg.kafka_common.count("transaction.timeout.ms") == 0) {
      // An instance that dies for good leaves its transaction open, and read_committed
      // consumers of the output partitions it wrote to (and the instance that takes over its
      // input partitions) wait until the broker aborts it: after transaction.timeout.ms
      // (librdkafka's default 60000) plus up to the broker's
      // transaction.abort.timed.out.transaction.cleanup.interval.ms (10000). Transactions
      // here last transaction_interval_ms (100 ms), so 10 s is ample (as Kafka Streams).
      if (rd_kafka_conf_set(pc, "transaction.timeout.ms", "10000", err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(pc);
        throw kafka_error(std::string("transaction.timeout.ms: ") + err);
      }
    }
    if (cfg.kafka_producer.count("allow.auto.create.topics") == 0 &&
        cfg.kafka_common.count("allow.auto.create.topics") == 0) {
      // A broker with auto.create.topics.enable (Kafka's default) creates any topic a
      // producer asks metadata for, with the broker's default partition count: missing
      // output topics must stay missing and be reported (wait_for_topics).
      if (rd_kafka_conf_set(pc, "allow.auto.create.topics", "false", err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(pc);
        throw kafka_error(std::string("allow.auto.create.topics: ") + err);
      }
    }
    rd_kafka_conf_set_opaque(pc, this);
    rd_kafka_conf_set_dr_msg_cb(pc, &impl::on_delivery);
    rd_kafka_conf_set_error_cb(pc, &impl::on_error);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    if (!p) throw kafka_error(std::string("cannot create the producer: ") + err);
    producer.reset(p);
    // The output topic handles are made once wait_for_topics() has seen the topics: a
    // handle makes librdkafka ask the brokers for the topic's metadata.

    rd_kafka_conf_t* cc = make_conf(cfg, bootstrap, client_kind::consumer);
    // Static membership (KIP-345): only the processor's own consumer joins the group with
    // the instance id (the lag probe, tail and support-bundle assign partitions by hand).
    if (!cfg.group_instance_id.empty() && cfg.kafka_consumer.count("group.instance.id") == 0) {
      if (rd_kafka_conf_set(cc, "group.instance.id", cfg.group_instance_id.c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(cc);
        throw kafka_error(std::string("group.instance.id: ") + err);
      }
    }
    rd_kafka_conf_set_opaque(cc, this);
    rd_kafka_conf_set_rebalance_cb(cc, &impl::on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(cc, &impl::on_commit);
    rd_kafka_conf_set_error_cb(cc, &impl::on_error);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    if (!c) throw kafka_error(std::string("cannot create the consumer: ") + err);
    consumer.reset(c);
    rd_kafka_poll_set_consumer(c);
  }

  void handle_message(rd_kafka_message_t* m) {
    if (m->err) {
      const rd_kafka_resp_err_t e = m->err;
      const std::string what = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        fatal = "input topic " + cfg.input_topic + " does not exist: " + what;
        return;
      }
      if (e == RD_KAFKA_RESP_ERR__FATAL) {
        fatal = explain_fatal(consumer.get());
        return;
      }
      if (is_fatal(e)) {
        fatal_rc = processor::exit_auth;
        fatal = std::string("consumer: ") + rd_kafka_err2name(e) + ": " + what;
        return;
      }
      log(level::warn, std::string("consumer: ") + rd_kafka_err2name(e) + ": " + what);
      return;
    }
    auto it = parts.find(m->partition);
    if (it == parts.end()) {  // not (or no longer) ours
      rd_kafka_message_destroy(m);
      return;
    }
    if (m->offset < it->second.resume_from) {  // fetched before a rewind: will come again
      rd_kafka_message_destroy(m);
      return;
    }
    if (it->second.stop_at >= 0 && m->offset >= it->second.stop_at) {  // exactly_once: refused output
      rd_kafka_message_destroy(m);
      if (!it->second.stuck) {
        it->second.stuck = true;
        pause_one(it->second.partition);
      }
      return;
    }
    auto* j = new job;
    j->msg = m;
    j->part = &it->second;
    j->offset = m->offset;
    it->second.inflight.push_back(j);
    ++in_flight;
    st.messages_consumed.fetch_add(1, std::memory_order_relaxed);
    pool.submit(j);
  }

  int run(const std::atomic<bool>& stop) {
    try {
      start_clients();
    } catch (const std::exception& e) {
      log(level::error, e.what());
      return processor::exit_config;  // a property librdkafka refuses, an unreadable CA or key file
    }
    log(level::info, "connecting to Kafka at " + bootstrap);
    if (!wait_for_topics(stop)) {
      if (!fatal.empty()) {
        log(level::error, fatal);
        return fatal_rc;
      }
      return 0;  // stopped while waiting
    }
    accepted_topic = rd_kafka_topic_new(producer.get(), cfg.accepted_topic.c_str(), nullptr);
    rejected_topic = rd_kafka_topic_new(producer.get(), cfg.rejected_topic.c_str(), nullptr);
    if (eos && !init_transactions(stop)) {
      if (!fatal.empty()) {
        log(level::error, fatal);
        return fatal_rc;
      }
      return 0;
    }
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, cfg.input_topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t se = rd_kafka_subscribe(consumer.get(), sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (se) {
      log(level::error, std::string("cannot subscribe to ") + cfg.input_topic + ": " + rd_kafka_err2str(se));
      return 1;
    }
    log(level::info,
        "processing " + cfg.input_topic + " -> " + cfg.accepted_topic + " / " + cfg.rejected_topic + " with " +
            std::to_string(cfg.workers) + " workers, group " + cfg.group_id +
            (cfg.group_instance_id.empty() ? std::string() : " as static member " + cfg.group_instance_id) + ", " +
            (eos ? "exactly_once" : "at_least_once"));
    st.workers.store(cfg.workers);
    st.running.store(true);
    pool.start(cfg.workers, [this](unsigned) { return worker{*this, validate::payload_validator(rules, cfg.limits)}; });

    constexpr std::size_t batch_size = 1000;
    while (!stop.load(std::memory_order_relaxed) && fatal.empty()) {
      const std::size_t want = std::min(batch_size, room());
      if (want == 0) {  // saturated: let the workers and the producer catch up
        pump();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      // One message per rd_kafka_consumer_poll(): librdkafka 2.0.2's batch consume
      // (rd_kafka_consume_batch_queue) skips messages of kept partitions at cooperative
      // rebalances (found by tests/stress/chaos_test.py, reproduced without contactgate).
      const int timeout = pending_work() ? 1 : 50;
      std::size_t taken = 0;
      for (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), timeout); m != nullptr;
           m = taken < want ? rd_kafka_consumer_poll(consumer.get(), 0) : nullptr) {
        handle_message(m);
        ++taken;
        if (!fatal.empty()) break;
      }
      pump();
    }
    const bool failed = !fatal.empty();
    if (failed) log(level::error, fatal);
    shutdown(failed);
    if (failed && fenced.load()) return processor::fenced;
    return failed ? fatal_rc : 0;
  }

  void shutdown(bool failed) {
    const auto deadline = clock_type::now() + cfg.shutdown_timeout;
    if (!failed && eos) {
      log(level::info, "stopping: finishing " + std::to_string(in_flight) + " in-flight messages");
      while (pending_work() && clock_type::now() < deadline && fatal.empty()) {
        pump();  // transactions stay short (transaction.timeout.ms) while draining
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      commit_transaction();
    } else if (!failed) {
      log(level::info, "stopping: finishing " + std::to_string(in_flight) + " in-flight messages");
      auto busy = [&] {
        for (const auto& [id, p] : parts) {
          if (!p.stuck && !p.inflight.empty()) return true;
        }
        return false;
      };
      while (busy() && clock_type::now() < deadline) {
        pump(false);
        rd_kafka_poll(producer.get(), 2);
      }
      commit(true);
    }
    if (!failed) leave_group(deadline);
    rd_kafka_consumer_close(consumer.get());  // revokes (release) what is still assigned
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    rd_kafka_flush(producer.get(), static_cast<int>(std::max<long long>(left, 1000)));
    pool.stop();
    // Anything left was never committed and will be consumed again.
    for (auto& [id, p] : parts) {
      for (job* j : p.inflight) {
        if (j->pending == 0) delete j; else j->orphan = true;
      }
    }
    parts.clear();
    log(level::info, "stopped: committed " + std::to_string(st.messages_committed.load()) + " input messages");
  }

  // A static member (group.instance.id) sends no LeaveGroup when it closes (KIP-345), so
  // the group would keep its partitions idle until session.timeout.ms expires. Stopping on
  // SIGTERM is a departure: unsubscribe first, which revokes (release() commits) and, not
  // being a termination, does send LeaveGroup; then close. librdkafka resets the member id
  // when it sends the LeaveGroup, which is what this waits for. A crash (SIGKILL) sends
  // nothing, and the restarted instance takes its partitions back under the same id.
  void leave_group(clock_type::time_point deadline) {
    if (cfg.group_instance_id.empty()) return;  // a dynamic member leaves on close by itself
    if (const rd_kafka_resp_err_t e = rd_kafka_unsubscribe(consumer.get())) {
      log(level::warn, std::string("cannot leave the group: ") + rd_kafka_err2str(e));
      return;
    }
    // At least one second, even past the deadline: a missed leave costs the group
    // session.timeout.ms of idle partitions.
    const auto until = std::max(deadline, clock_type::now() + std::chrono::seconds(1));
    while (clock_type::now() < until && fatal.empty()) {
      // Messages still arriving belong to partitions being revoked: not processed, not
      // committed, so their next owner consumes them.
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 20)) {
        rd_kafka_message_destroy(m);
        continue;
      }
      char* id = rd_kafka_memberid(consumer.get());
      const bool left = id == nullptr || *id == '\0';
      if (id) rd_kafka_mem_free(consumer.get(), id);
      if (left && parts.empty()) {
        log(level::info, "left group " + cfg.group_id + " (static member " + cfg.group_instance_id + ")");
        return;
      }
    }
    log(level::warn, "could not confirm leaving group " + cfg.group_id +
                         "; the other instances take its partitions after session.timeout.ms");
  }

  ~impl() {
    if (accepted_topic) rd_kafka_topic_destroy(accepted_topic);
    if (rejected_topic) rd_kafka_topic_destroy(rejected_topic);
    consumer.reset();
    producer.reset();
  }
};

processor::processor(const config::settings& s, std::string bootstrap, const validate::rule_set& rules,
                     const emit::validator_info& info, stats& st)
    : _impl(std::make_unique<impl>(s, std::move(bootstrap), rules, info, st)) {}

processor::~processor() = default;

int processor::run(const std::atomic<bool>& stop) { return _impl->run(stop); }

}  // namespace cg::pipeline
