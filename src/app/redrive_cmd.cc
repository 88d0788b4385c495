#include "app/redrive_cmd.h"

#include <librdkafka/rdkafka.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <thread>

#include "app/ops_cmds.h"
#include "pipeline/kafka.h"
#include "validate/payload_validator.h"
#include "validate/phone.h"
#include "validate/phone_data.h"
#include "validate/postal_table.h"

namespace cg::app {

namespace {

using clock = std::chrono::steady_clock;

std::atomic<bool> g_redrive_stop{false};
extern "C" void on_redrive_signal(int) { g_redrive_stop.store(true); }

constexpr const char* h_redrive_id = "contactgate.redrive.id";
constexpr const char* h_redrive_count = "contactgate.redrive.count";
constexpr const char* h_redrive_from = "contactgate.redrive.from";

struct tally {
  std::uint64_t scanned{0}, selected{0}, now_accepted{0}, still_rejected{0}, malformed{0}, omitted{0}, loop_guarded{0},
      sent{0};
  std::map<std::string, std::uint64_t> still_by_reason;  // "CODE/DETAIL"
};

// What redrive reads of a rejection record.
struct rejection {
  bool retryable{false};
  std::vector<std::pair<std::string, std::string>> reasons;  // code, detail
  std::string source_topic;
  std::int64_t source_partition{-1}, source_offset{-1};
  std::string encoding;  // "json", "string", "base64", "omitted"
  std::string record;    // the contact object's exact bytes when encoding is "json"
};

// The contact object's exact bytes inside the rejection record (as the processor wrote them).
std::string raw_record(simdjson::ondemand::parser& parser, std::string_view value) {
  const simdjson::padded_string padded(value);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object record;
  std::string_view raw;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc["record"].get_object().get(record) != simdjson::SUCCESS || record.raw_json().get(raw) != simdjson::SUCCESS)
    return {};
  return std::string(raw);
}

bool read_rejection(simdjson::dom::parser& parser, simdjson::ondemand::parser& od, std::string_view value,
                    rejection& r) {
  simdjson::dom::element doc;
  if (parser.parse(value.data(), value.size()).get(doc) != simdjson::SUCCESS) return false;
  if (doc["retryable"].get_bool().get(r.retryable) != simdjson::SUCCESS) r.retryable = false;
  simdjson::dom::array reasons;
  if (doc["reasons"].get_array().get(reasons) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : reasons) {
      std::string_view code, detail;
      if (e["code"].get_string().get(code) != simdjson::SUCCESS) continue;
      if (e["detail"].get_string().get(detail) != simdjson::SUCCESS) detail = "";
      r.reasons.emplace_back(code, detail);
    }
  }
  std::string_view topic, encoding;
  if (doc["source"]["topic"].get_string().get(topic) == simdjson::SUCCESS) r.source_topic = topic;
  if (doc["source"]["partition"].get_int64().get(r.source_partition) != simdjson::SUCCESS) r.source_partition = -1;
  if (doc["source"]["offset"].get_int64().get(r.source_offset) != simdjson::SUCCESS) r.source_offset = -1;
  if (doc["record_encoding"].get_string().get(encoding) == simdjson::SUCCESS) r.encoding = encoding;
  if (r.encoding == "json") r.record = raw_record(od, value);
  return true;
}

bool reason_matches(const std::vector<std::string>& wanted, const rejection& r) {
  if (wanted.empty()) return true;
  for (const std::string& w : wanted) {
    const auto colon = w.find(':');
    for (const auto& [code, detail] : r.reasons) {
      if (colon == std::string::npos ? code == w : (code == w.substr(0, colon) && detail == w.substr(colon + 1)))
        return true;
    }
  }
  return false;
}

struct kafka_handles {
  pipeline::rk_ptr consumer, producer;
};

std::string err_text(rd_kafka_error_t* e) {
  std::string s = rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
  return s;
}

void print_result(const redrive_options& o, const tally& t, bool finished, const std::string& rejected_topic) {
  if (o.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("name");
    w.String(o.name.c_str());
    w.Key("mode");
    w.String(o.to.empty() || o.dry_run ? "dry_run" : "send");
    w.Key("finished");
    w.Bool(finished);
    const std::pair<const char*, std::uint64_t> counts[] = {{"scanned", t.scanned},
                                                            {"selected", t.selected},
                                                            {"now_accepted", t.now_accepted},
                                                            {"still_rejected", t.still_rejected},
                                                            {"not_redrivable_malformed", t.malformed},
                                                            {"not_redrivable_omitted", t.omitted},
                                                            {"loop_guarded", t.loop_guarded},
                                                            {"sent", t.sent}};
    for (const auto& [k, v] : counts) {
      w.Key(k);
      w.Uint64(v);
    }
    w.Key("still_rejected_by_reason");
    w.StartObject();
    for (const auto& [k, v] : t.still_by_reason) {
      w.Key(k.c_str());
      w.Uint64(v);
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
    return;
  }
  std::printf("redrive%s%s: %s, %s\n", o.name.empty() ? "" : " ", o.name.c_str(),
              o.to.empty() || o.dry_run ? "dry run (re-judged with this binary's rules and data; nothing sent)"
                                        : ("to " + o.to).c_str(),
              finished ? "finished" : "interrupted (run it again to continue)");
  std::printf("  %-44s %12llu\n", ("rejections read from " + rejected_topic).c_str(),
              static_cast<unsigned long long>(t.scanned));
  std::printf("  %-44s %12llu\n", "selected", static_cast<unsigned long long>(t.selected));
  std::printf("    %-42s %12llu\n", "now accepted", static_cast<unsigned long long>(t.now_accepted));
  std::printf("    %-42s %12llu\n", "still rejected", static_cast<unsigned long long>(t.still_rejected));
  for (const auto& [k, v] : t.still_by_reason)
    std::printf("      %-40s %12llu\n", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("    %-42s %12llu\n", "not redrivable: malformed payload", static_cast<unsigned long long>(t.malformed));
  std::printf("    %-42s %12llu\n", "not redrivable: record omitted for size",
              static_cast<unsigned long long>(t.omitted));
  std::printf("    %-42s %12llu\n",
              ("redriven " + std::to_string(o.max_redrives) + " times already (not resent)").c_str(),
              static_cast<unsigned long long>(t.loop_guarded));
  std::printf("  %-44s %12llu\n", "sent", static_cast<unsigned long long>(t.sent));
}

}  // namespace

int run_redrive(const config_sources& src, const redrive_options& opts) {
  const bool send = !opts.to.empty() && !opts.dry_run;
  if (send && opts.name.empty()) {
    std::fprintf(stderr, "contactgate redrive: --name is required with --to (it makes the redrive resumable)\n");
    return 2;
  }
  const long long since = opts.since == "beginning" ? -1 : parse_since(opts.since);
  const long long until = parse_since(opts.until);
  if (since == -2 || until == -2) {
    std::fprintf(stderr, "contactgate redrive: --since/--until: a duration ago (30s, 15m, 2h, 1d) or epoch ms\n");
    return 2;
  }
  config::settings s = load_settings(src);
  validate::use_phone_metadata(s.phone_metadata);
  if (s.brokers.empty()) {
    std::fprintf(stderr, "contactgate redrive: set kafka.brokers (--brokers or CONTACTGATE_KAFKA_BROKERS)\n");
    return 2;
  }
  const auto phones = validate::make_phone_validator(s.phone_validator);
  const validate::rule_set rules{*phones, validate::postal_table::builtin()};
  validate::payload_validator judge(rules, s.limits);

  const std::string group = "contactgate-redrive-" + (opts.name.empty() ? std::string("dry-run") : opts.name);
  char err[512];
  rd_kafka_conf_t* cc = pipeline::make_conf(s, s.brokers, pipeline::client_kind::consumer);
  rd_kafka_conf_set(cc, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(cc, "enable.partition.eof", "true", err, sizeof err);
  rd_kafka_conf_set(cc, "isolation.level", "read_committed", err, sizeof err);
  rd_kafka_conf_set(cc, "allow.auto.create.topics", "false", err, sizeof err);
  kafka_handles k;
  k.consumer.reset(rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err));
  if (!k.consumer) {
    std::fprintf(stderr, "contactgate redrive: %s\n", err);
    return 1;
  }
  rd_kafka_t* consumer = k.consumer.get();

  std::vector<std::int32_t> parts;
  std::string perr;
  if (!pipeline::list_partitions(consumer, s.rejected_topic, 10000, parts, perr)) {
    std::fprintf(stderr, "contactgate redrive: %s\n", perr.c_str());
    return 1;
  }
  if (send) {
    std::vector<std::int32_t> to_parts;
    if (!pipeline::list_partitions(consumer, opts.to, 10000, to_parts, perr)) {
      std::fprintf(stderr, "contactgate redrive: --to %s: %s\n", opts.to.c_str(), perr.c_str());
      return 1;
    }
    rd_kafka_conf_t* pc = pipeline::make_conf(s, s.brokers, pipeline::client_kind::producer);
    const std::string txn_id = "contactgate-redrive-" + opts.name;
    if (rd_kafka_conf_set(pc, "transactional.id", txn_id.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "contactgate redrive: %s\n", err);
      rd_kafka_conf_destroy(pc);
      return 1;
    }
    k.producer.reset(rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err));
    if (!k.producer) {
      std::fprintf(stderr, "contactgate redrive: %s\n", err);
      return 1;
    }
    if (rd_kafka_error_t* e = rd_kafka_init_transactions(k.producer.get(), 30000)) {
      std::fprintf(stderr, "contactgate redrive: init transactions: %s\n", err_text(e).c_str());
      return 1;
    }
  }

  // Where each partition ends (now) and where this run starts.
  std::map<std::int32_t, std::int64_t> begin, end, next;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parts.size()));
  for (const std::int32_t p : parts) {
    if (rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(consumer, s.rejected_topic.c_str(), p, &begin[p], &end[p], 10000)) {
      std::fprintf(stderr, "contactgate redrive: end of %s/%d: %s\n", s.rejected_topic.c_str(), p, rd_kafka_err2str(e));
      rd_kafka_topic_partition_list_destroy(l);
      return 1;
    }
    rd_kafka_topic_partition_list_add(l, s.rejected_topic.c_str(), p)->offset = since >= 0 ? since : begin[p];
  }
  if (since >= 0) {  // the first offset at or after --since; -1 where there is none
    if (rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(consumer, l, 10000)) {
      std::fprintf(stderr, "contactgate redrive: offsets for --since: %s\n", rd_kafka_err2str(e));
      rd_kafka_topic_partition_list_destroy(l);
      return 1;
    }
  }
  if (send) {  // a named redrive continues after what it already committed
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(l);
    if (rd_kafka_resp_err_t e = rd_kafka_committed(consumer, committed, 10000)) {
      std::fprintf(stderr, "contactgate redrive: progress of %s: %s\n", group.c_str(), rd_kafka_err2str(e));
      rd_kafka_topic_partition_list_destroy(committed);
      rd_kafka_topic_partition_list_destroy(l);
      return 1;
    }
    for (int i = 0; i < committed->cnt; ++i)
      if (committed->elems[i].offset >= 0) l->elems[i].offset = committed->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(committed);
  }
  std::uint64_t total = 0;
  for (int i = 0; i < l->cnt; ++i) {
    const std::int32_t p = l->elems[i].partition;
    if (l->elems[i].offset < 0) l->elems[i].offset = end[p];  // nothing at or after --since
    next[p] = l->elems[i].offset;
    if (end[p] > next[p]) total += static_cast<std::uint64_t>(end[p] - next[p]);
  }
  rd_kafka_assign(consumer, l);
  rd_kafka_topic_partition_list_destroy(l);

  std::signal(SIGINT, on_redrive_signal);
  std::signal(SIGTERM, on_redrive_signal);
  const bool progress = isatty(STDERR_FILENO) && !opts.json;
  tally t;
  simdjson::dom::parser parser;
  simdjson::ondemand::parser od;
  payload_outcome po;
  std::map<std::int32_t, bool> done;
  for (const std::int32_t p : parts) done[p] = next[p] >= end[p];
  const auto all_done = [&] { return std::all_of(done.begin(), done.end(), [](const auto& d) { return d.second; }); };

  rd_kafka_t* producer = k.producer.get();
  bool in_txn = false;
  std::uint64_t in_txn_count = 0;
  auto txn_started = clock::now();
  auto next_send = clock::now();
  auto last_progress = clock::now();
  std::uint64_t read_since_start = 0;
  std::string failure;

  // Commits what was sent with the rejected-topic positions reached.
  const auto commit = [&]() -> bool {
    if (!in_txn) return true;
    rd_kafka_topic_partition_list_t* offs = rd_kafka_topic_partition_list_new(static_cast<int>(next.size()));
    for (const auto& [p, o] : next) rd_kafka_topic_partition_list_add(offs, s.rejected_topic.c_str(), p)->offset = o;
    rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata(consumer);
    rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(producer, offs, md, 30000);
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(offs);
    if (!e) e = rd_kafka_commit_transaction(producer, 60000);
    in_txn = false;
    if (e) {
      const bool abortable = rd_kafka_error_txn_requires_abort(e);
      failure = "transaction: " + err_text(e) + " (nothing of it was committed; run it again to continue)";
      if (abortable) {
        if (rd_kafka_error_t* a = rd_kafka_abort_transaction(producer, 30000)) rd_kafka_error_destroy(a);
      }
      return false;
    }
    t.sent += in_txn_count;
    in_txn_count = 0;
    return true;
  };

  while (failure.empty() && !g_redrive_stop.load() && !all_done()) {
    if (progress && clock::now() - last_progress > std::chrono::milliseconds(250)) {
      last_progress = clock::now();
      const double pct = total ? 100.0 * static_cast<double>(read_since_start) / static_cast<double>(total) : 100.0;
      std::fprintf(stderr, "\rredrive: %5.1f%%  %llu of %llu rejections read, %llu selected, %llu sent ",
                   std::min(pct, 100.0), static_cast<unsigned long long>(read_since_start),
                   static_cast<unsigned long long>(total), static_cast<unsigned long long>(t.selected),
                   static_cast<unsigned long long>(t.sent + in_txn_count));
    }
    if (send && in_txn && (in_txn_count >= 500 || clock::now() - txn_started > std::chrono::milliseconds(500))) {
      if (!commit()) break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (!m) continue;
    const std::int32_t p = m->partition;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= end[p]) done[p] = true;
      next[p] = std::max(next[p], m->offset);
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err) {
      if (pipeline::is_fatal(m->err)) failure = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->offset >= end[p]) {  // past where this run ends
      done[p] = true;
      rd_kafka_message_destroy(m);
      continue;
    }
    ++t.scanned;
    ++read_since_start;
    const std::int64_t offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    const std::int64_t ts = rd_kafka_message_timestamp(m, &tt);
    rejection r;
    const std::string_view value(static_cast<const char*>(m->payload), m->len);
    bool selected = read_rejection(parser, od, value, r) && reason_matches(opts.reasons, r) &&
                    (opts.retryable < 0 || r.retryable == (opts.retryable == 1)) && (since < 0 || ts >= since) &&
                    (until < 0 || ts <= until) && (opts.source_topic.empty() || r.source_topic == opts.source_topic) &&
                    (opts.source_partition < 0 || r.source_partition == opts.source_partition) &&
                    (opts.source_from < 0 || r.source_offset >= opts.source_from) &&
                    (opts.source_to < 0 || r.source_offset <= opts.source_to);
    if (selected) {
      ++t.selected;
      const std::string count_text = header_value(m, h_redrive_count);
      const int count = count_text.empty() ? 0 : std::atoi(count_text.c_str());
      bool accepted_now = false;
      if (r.encoding == "omitted") {
        ++t.omitted;
        selected = false;
      } else if (r.encoding != "json" || r.record.empty()) {
        ++t.malformed;
        selected = false;
      } else if (count >= opts.max_redrives) {
        ++t.loop_guarded;
        selected = false;
      } else {
        judge.validate(r.record, po);
        accepted_now = !po.malformed && po.contacts.size() == 1 && po.contacts[0].accepted();
        if (accepted_now) {
          ++t.now_accepted;
        } else {
          ++t.still_rejected;
          if (po.malformed) {
            ++t.still_by_reason[std::string(to_string(po.malformed_reason.code)) + "/" +
                                std::string(to_string(po.malformed_reason.what))];
          } else {
            for (const contact_outcome& co : po.contacts)
              for (const reason& rr : co.reasons)
                ++t.still_by_reason[std::string(to_string(rr.code)) + "/" + std::string(to_string(rr.what))];
          }
        }
      }
      if (send && selected && (accepted_now || !opts.only_now_accepted)) {
        if (!in_txn) {
          if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer)) {
            failure = "begin transaction: " + err_text(e);
            rd_kafka_message_destroy(m);
            break;
          }
          in_txn = true;
          txn_started = clock::now();
        }
        if (opts.rate > 0) {
          const auto now = clock::now();
          if (next_send > now) std::this_thread::sleep_until(next_send);
          next_send = std::max(next_send, now) +
                      std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / opts.rate));
        }
        rd_kafka_headers_t* hs = rd_kafka_headers_new(3);
        const std::string new_count = std::to_string(count + 1);
        const std::string from = s.rejected_topic + "/" + std::to_string(p) + "@" + std::to_string(offset);
        rd_kafka_header_add(hs, h_redrive_id, -1, opts.name.data(), static_cast<ssize_t>(opts.name.size()));
        rd_kafka_header_add(hs, h_redrive_count, -1, new_count.data(), static_cast<ssize_t>(new_count.size()));
        rd_kafka_header_add(hs, h_redrive_from, -1, from.data(), static_cast<ssize_t>(from.size()));
        rd_kafka_resp_err_t pe;
        while ((pe = rd_kafka_producev(
                    producer, RD_KAFKA_V_TOPIC(opts.to.c_str()), RD_KAFKA_V_VALUE(r.record.data(), r.record.size()),
                    RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(hs),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
          rd_kafka_poll(producer, 50);
        if (pe != RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_headers_destroy(hs);
          failure = std::string("produce to ") + opts.to + ": " + rd_kafka_err2str(pe);
          if (rd_kafka_error_t* a = rd_kafka_abort_transaction(producer, 30000)) rd_kafka_error_destroy(a);
          in_txn = false;
          rd_kafka_message_destroy(m);
          break;
        }
        ++in_txn_count;
        rd_kafka_poll(producer, 0);
      }
    }
    next[p] = offset + 1;
    if (next[p] >= end[p]) done[p] = true;
    rd_kafka_message_destroy(m);
    if (send && !in_txn && next[p] >= end[p]) {  // progress without sends still gets committed
      if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer)) {
        failure = "begin transaction: " + err_text(e);
        break;
      }
      in_txn = true;
      txn_started = clock::now();
    }
  }
  if (send && failure.empty()) commit();  // what this run sent, also when interrupted
  if (progress) std::fprintf(stderr, "\r%*s\r", 100, "");
  rd_kafka_consumer_close(consumer);
  const bool finished = failure.empty() && all_done();
  print_result(opts, t, finished, s.rejected_topic);
  if (!failure.empty()) {
    std::fprintf(stderr, "contactgate redrive: %s\n", failure.c_str());
    return 1;
  }
  return finished ? 0 : 1;
}

}  // namespace cg::app
