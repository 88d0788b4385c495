#include "app/kafka_cmds.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <thread>

#include "app/sd_notify.h"
#include "config/config.h"
#include "emit/records.h"
#include "generate/corpus.h"
#include "metrics/http_server.h"
#include "metrics/monitor.h"
#include "pipeline/kafka.h"
#include "pipeline/log.h"
#include "pipeline/processor.h"
#include "validate/countries.h"
#include "validate/phone.h"
#include "validate/phone_data.h"
#include "validate/postal_table.h"

#ifndef CG_VERSION
#define CG_VERSION "0.0.0"
#endif

namespace cg::app {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

config::settings load_settings(const config_sources& src) {
  std::vector<config::layer> layers;
  if (!src.file.empty()) layers.push_back(config::read_toml_file(src.file));
  layers.push_back(config::read_environment());
  std::vector<std::string> flags = src.sets;
  for (const auto& x : src.kafka_props) flags.push_back("kafka.common." + x);
  layers.push_back(config::read_assignments(flags, "command line"));
  return config::resolve(layers);
}

namespace {

// The settings, with their phone metadata loaded before anything reads phone data.
config::settings load(const config_sources& src) {
  config::settings s = load_settings(src);
  validate::use_phone_metadata(s.phone_metadata);
  return s;
}

emit::validator_info make_info() {
  const auto& postal = validate::postal_table::builtin();
  return emit::make_validator_info(CG_VERSION, validate::phone_metadata_version(),
                                   "iso-codes " + std::string(validate::iso_codes_version()),
                                   "postal_codes.tsv " + std::string(postal.digest()));
}

// What every processor judges with: the phone validator, the rules and the versions.
struct judging_kit {
  explicit judging_kit(const config::settings& s) : phones(validate::make_phone_validator(s.phone_validator)) {}
  std::unique_ptr<validate::phone_validator> phones;
  validate::rule_set rules{*phones, validate::postal_table::builtin()};
  emit::validator_info info = make_info();
};

// Starts the embedded cluster when no brokers are configured.
struct cluster_choice {
  std::unique_ptr<pipeline::mock_cluster> mock;
  std::string bootstrap;
};

cluster_choice choose_cluster(const config::settings& s) {
  cluster_choice c;
  if (!s.brokers.empty()) {
    c.bootstrap = s.brokers;
    return c;
  }
  c.mock = std::make_unique<pipeline::mock_cluster>(1);
  c.bootstrap = c.mock->bootstrap();
  for (const auto* t : {&s.input_topic, &s.accepted_topic, &s.rejected_topic})
    c.mock->create_topic(*t, s.topic_partitions);
  std::fprintf(stderr,
               "contactgate: no brokers configured: started librdkafka's in-process mock cluster at %s\n"
               "             (topics %s, %s, %s with %d partitions; it lives as long as this process)\n"
               "             produce with: kcat -b %s -P -t %s\n",
               c.bootstrap.c_str(), s.input_topic.c_str(), s.accepted_topic.c_str(), s.rejected_topic.c_str(),
               s.topic_partitions, c.bootstrap.c_str(), s.input_topic.c_str());
  return c;
}

// Produces generated payloads; returns the number of contacts they hold.
std::size_t produce_generated(const config::settings& s, const std::string& bootstrap, std::size_t count, double rate,
                              generate::corpus_options gopts, const std::atomic<bool>& stop, std::string& error) {
  char err[512];
  // The payloads have no key. librdkafka's sticky partitioner sends keyless messages to one
  // partition until sticky.partitioning.linger.ms passes, which produced as fast as possible put
  // 64-83% of a 1M backlog on one partition (bench/README.md), so one lane did most of the
  // work. 0 (a default: a user's value wins): a random partition per message, an even spread,
  // as from many producers.
  rd_kafka_conf_t* conf =
      pipeline::make_conf(s, bootstrap, pipeline::client_kind::producer, {{"sticky.partitioning.linger.ms", "0"}});
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    error = err;
    return 0;
  }
  pipeline::rk_ptr p(rk);
  generate::corpus_generator gen(gopts);
  std::size_t contacts = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count && !stop.load(); ++i) {
    const std::string payload = gen.next_payload();
    // Count contacts the way the validator will see them: arrays and bulk requests.
    if (payload[0] == '[' || payload.rfind("{\"contacts\":[", 0) == 0) {
      int depth = 0;
      for (char ch : payload) {
        if (ch == '{') {
          if (++depth == (payload[0] == '[' ? 1 : 2)) ++contacts;
        } else if (ch == '}')
          --depth;
      }
    } else {
      ++contacts;
    }
    while (true) {
      const auto e =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s.input_topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        error = rd_kafka_err2str(e);
        return contacts;
      }
      rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(i + 1) / rate);
      std::this_thread::sleep_until(due);
    }
  }
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) error = "not every message was delivered within 60 s";
  return contacts;
}

// The operator's endpoint: /metrics, /healthz, /readyz, /api/summary and the dashboard.
struct operator_view {
  std::unique_ptr<metrics::monitor> mon;
  std::unique_ptr<metrics::http_server> http;

  operator_view(const config::settings& s, const std::string& bootstrap, const pipeline::stats& st,
                const emit::validator_info& info, bool fall_back_to_any_port) {
    if (!s.http_enabled) return;
    mon = std::make_unique<metrics::monitor>(s, bootstrap, st, info);
    try {
      http = std::make_unique<metrics::http_server>(s.http_address, static_cast<unsigned short>(s.http_port),
                                                    metrics::make_routes(*mon));
    } catch (const std::exception& e) {
      if (!fall_back_to_any_port)
        throw std::runtime_error(std::string(e.what()) + " (set http.port, or http.port=0 for any free port)");
      http = std::make_unique<metrics::http_server>(s.http_address, 0, metrics::make_routes(*mon));
    }
    mon->start();
    http->start();
    std::fprintf(stderr, "contactgate: dashboard http://%s:%u/  metrics http://%s:%u/metrics\n", s.http_address.c_str(),
                 http->port(), s.http_address.c_str(), http->port());
  }
  ~operator_view() {
    if (http) http->stop();
    if (mon) mon->stop();
  }
};

}  // namespace

int run_config_check(const config_sources& src) {
  const config::settings s = load(src);
  // librdkafka judges its own properties.
  const std::string bootstrap = s.brokers.empty() ? "127.0.0.1:9092" : s.brokers;
  for (auto kind : {pipeline::client_kind::consumer, pipeline::client_kind::producer}) {
    rd_kafka_conf_destroy(pipeline::make_conf(s, bootstrap, kind));
  }
  std::fputs(config::to_toml(s).c_str(), stdout);
  std::fprintf(stderr, "configuration OK\n");
  return 0;
}

int run_topics_create(const config_sources& src) {
  const config::settings s = load(src);
  if (s.brokers.empty()) {
    std::fprintf(stderr, "contactgate topics create: set kafka.brokers (--brokers or CONTACTGATE_KAFKA_BROKERS)\n");
    return 2;
  }
  std::vector<std::string> created;
  pipeline::create_topics(s, s.brokers, {s.input_topic, s.accepted_topic, s.rejected_topic}, s.topic_partitions,
                          s.topic_replication, &created);
  for (const auto& t : {s.input_topic, s.accepted_topic, s.rejected_topic}) {
    const bool made = std::find(created.begin(), created.end(), t) != created.end();
    std::printf("%s: %s\n", t.c_str(), made ? "created" : "already exists");
  }
  return 0;
}

// Bounds the whole stop. librdkafka 2.0.2 can block without end while it tears its clients
// down against a broker that hangs (a SIGSTOPped broker held SIGTERM for more than 10 minutes:
// the destroy joins a broker thread that waits for its in-flight requests). Once a stop signal
// has arrived, this thread gives the orderly stop pipeline.shutdown_timeout_ms plus 5 s (leaving
// the group, closing, flushing), then ends the process with the processor's exit code (1 if it
// had not returned yet). What was not committed is consumed again by the next owner.
class stop_watchdog {
 public:
  stop_watchdog(const std::atomic<bool>& stop, std::chrono::milliseconds shutdown_timeout)
      : _thread([this, &stop, shutdown_timeout] {
          while (!stop.load() && !_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
          const auto until = std::chrono::steady_clock::now() + shutdown_timeout + std::chrono::seconds(5);
          while (!_done.load() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          if (_done.load()) return;
          std::fprintf(stderr,
                       "contactgate: the Kafka clients did not stop within pipeline.shutdown_timeout_ms + 5 s "
                       "(Kafka out of reach?); exiting without them\n");
          std::fflush(nullptr);
          std::_Exit(_rc.load());
        }) {}
  ~stop_watchdog() {
    _done.store(true);
    _thread.join();
  }
  stop_watchdog(const stop_watchdog&) = delete;
  stop_watchdog& operator=(const stop_watchdog&) = delete;
  /// The exit code to use if the teardown after it hangs.
  void set_rc(int rc) noexcept { _rc.store(rc); }

 private:
  std::atomic<bool> _done{false};
  std::atomic<int> _rc{1};
  std::thread _thread;  // last: starts once the flags exist
};

int run_processor(const config_sources& src) {
  const config::settings s = load(src);
  install_signals();
  stop_watchdog watchdog(g_stop, s.shutdown_timeout);
  cluster_choice cluster = choose_cluster(s);
  const judging_kit kit(s);
  pipeline::stats st;
  operator_view view(s, cluster.bootstrap, st, kit.info, false);
  // Fenced by the broker (a static member whose session expired while the coordinator was
  // out of reach, with librdkafka 2.0.2; a transaction the broker aborted meanwhile): start
  // again with a new consumer and producer, after a 2 s pause that lets the broker finish with
  // the old ones. Fenced a third time within a minute means another instance has the same
  // group.instance.id or transactional.id (the two fence each other at every rejoin): stop
  // (exit 1). Two fences within a minute also happen legitimately (a long pause of the
  // process, then a broker restart), which the chaos test does.
  std::deque<std::chrono::steady_clock::time_point> fences;
  while (true) {
    int rc;
    {
      pipeline::processor proc(s, cluster.bootstrap, kit.rules, kit.info, st);
      const sd_notifier notifier(st.running, g_stop, "processing " + s.input_topic + ", group " + s.group_id);
      rc = proc.run(g_stop);
      watchdog.set_rc(rc);  // then ~processor, which can hang against a hung broker
    }
    if (rc != pipeline::processor::fenced) return rc;
    const auto now = std::chrono::steady_clock::now();
    while (!fences.empty() && now - fences.front() >= std::chrono::minutes(1)) fences.pop_front();
    fences.push_back(now);
    if (g_stop.load() || fences.size() >= 3) {
      std::fprintf(stderr,
                   "contactgate: fenced %zu times within a minute: another instance uses this "
                   "kafka.group_instance_id (%s) or processing.transactional_id; stopping\n",
                   fences.size(), s.group_instance_id.c_str());
      return 1;
    }
    st.running.store(false);  // not ready (/readyz) nor READY=1 again until the new clients subscribe
    watchdog.set_rc(1);       // the new processor has not returned: a hang from here on is not "fenced"
    std::fprintf(stderr,
                 "contactgate: fenced by the broker (out of reach for longer than session.timeout.ms or "
                 "transaction.timeout.ms?); rejoining with a new consumer and producer in 2 s\n");
    for (int i = 0; i < 20 && !g_stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int run_produce(const config_sources& src, std::size_t count, double rate, double invalid_ratio, std::uint64_t seed,
                double array_ratio, double bulk_ratio) {
  const config::settings s = load(src);
  if (s.brokers.empty()) {
    std::fprintf(stderr, "contactgate produce: set kafka.brokers (--brokers or CONTACTGATE_KAFKA_BROKERS)\n");
    return 2;
  }
  install_signals();
  std::string error;
  generate::corpus_options g{
      .seed = seed, .invalid_ratio = invalid_ratio, .array_ratio = array_ratio, .bulk_ratio = bulk_ratio};
  const auto start = std::chrono::steady_clock::now();
  const std::size_t contacts = produce_generated(s, s.brokers, count, rate, g, g_stop, error);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!error.empty()) {
    std::fprintf(stderr, "contactgate produce: %s\n", error.c_str());
    return 1;
  }
  std::printf("{\"payloads\":%zu,\"contacts\":%zu,\"seconds\":%.3f,\"topic\":\"%s\"}\n", count, contacts, secs,
              s.input_topic.c_str());
  return 0;
}

int run_demo(const config_sources& src, std::size_t count, double invalid_ratio) {
  config::settings s = load(src);
  install_signals();
  cluster_choice cluster = choose_cluster(s);
  const judging_kit kit(s);
  pipeline::stats st;
  operator_view view(s, cluster.bootstrap, st, kit.info, true);
  std::atomic<bool> stop_proc{false};
  int rc = 0;
  std::thread runner([&] {
    pipeline::processor proc(s, cluster.bootstrap, kit.rules, kit.info, st);
    rc = proc.run(stop_proc);
  });
  std::string error;
  generate::corpus_options g{.seed = 1, .invalid_ratio = invalid_ratio, .array_ratio = 0.05, .bulk_ratio = 0.05};
  std::size_t expected = 0;
  std::thread producer([&] { expected = produce_generated(s, cluster.bootstrap, count, 0, g, g_stop, error); });
  producer.join();
  if (!error.empty()) std::fprintf(stderr, "demo producer: %s\n", error.c_str());
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t last = 0;
  auto outcomes = [&] {
    return st.contacts_accepted.load() + st.contacts_rejected.load() + st.payloads_malformed.load();
  };
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const std::uint64_t now_done = outcomes();
    std::fprintf(stderr,
                 "demo: %8llu outcomes (%llu/s)  accepted %llu  rejected %llu  malformed %llu  committed %llu msgs\n",
                 static_cast<unsigned long long>(now_done), static_cast<unsigned long long>(now_done - last),
                 static_cast<unsigned long long>(st.contacts_accepted.load()),
                 static_cast<unsigned long long>(st.contacts_rejected.load()),
                 static_cast<unsigned long long>(st.payloads_malformed.load()),
                 static_cast<unsigned long long>(st.messages_committed.load()));
    last = now_done;
    if (st.messages_committed.load() >= count && now_done >= expected) break;
    if (std::chrono::steady_clock::now() - start > std::chrono::minutes(5)) {
      std::fprintf(stderr, "demo: not finished after 5 minutes; stopping\n");
      break;
    }
  }
  stop_proc.store(true);
  runner.join();
  std::printf("\ncontactgate demo: %zu payloads (%zu contacts) through the embedded cluster\n", count, expected);
  std::printf("  accepted contacts:   %llu -> %s\n", static_cast<unsigned long long>(st.contacts_accepted.load()),
              s.accepted_topic.c_str());
  std::printf("  rejected contacts:   %llu -> %s\n", static_cast<unsigned long long>(st.contacts_rejected.load()),
              s.rejected_topic.c_str());
  std::printf("  malformed payloads:  %llu -> %s\n", static_cast<unsigned long long>(st.payloads_malformed.load()),
              s.rejected_topic.c_str());
  std::printf("  top reasons:\n");
  std::vector<std::pair<std::uint64_t, std::string>> top;
  st.for_each_reason([&](reason_code c, detail d, std::uint64_t n) {
    if (n) top.emplace_back(n, std::string(to_string(c)) + "/" + std::string(to_string(d)));
  });
  std::sort(top.rbegin(), top.rend());
  for (std::size_t i = 0; i < top.size() && i < 10; ++i)
    std::printf("    %-50s %llu\n", top[i].second.c_str(), static_cast<unsigned long long>(top[i].first));
  std::printf("  sample rejections:\n");
  const auto recent = st.recent_rejections();
  for (std::size_t i = recent.size() > 8 ? recent.size() - 8 : 0; i < recent.size(); ++i) {
    std::printf("    %s\n", recent[i].c_str());
  }
  const bool complete = outcomes() == expected && st.messages_committed.load() == count;
  std::printf("  every contact has exactly one outcome: %s\n", complete ? "yes" : "NO");
  return rc != 0 ? rc : (complete ? 0 : 1);
}

}  // namespace cg::app
