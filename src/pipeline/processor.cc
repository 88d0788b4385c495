#include "pipeline/processor.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "pipeline/job.h"
#include "pipeline/kafka.h"
#include "pipeline/lane_pool.h"
#include "pipeline/log.h"
#include "pipeline/offset_tracker.h"
#include "pipeline/output_builder.h"
#include "pipeline/rebalance.h"
#include "pipeline/transactions.h"
#include "pipeline/zombie_fence.h"

namespace cg::pipeline {

namespace {

using clock_type = std::chrono::steady_clock;

// What the main thread keeps per assigned input partition besides the offset tracker's
// bookkeeping: the jobs waiting to be produced in order, and the input timestamps of what is
// not yet committable (for the lag gauges).
struct partition_state {
  std::int32_t partition{-1};
  std::uint32_t epoch{0};   // changes at every assignment and rewind: older jobs are no longer tracked
  std::deque<job*> queued;  // consumed, not yet produced (consume order)
  std::deque<std::pair<std::int64_t, std::int64_t>> timestamps;  // (offset, input timestamp ms) not yet committable
  bool stuck{false};                                             // stopped at tracker.stuck_at(): reported and paused
  bool took_any{false};  // a message (or an error) of it arrived since its assignment: its fetcher runs
};

}  // namespace

// The processor's main thread: consumes, hands jobs to the workers, produces their outputs in
// input order per partition, commits (at_least_once: what the offset tracker says is safe;
// exactly_once: in transactions), and reacts to rebalances. See processor.h for the threads.
struct processor::impl final : rebalance_hooks {
  impl(const config::settings& s, std::string bootstrap_, const validate::rule_set& rules_,
       const emit::validator_info& info_, stats& st_)
      : cfg(s),
        bootstrap(std::move(bootstrap_)),
        rules(rules_),
        info(info_),
        st(st_),
        builder(s, info_, st_),
        fencer(s, bootstrap),
        // A lane can hold every message in flight (one partition may have them all), so
        // submit() refuses only in a race with the bound; 8 bytes a slot.
        pool(std::max(1u, s.workers), s.max_in_flight + 1024) {}

  const config::settings& cfg;
  std::string bootstrap;
  const validate::rule_set& rules;
  const emit::validator_info& info;
  stats& st;
  output_builder builder;
  zombie_fencer fencer;                                                                         // exactly_once only
  const std::string owner_meta{owner_metadata({cfg.transactional_id, cfg.group_instance_id})};  // of our commits
  std::vector<std::int32_t> newly_assigned;  // exactly_once: for fence_departed()
  bool close_attempted{false};               // close_consumer() ran: destroy without another close

  rk_ptr producer, consumer;
  rd_kafka_topic_t* accepted_topic{nullptr};
  rd_kafka_topic_t* rejected_topic{nullptr};

  lane_pool<job*> pool;  // partition-affine: a partition's jobs are handled in order by one lane
  offset_tracker tracker;
  std::map<std::int32_t, partition_state> parts;
  std::uint32_t next_epoch{1};
  std::size_t in_flight{0};        // jobs alive: consumed, not yet delivered
  std::size_t in_flight_bytes{0};  // their input bytes
  std::string fatal;
  int fatal_rc{1};  // exit code of `fatal`: exit_auth when retrying cannot fix it (processor.h)
  // Fenced (the consumer as a static member, FENCED_INSTANCE_ID, or the transactional
  // producer): run() returns processor::fenced so the caller can start again with new clients.
  std::atomic<bool> fenced{false};
  clock_type::time_point last_commit = clock_type::now();
  clock_type::time_point last_transport_log{};
  clock_type::time_point last_snapshot{};
  std::optional<clock_type::time_point> stopping_deadline;  // set once shutdown starts: nothing waits past it
  // exactly_once
  const bool eos = cfg.processing_guarantee == config::guarantee::exactly_once;
  std::optional<transactions> txn;
  std::uint64_t emitted_in_txn{0};
  int abort_streak{0};
  std::string refused;  // an output of the open transaction that produce() refused: never commit it
  clock_type::time_point last_txn_commit = clock_type::now();
  // The wall clock read once before pump()'s non-blocking poll, for the end-to-end latency of
  // every job that poll finishes (one clock read per poll instead of one per input); -1 outside.
  std::int64_t poll_now_ms = -1;
  // When to assign again the partitions whose committed-offset query failed (requery_offsets()).
  std::optional<clock_type::time_point> requery_due;

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
      static_cast<impl*>(opaque)->delivered(rk, m);
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
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) noexcept {
    auto* self = static_cast<impl*>(opaque);
    if (offsets == nullptr) return;
    for (int i = 0; i < offsets->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = offsets->elems[i];
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && e.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      self->tracker.commit_failed(e.partition, e.offset);
    }
  }
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                           void* opaque) noexcept {
    auto* self = static_cast<impl*>(opaque);
    try {
      handle_rebalance(rk, err, list, self->cfg.input_topic, *self, self->st);
    } catch (...) {
      self->callback_failed("rebalance");
    }
  }

  // Is `j` still tracked: its partition assigned, and not rewound since it was consumed?
  [[nodiscard]] bool current(const job& j) const noexcept {
    const auto it = parts.find(j.partition);
    return it != parts.end() && it->second.epoch == j.epoch;
  }

  // A delivery report (main thread, inside rd_kafka_poll).
  void delivered(rd_kafka_t*, const rd_kafka_message_t* m) {
    auto* j = static_cast<job*>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && current(*j) && send_replacement(*j, m)) {
      return;  // the replacement's delivery report settles this output
    }
    if (m->err) {
      j->failed = true;
      st.delivery_errors.fetch_add(1, std::memory_order_relaxed);
      log(level::error, std::string("delivery failed for the output of input partition ") +
                            std::to_string(j->partition) + " offset " + std::to_string(j->offset) + ": " +
                            rd_kafka_err2str(m->err));
    } else {
      st.outputs_delivered.fetch_add(1, std::memory_order_relaxed);
    }
    if (--j->pending == 0) finish(j);
  }

  // The topic refused an output as too large: send a small INTERNAL_SERVER_ERROR rejection
  // in its place (unless that one was already a replacement, or fails too).
  bool send_replacement(job& j, const rd_kafka_message_t* m) {
    std::string cid, index;
    rd_kafka_headers_t* hs = nullptr;
    if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const void* v = nullptr;
      size_t n = 0;
      if (rd_kafka_header_get_last(hs, output_builder::h_replacement.data(), &v, &n) == 0) return false;
      if (rd_kafka_header_get_last(hs, emit::h_correlation_id.data(), &v, &n) == 0 && v)
        cid.assign(static_cast<const char*>(v), n);
      if (rd_kafka_header_get_last(hs, emit::h_source_index.data(), &v, &n) == 0 && v)
        index.assign(static_cast<const char*>(v), n);
    }
    auto [r, rh] = make_replacement(j, m->rkt == accepted_topic, cid, parse_int_or(index, -1));
    log(level::error, "the topic refused an output of input partition " + std::to_string(j.partition) + " offset " +
                          std::to_string(j.offset) + " as too large; rejected as INTERNAL_SERVER_ERROR");
    const std::string_view key = r.key();
    const rd_kafka_resp_err_t e =
        rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(rejected_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(const_cast<char*>(r.body.data()), r.body.size()),
                          RD_KAFKA_V_KEY(r.has_key() ? key.data() : nullptr, r.has_key() ? key.size() : 0),
                          RD_KAFKA_V_HEADERS(rh), RD_KAFKA_V_OPAQUE(&j), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    rd_kafka_headers_destroy(rh);
    return false;
  }

  // The small INTERNAL_SERVER_ERROR rejection (retryable, without the record) that takes the
  // place of an output of `j` refused as too large, by the producer or by the topic, and its
  // header list (the caller owns it until produced). The refused output no longer counts as
  // accepted or rejected.
  std::pair<emit::out_message, rd_kafka_headers_t*> make_replacement(const job& j, bool was_accepted,
                                                                     std::string_view correlation_id, long long index) {
    (was_accepted ? st.contacts_accepted : st.contacts_rejected).fetch_sub(1, std::memory_order_relaxed);
    const input_record in = input_of(*j.msg, j.timestamp_ms);
    emit::out_message r = builder.replacement(correlation_id, index, in);
    rd_kafka_headers_t* hs = output_builder::kafka_headers(r, builder.source_of(in), in.headers);
    return {std::move(r), hs};
  }

  // Every output of `j` has its delivery report: at_least_once tells the tracker (which may
  // stop the partition when one failed); then the job is freed.
  void finish(job* j) {
    if (!j->failed && j->timestamp_ms > 0) {
      const std::int64_t now = poll_now_ms >= 0 ? poll_now_ms : now_ms();
      st.end_to_end_seconds.observe(static_cast<double>(std::max<std::int64_t>(0, now - j->timestamp_ms)) / 1000.0);
    }
    if (!eos && current(*j)) {
      tracker.completed(j->partition, j->offset, !j->failed);
      if (!j->failed) st.messages_committed.fetch_add(1, std::memory_order_relaxed);
      if (j->failed) note_stuck(parts[j->partition]);
    }
    free_job(j);
  }

  void free_job(job* j) {
    --in_flight;
    in_flight_bytes -= j->bytes;
    delete j;
  }

  void note_stuck(partition_state& p) {
    const std::int64_t at = tracker.stuck_at(p.partition);
    if (at < 0 || p.stuck) return;
    p.stuck = true;
    log(level::error, "partition " + std::to_string(p.partition) + " of " + cfg.input_topic + " is stopped at offset " +
                          std::to_string(at) +
                          ": its output could not be delivered or was refused; nothing past it will be committed. "
                          "Fix the cause (see the error above) and restart contactgate.");
    pause_one(p.partition);
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

  // ---- worker side ----

  // Per worker thread: its scratch, then one call per job (outputs and header lists built
  // here, then published to the main thread).
  struct worker {
    impl& self;
    output_builder::scratch scratch;
    void operator()(job* j) {
      self.builder.build(input_of(*j->msg, j->timestamp_ms), scratch, j->outputs, j->headers);
      j->ready.store(true, std::memory_order_release);
    }
  };

  // ---- main thread ----

  // Produces every output of `j` (ready, in its partition's order). Values are not copied:
  // an accepted output's bytes are the input's, a rejection's are the job's; both live until
  // the job's last delivery report frees it.
  void produce_job(job* j) {
    j->pending = static_cast<int>(j->outputs.size());
    j->emitted = true;
    for (std::size_t oi = 0; oi < j->outputs.size(); ++oi) {
      emit::out_message& o = j->outputs[oi];
      rd_kafka_headers_t* hs = j->headers[oi];
      j->headers[oi] = nullptr;  // librdkafka owns it once produced; destroyed below otherwise
      rd_kafka_topic_t* topic = o.dest == emit::destination::accepted ? accepted_topic : rejected_topic;
      while (true) {
        const std::string_view value = o.value(), key = o.key();
        const rd_kafka_resp_err_t e =
            hs ? rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(0),
                                   RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                   RD_KAFKA_V_KEY(o.has_key() ? key.data() : nullptr, o.has_key() ? key.size() : 0),
                                   RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_OPAQUE(j), RD_KAFKA_V_END)
               : rd_kafka_producev(producer.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(0),
                                   RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                   RD_KAFKA_V_KEY(o.has_key() ? key.data() : nullptr, o.has_key() ? key.size() : 0),
                                   RD_KAFKA_V_OPAQUE(j), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(producer.get(), 10);
          continue;
        }
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && !o.replaced) {
          // Larger than the producer allows: replace it with a small INTERNAL_SERVER_ERROR
          // rejection (retryable) that leaves the record out.
          if (hs) rd_kafka_headers_destroy(hs);
          log(level::error, "the output of input partition " + std::to_string(j->partition) + " offset " +
                                std::to_string(j->offset) + " is " + std::to_string(value.size()) +
                                " bytes, more than the producer allows; rejected as INTERNAL_SERVER_ERROR");
          auto [r, rh] = make_replacement(*j, o.dest == emit::destination::accepted, o.correlation_id, o.index);
          o = std::move(r);
          hs = rh;
          topic = rejected_topic;
          continue;
        }
        if (hs) rd_kafka_headers_destroy(hs);
        if (eos && e == RD_KAFKA_RESP_ERR__STATE && fatal.empty()) {
          // The transaction already failed (an abortable error, e.g. a request timed out):
          // not this record's fault. commit_transaction() aborts and rewinds, and the record is
          // consumed again; the partition is not stopped.
          --j->pending;
          log(level::warn, "the open transaction failed; the output of input partition " +
                               std::to_string(j->partition) + " offset " + std::to_string(j->offset) +
                               " is produced again after the abort");
          break;
        }
        j->failed = true;
        --j->pending;
        st.delivery_errors.fetch_add(1, std::memory_order_relaxed);
        log(level::error, "cannot produce the output of input partition " + std::to_string(j->partition) + " offset " +
                              std::to_string(j->offset) + " (" + std::to_string(value.size()) +
                              " bytes): " + rd_kafka_err2str(e));
        if (e == RD_KAFKA_RESP_ERR__FATAL) {  // e.g. fenced: not this output's fault
          if (fatal.empty()) fatal = explain_fatal(producer.get());
        } else if (eos && refused.empty()) {
          // The open transaction now holds this record's input offset without its output:
          // it must not commit (commit_transaction() aborts it instead).
          refused = "input partition " + std::to_string(j->partition) + " offset " + std::to_string(j->offset) + ": " +
                    rd_kafka_err2str(e);
        }
        break;
      }
    }
  }

  // Produces the partition's ready jobs in consume order.
  void emit_ready(partition_state& p) {
    while (!p.queued.empty()) {
      job* j = p.queued.front();
      if (!j->ready.load(std::memory_order_acquire)) break;
      if (eos && !txn->open()) {
        if (!begin_transaction()) return;
      }
      p.queued.pop_front();
      produce_job(j);
      if (eos) {
        // In a transaction an output counts once produced: the transaction commits it with
        // its input offset, or aborts both. A refused output stops the partition there (the
        // tracker keeps it stuck through the abort; handle_message pauses it once re-consumed).
        tracker.completed(p.partition, j->offset, !j->failed);
        ++emitted_in_txn;
      }
      if (j->pending == 0) {  // nothing to wait for (every output refused)
        if (!eos)
          finish(j);
        else
          free_job(j);
      }
    }
  }

  void pause_one(std::int32_t partition) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), partition);
    rd_kafka_pause_partitions(consumer.get(), l);
    rd_kafka_topic_partition_list_destroy(l);
  }

  // at_least_once: commits what the tracker says is safe, for the given partitions (all when
  // null).
  void commit(bool sync, const rd_kafka_topic_partition_list_t* only = nullptr) {
    std::vector<commit_point> points;
    tracker.to_commit(points);
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(points.size()) + 1);
    for (const commit_point& c : points) {
      if (only) {
        bool listed = false;
        for (int i = 0; i < only->cnt; ++i) listed |= only->elems[i].partition == c.partition;
        if (!listed) continue;
      }
      rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), c.partition)->offset = c.offset;
    }
    if (l->cnt > 0) {
      const rd_kafka_resp_err_t e = rd_kafka_commit(consumer.get(), l, sync ? 0 : 1);
      if (e) {
        log(level::warn, std::string("offset commit failed: ") + rd_kafka_err2str(e));
      } else {
        for (int i = 0; i < l->cnt; ++i) tracker.mark_committed(l->elems[i].partition, l->elems[i].offset);
        st.commits.fetch_add(1, std::memory_order_relaxed);
      }
    }
    rd_kafka_topic_partition_list_destroy(l);
    last_commit = clock_type::now();
  }

  // Back-pressure: at pipeline.max_in_flight messages or pipeline.max_in_flight_bytes of
  // input (the first one that is reached) the main loop stops taking messages from
  // librdkafka's local queue, which is bounded by queued.max.messages.kbytes, so fetching
  // stops by itself and memory stays bounded. Partitions are not paused for this: measured
  // with librdkafka 2.0.2, pausing discards the fetch in flight and resuming waits ~0.7 s
  // for the fetcher's next wake-up, which capped throughput near 20k messages/s.
  [[nodiscard]] std::size_t room() const noexcept {
    if (in_flight >= cfg.max_in_flight || in_flight_bytes >= cfg.max_in_flight_bytes) return 0;
    return cfg.max_in_flight - in_flight;
  }

  void pump(bool allow_commit = true) {
    pool.publish();
    for (auto& [id, p] : parts) emit_ready(p);
    poll_now_ms = now_ms();
    rd_kafka_poll(producer.get(), 0);
    poll_now_ms = -1;
    if (eos) {
      if (allow_commit && txn->open() && clock_type::now() - last_txn_commit >= cfg.transaction_interval)
        commit_transaction();
    } else {
      if (allow_commit && clock_type::now() - last_commit >= cfg.commit_interval) commit(false);
    }
    st.in_flight.store(in_flight, std::memory_order_relaxed);
    st.queue_depth.store(pool.depth(), std::memory_order_relaxed);
    const auto now = clock_type::now();
    if (now - last_snapshot >= std::chrono::milliseconds(500)) {
      last_snapshot = now;
      publish_snapshot();
    }
    if (eos && !newly_assigned.empty()) fence_departed();
  }

  // exactly_once, after an assignment: if the instance that last committed a newly assigned
  // partition is no longer a member of the group (it died), its last transaction may still be
  // open, hiding every output written after it from read_committed readers until the broker
  // times it out. Fencing its transactional.id aborts that transaction now (zombie_fence.h).
  void fence_departed() {
    std::vector<std::int32_t> ids;
    ids.swap(newly_assigned);
    std::erase_if(ids, [&](std::int32_t id) { return parts.count(id) == 0; });  // revoked meanwhile
    std::string error;
    const std::vector<std::string> departed = fencer.departed_owners(ids, cfg.transactional_id, 2000, error);
    if (!error.empty()) {
      log(level::warn, "cannot tell who owned the newly assigned partitions before: " + error +
                           " (a transaction a dead instance left open ends after its transaction.timeout.ms)");
      return;
    }
    if (departed.empty()) return;
    // Fencing blocks this thread for up to 5 s: end this instance's own transaction first, so
    // that it cannot outlive its transaction.timeout.ms meanwhile.
    if (!commit_transaction()) return;
    for (const std::string& id : departed) {
      if (fencer.fence(id, 5000, error)) {
        log(level::info, "fenced transactional.id " + id +
                             ": the instance that owned newly assigned partitions left the group, and the "
                             "transaction it may have left open is aborted");
      } else {
        log(level::warn, "could not fence transactional.id " + id + " (it owned newly assigned partitions): " + error +
                             "; a transaction it left open ends after its transaction.timeout.ms");
      }
    }
  }

  // Drops the timestamps of inputs the tracker has passed (committable). Called at every
  // snapshot (500 ms) and whenever a partition holds twice pipeline.max_in_flight of them,
  // so the deque is bounded by that, not only by time.
  void prune_timestamps(partition_state& p) {
    const std::int64_t oldest = tracker.oldest_in_flight(p.partition);
    while (!p.timestamps.empty() && (oldest < 0 || p.timestamps.front().first < oldest)) p.timestamps.pop_front();
  }

  void publish_snapshot() {
    std::vector<partition_snapshot> v;
    v.reserve(parts.size());
    std::uint64_t stopped = 0;
    for (auto& [id, p] : parts) {
      partition_snapshot s;
      s.partition = id;
      s.in_flight = tracker.in_flight(id);
      prune_timestamps(p);  // the front is then the oldest input not yet committable
      if (!p.timestamps.empty()) s.oldest_in_flight_ts_ms = p.timestamps.front().second;
      s.stuck = p.stuck;
      stopped += p.stuck;
      v.push_back(s);
    }
    st.paused_partitions.store(stopped, std::memory_order_relaxed);
    st.publish_partitions(std::move(v));
  }

  // ---- exactly_once: outputs and consumed offsets commit atomically ----

  bool begin_transaction() {
    const transactions::status s = txn->begin();
    if (!s.ok) fatal = s.error;
    return s.ok;
  }

  // Commits the open transaction: every produced output plus, per partition, the offset after
  // the last produced message. On an abortable error the transaction is aborted and the
  // partitions rewound to their committed offsets (their messages are consumed again).
  bool commit_transaction() {
    last_txn_commit = clock_type::now();
    if (!txn || !txn->open()) return true;
    if (!refused.empty()) {
      // Committing would store the refused record's input offset with no outcome written.
      // Abort and rewind; the tracker keeps the partition stopped just before the record (as
      // at_least_once does): what precedes it commits in the next transactions, other
      // partitions go on.
      const std::string what = std::move(refused);
      refused.clear();
      log(level::error, "transaction aborted, re-consuming from the last commit: an output was refused (" + what + ")");
      // librdkafka 2.0.2 sends the abort without waiting for the transaction's pending
      // AddPartitionsToTxn; the broker then answers INVALID_TXN_STATE, a fatal error. Let
      // the produced outputs reach the broker first (they stay uncommitted).
      rd_kafka_flush(producer.get(), 10000);
      abort_and_rewind();
      if (++abort_streak >= 5 && fatal.empty()) {
        fatal = "5 transactions in a row could not commit; an output was refused (" + what +
                "): nothing past it is committed. Fix the cause (e.g. kafka.producer.message.max.bytes below the "
                "output's size) and restart contactgate.";
      }
      return false;
    }
    std::vector<commit_point> points;
    tracker.to_commit(points);
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(points.size()) + 1);
    for (const commit_point& c : points) {
      rd_kafka_topic_partition_t* tp = rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), c.partition);
      tp->offset = c.offset;
      // Names this instance, for the next owner's fence_departed(). Freed
      // by the list (librdkafka frees it with free()).
      tp->metadata = std::malloc(owner_meta.size());
      if (tp->metadata != nullptr) {
        std::memcpy(tp->metadata, owner_meta.data(), owner_meta.size());
        tp->metadata_size = owner_meta.size();
      }
    }
    const transactions::status s = txn->commit(l);
    if (s.ok) {
      for (int i = 0; i < l->cnt; ++i) tracker.mark_committed(l->elems[i].partition, l->elems[i].offset);
      rd_kafka_topic_partition_list_destroy(l);
      abort_streak = 0;
      st.messages_committed.fetch_add(emitted_in_txn, std::memory_order_relaxed);
      emitted_in_txn = 0;
      st.commits.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (s.fatal) {
      // Fenced: by another instance with this transactional.id, or by the broker aborting a
      // transaction that outlived transaction.timeout.ms while it was out of reach.
      fenced = s.fenced;
      fatal = "fatal transaction error (another instance with transactional.id " + cfg.transactional_id +
              " may have fenced this one: two instances of one group on one host must set different "
              "processing.transactional_id and kafka.group_instance_id values): " +
              s.error;
      return false;
    }
    log(level::warn, "transaction aborted, re-consuming from the last commit: " + s.error);
    abort_and_rewind();
    if (++abort_streak >= 5 && fatal.empty()) {
      fatal = "5 transactions in a row could not commit; last error: " + s.error +
              " (an output larger than the topic's max.message.bytes aborts every transaction: keep "
              "kafka.producer.message.max.bytes and batch.size at or below it)";
    }
    return false;
  }

  // Drops a partition's jobs that were consumed but not produced (waiting for a worker that
  // still holds one). Their outputs were never produced, so nothing else refers to them.
  void drop_queued(partition_state& p) {
    pool.publish();  // jobs submitted in this batch are not yet visible to their lane
    for (job* j : p.queued) {
      while (!j->ready.load(std::memory_order_acquire)) std::this_thread::yield();
      free_job(j);
    }
    p.queued.clear();
    p.timestamps.clear();
  }

  void abort_and_rewind() {
    refused.clear();  // it was in the aborted transaction
    emitted_in_txn = 0;
    const transactions::status s = txn->abort();
    if (!s.ok) {
      if (fatal.empty()) fatal = s.fatal ? "cannot abort the transaction: " + explain_fatal(producer.get()) : s.error;
      return;
    }
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()) + 1);
    for (auto& [id, p] : parts) rd_kafka_topic_partition_list_add(l, cfg.input_topic.c_str(), id);
    if (rd_kafka_resp_err_t ce = rd_kafka_committed(consumer.get(), l, 30000)) {
      fatal = std::string("cannot read committed offsets to rewind: ") + rd_kafka_err2str(ce);
      rd_kafka_topic_partition_list_destroy(l);
      return;
    }
    for (int i = 0; i < l->cnt; ++i) {
      partition_state& p = parts[l->elems[i].partition];
      drop_queued(p);
      p.epoch = next_epoch++;  // produced jobs of the aborted transaction free themselves, untracked
      tracker.rewind(p.partition, l->elems[i].offset);
      if (l->elems[i].offset < 0) l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;  // never committed
    }
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer.get(), l, 30000)) {
      fatal = std::string("cannot rewind the input: ") + rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
  }

  [[nodiscard]] bool pending_work() const {
    for (const auto& [id, p] : parts) {
      if (!p.queued.empty()) return true;
    }
    return false;
  }

  // ---- rebalance hooks (rebalance.h) ----

  void assigned(const rd_kafka_topic_partition_list_t& list) override {
    for (int i = 0; i < list.cnt; ++i) {
      const std::int32_t id = list.elems[i].partition;
      partition_state& p = parts[id];
      drop_queued(p);  // cannot hold anything: a partition is revoked before it is assigned again
      p = partition_state{};
      p.partition = id;
      p.epoch = next_epoch++;
      if (eos) newly_assigned.push_back(id);
      tracker.assign(id);
      pool.bind(static_cast<std::uint32_t>(id));
    }
  }

  // at_least_once: produces the queued work of the listed partitions (all when `only` is null)
  // and serves delivery reports until none of it is pending or `deadline` passes, committing
  // nothing meanwhile. Stopped partitions are not waited for: their work never completes.
  void drain_until(clock_type::time_point deadline, const rd_kafka_topic_partition_list_t* only) {
    auto busy = [&](const partition_state& p) {
      return !p.stuck && (!p.queued.empty() || tracker.pending(p.partition) > 0);
    };
    auto any_busy = [&] {
      if (only == nullptr)
        return std::any_of(parts.begin(), parts.end(), [&](const auto& e) { return busy(e.second); });
      for (int i = 0; i < only->cnt; ++i) {
        const auto it = parts.find(only->elems[i].partition);
        if (it != parts.end() && busy(it->second)) return true;
      }
      return false;
    };
    while (any_busy() && clock_type::now() < deadline) {
      pump(false);
      rd_kafka_poll(producer.get(), 2);
    }
  }

  // Finishes (within the shutdown timeout, and never past the stop deadline) the work of the
  // listed partitions, commits what is safe, and abandons the rest: the next owner
  // re-consumes it.
  void revoking(const rd_kafka_topic_partition_list_t& list, bool lost) override {
    if (eos) {
      // Commit what was produced (all partitions), drop the rest of the revoked ones: not
      // committed, so their next owner consumes them again.
      if (!lost) {
        commit_transaction();
      } else if (txn && txn->open()) {
        abort_and_rewind();
      }
    } else if (!lost) {
      auto deadline = clock_type::now() + cfg.shutdown_timeout;
      if (stopping_deadline) deadline = std::min(deadline, *stopping_deadline);
      drain_until(deadline, &list);
      commit(true, &list);
    }
    std::size_t abandoned = 0;
    for (int i = 0; i < list.cnt; ++i) {
      const auto it = parts.find(list.elems[i].partition);
      if (it == parts.end()) continue;
      drop_queued(it->second);  // waits for the lane to finish them: then the partition may move
      abandoned += tracker.revoke(it->first);
      pool.unbind(static_cast<std::uint32_t>(it->first));
      parts.erase(it);  // produced jobs still waiting for delivery reports free themselves, untracked
    }
    if (abandoned > 0 && !eos) {
      log(level::warn, std::to_string(abandoned) +
                           " in-flight messages of released partitions were not committed; their next owner "
                           "processes them again");
    }
  }

  // librdkafka 2.0.2 does not retry the committed-offset query (OffsetFetch) of newly
  // assigned partitions when it fails: after a request-level error (NOT_COORDINATOR from a
  // coordinator that moved or was out of reach, confluentinc/librdkafka#5586) or a
  // partition-level one, the partitions stay assigned and are never fetched, until the next
  // rebalance. It reports "Failed to fetch committed offset(s)" on the consumer queue
  // (handle_message() schedules this call). Unassigning and assigning them again sends a new
  // query. Only partitions that gave nothing since their assignment are assigned again:
  // none of their messages is in flight. Should the new query fail too, its error schedules
  // the next attempt.
  void requery_offsets() {
    requery_due.reset();
    rd_kafka_topic_partition_list_t* idle = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
    for (const auto& [id, p] : parts) {
      if (!p.took_any) rd_kafka_topic_partition_list_add(idle, cfg.input_topic.c_str(), id);
    }
    if (idle->cnt > 0) {
      log(level::warn, "assigning partitions [" + partition_names(*idle) + "] of " + cfg.input_topic +
                           " again: librdkafka could not fetch their committed offsets and does not retry");
      if (rd_kafka_error_t* e = assign_again(consumer.get(), *idle)) {
        log(level::error, std::string("cannot assign the partitions again: ") + rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    }
    rd_kafka_topic_partition_list_destroy(idle);
  }

  bool wait_for_topics(const std::atomic<bool>& stop) {
    const auto started = clock_type::now();
    auto next_warning = started + std::chrono::seconds(2);
    while (!stop.load()) {
      const rd_kafka_metadata_t* md = nullptr;
      // Short requests: the connection attempt goes on across them, and each return serves
      // the error callbacks below, so a wrong password or CA stops the start within a few
      // hundred milliseconds, before librdkafka's reconnects become a retry storm.
      const rd_kafka_resp_err_t e = rd_kafka_metadata(producer.get(), 1, nullptr, &md, 250);
      // Error callbacks (authentication, TLS) are only served by a poll: without it a wrong
      // password would be retried forever instead of stopping with a clear message.
      rd_kafka_poll(producer.get(), 0);
      if (!fatal.empty()) {
        if (md) rd_kafka_metadata_destroy(md);
        return false;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (const auto now = clock_type::now(); now >= next_warning) {  // every 10 s, not per attempt
          next_warning = now + std::chrono::seconds(10);
          log(level::warn, "waiting for Kafka at " + bootstrap + " for " +
                               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - started).count()) +
                               " s: " + rd_kafka_err2str(e) + "; retrying");
        }
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
      if (rd_kafka_conf_set(pc, "transactional.id", cfg.transactional_id.c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK) {
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
      if (what.find("Failed to fetch committed offset") != std::string::npos && !requery_due) {
        requery_due = clock_type::now() + std::chrono::seconds(1);
      }
      return;
    }
    const auto it = parts.find(m->partition);
    if (it == parts.end()) {  // not (or no longer) ours
      rd_kafka_message_destroy(m);
      return;
    }
    partition_state& p = it->second;
    p.took_any = true;
    const std::int64_t stuck_at = tracker.stuck_at(p.partition);
    if (eos && stuck_at >= 0 && m->offset >= stuck_at) {  // a refused output: never pass it
      rd_kafka_message_destroy(m);
      // Paused only once the transaction holding the refusal is aborted and the partition
      // rewound: what precedes the record must be consumed again first.
      if (refused.empty()) note_stuck(p);
      return;
    }
    if (!tracker.consumed(p.partition, m->offset)) {  // fetched before a rewind: will come again
      rd_kafka_message_destroy(m);
      return;
    }
    auto* j = new job;
    j->msg = m;
    j->partition = m->partition;
    j->offset = m->offset;
    j->epoch = p.epoch;
    j->bytes = m->len + m->key_len;
    p.queued.push_back(j);
    rd_kafka_timestamp_type_t tt;
    const std::int64_t ts = rd_kafka_message_timestamp(m, &tt);
    j->timestamp_ms = tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
    p.timestamps.emplace_back(m->offset, j->timestamp_ms);
    if (p.timestamps.size() > 2 * cfg.max_in_flight) prune_timestamps(p);
    ++in_flight;
    in_flight_bytes += j->bytes;
    st.messages_consumed.fetch_add(1, std::memory_order_relaxed);
    const auto key = static_cast<std::uint32_t>(j->partition);
    while (!pool.submit(key, j)) {  // the lane is full: it was woken; wait for room
      (void)pool.wait_for_room(key, std::chrono::milliseconds(100));
    }
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
    if (eos) {
      txn.emplace(producer.get(), consumer.get());
      const transactions::status s = txn->init(stop);
      if (!s.ok) {
        if (!s.fatal) return 0;  // stopped while waiting
        log(level::error, s.error);
        return fatal_rc;
      }
      log(level::info, "exactly_once: transactions ready (transactional.id " + cfg.transactional_id + ")");
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
    pool.start([this](unsigned lane) {
      // "cg-lane-N" in top -H, perf and /proc/PID/task/*/comm (at most 15 characters).
      pthread_setname_np(pthread_self(), ("cg-lane-" + std::to_string(lane % 1000)).c_str());
      return worker{*this, output_builder::scratch(validate::payload_validator(rules, cfg.limits))};
    });

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
      pool.publish();  // one wake-up per lane per batch, not per message
      pump();
      if (requery_due && clock_type::now() >= *requery_due) requery_offsets();
    }
    const bool failed = !fatal.empty();
    if (failed) log(level::error, fatal);
    shutdown(failed);
    if (failed && fenced.load()) return processor::fenced;
    return failed ? fatal_rc : 0;
  }

  // Stops within pipeline.shutdown_timeout_ms (plus at least one second to leave the group):
  // every wait below, the revocations included, ends at the same deadline.
  void shutdown(bool failed) {
    const auto deadline = clock_type::now() + cfg.shutdown_timeout;
    stopping_deadline = deadline;
    if (!failed) {
      log(level::info, "stopping: finishing " + std::to_string(in_flight) + " in-flight messages");
      if (eos) {
        while (pending_work() && clock_type::now() < deadline && fatal.empty()) {
          pump();  // transactions stay short (transaction.timeout.ms) while draining
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        commit_transaction();
      } else {
        drain_until(deadline, nullptr);
        commit(true);
      }
      leave_group(deadline);
    }
    close_consumer(deadline);  // revokes (revoking()) what is still assigned
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    rd_kafka_flush(producer.get(), static_cast<int>(std::max<long long>(left, 1000)));
    pool.stop();
    // Anything left was never committed and will be consumed again. Jobs whose outputs are
    // still unacknowledged stay with librdkafka (it references their bytes) until exit.
    for (auto& [id, p] : parts) {
      for (job* j : p.queued) free_job(j);  // the workers are joined: no one holds these
      p.queued.clear();
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

  // rd_kafka_consumer_close() waits for the group coordinator without any bound (librdkafka
  // 2.0.2): with the broker hung (SIGSTOPped), SIGTERM had not ended contactgate 10 minutes
  // later. The close runs asynchronously instead; its events (the final revocation) are served
  // here until it is done or the stop deadline passes (at least one second from now). A
  // consumer whose close did not finish is destroyed without closing again (~impl): the group
  // then drops it after session.timeout.ms, as after a crash.
  void close_consumer(clock_type::time_point deadline) {
    close_attempted = true;
    rd_kafka_queue_t* q = rd_kafka_queue_new(consumer.get());
    if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(consumer.get(), q)) {
      log(level::warn, std::string("cannot close the consumer: ") + rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      rd_kafka_queue_destroy(q);
      return;
    }
    const auto until = std::max(deadline, clock_type::now() + std::chrono::seconds(1));
    while (!rd_kafka_consumer_closed(consumer.get()) && clock_type::now() < until) {
      // Events, not callbacks: rd_kafka_queue_poll_callback() asserts on an event that has no
      // callback (seen in the clean-clone CI: rd_kafka_q_serve, res != RD_KAFKA_OP_RES_PASS).
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 50);
      if (ev == nullptr) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)  // the final revocation: revoking()
        on_rebalance(consumer.get(), rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), this);
      rd_kafka_event_destroy(ev);
    }
    if (!rd_kafka_consumer_closed(consumer.get())) {
      log(level::warn,
          "the consumer did not close within pipeline.shutdown_timeout_ms (Kafka out of reach?); "
          "stopping without it: the group drops this member after session.timeout.ms");
    }
    rd_kafka_queue_destroy(q);
  }

  ~impl() {
    if (accepted_topic) rd_kafka_topic_destroy(accepted_topic);
    if (rejected_topic) rd_kafka_topic_destroy(rejected_topic);
    // After close_consumer(), destroying must not close again: that close is unbounded.
    if (close_attempted && consumer) rd_kafka_destroy_flags(consumer.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
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
