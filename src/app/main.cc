// contactgate: wiring and configuration only. Exceptions at start-up are caught here and
// turned into a message and a non-zero exit.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <thread>

#include "app/kafka_cmds.h"
#include "app/ops_cmds.h"
#include "app/redrive_cmd.h"
#include "app/validate_cmd.h"
#include "config/config.h"
#include "generate/corpus.h"
#include "validate/countries.h"
#include "validate/phone.h"
#include "validate/phone_data.h"
#include "validate/postal_table.h"

#ifndef CG_VERSION
#define CG_VERSION "0.0.0"
#endif

// jemalloc (linked by default: cmake/cg_dependencies.cmake) reads this at start-up. Freed pages
// go back to the system after 1 s instead of 10 s, which kept 15-40 MB off the peak RSS while
// draining a backlog (bench/README.md, "Peak memory on a backlog"). MALLOC_CONF in the
// environment still overrides it; without jemalloc it is an unused global.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}

namespace {

std::string version_text() {
  const auto& postal = cg::validate::postal_table::builtin();
  std::size_t with_codes = 0;
  for (const auto& r : postal.rows()) with_codes += r.has_postal_codes;
  return std::string("contactgate ") + CG_VERSION + "\nphone data: " + cg::validate::phone_metadata_version() +
         "\ncountry data: iso-codes " + std::string(cg::validate::iso_codes_version()) + " (" +
         std::to_string(cg::validate::assigned_countries().size()) + " assigned ISO 3166-1 alpha-2 codes)\n" +
         "postal data: postal_codes.tsv " + std::string(postal.digest()) + " (" + std::to_string(postal.rows().size()) +
         " countries, " + std::to_string(with_codes) + " with postal codes)\n";
}

void print_version() { std::fputs(version_text().c_str(), stdout); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"contactgate: validates contact upserts the way Twilio's Contact API does (error 30647)"};
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print the versions of contactgate and of the data it judges with");

  cg::app::validate_options vopts;
  auto* validate =
      app.add_subcommand("validate", "Validate NDJSON payloads from files or stdin; one JSON line per contact");
  validate->add_option("files", vopts.files, "Input files (see --input); none or '-' reads stdin");
  const std::map<std::string, cg::app::input_format> input_formats{{"ndjson", cg::app::input_format::ndjson},
                                                                   {"json", cg::app::input_format::json},
                                                                   {"csv", cg::app::input_format::csv}};
  validate
      ->add_option("--input", vopts.input,
                   "ndjson: one payload per line (default); json: each file is one payload; "
                   "csv: a header row, then one contact per row (RFC 4180)")
      ->transform(CLI::CheckedTransformer(input_formats, CLI::ignore_case));
  validate->add_flag("--summary", vopts.summary, "Print counts per reason and detail to stderr");
  vopts.threads = 1;
  validate->add_option("--threads", vopts.threads, "Validation threads (output order is kept)")
      ->check(CLI::Range(1u, 256u));
  validate
      ->add_option("--phone-validator", vopts.phone_validator, "fast (default) or reference (libphonenumber itself)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fast", "reference"}));
  validate->add_option("--phone-metadata", vopts.phone_metadata,
                       "Phone metadata file made by scripts/phone_data.sh update (default: the built-in data)");
  validate->add_option("--max-payload-bytes", vopts.limits.max_payload_bytes, "Largest payload accepted")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 30));
  validate->add_option("--max-depth", vopts.limits.max_depth, "Deepest nesting accepted")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{2}, std::size_t{4096}));
  validate->add_option("--max-string-bytes", vopts.limits.max_string_bytes, "Longest JSON string accepted (bytes)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  validate->add_option("--max-contacts", vopts.limits.max_contacts, "Most contacts accepted in one payload")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));

  cg::generate::corpus_options gopts;
  std::size_t gcount = 1000;
  auto* generate = app.add_subcommand("generate", "Print generated NDJSON payloads (deterministic for a seed)");
  generate->add_option("--count", gcount, "Number of payloads")->capture_default_str();
  generate->add_option("--seed", gopts.seed, "Random seed")->capture_default_str();
  generate->add_option("--invalid-ratio", gopts.invalid_ratio, "Share of invalid contacts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  generate->add_option("--array-ratio", gopts.array_ratio, "Share of payloads that are JSON arrays")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  generate->add_option("--bulk-ratio", gopts.bulk_ratio, "Share of payloads that are {\"contacts\":[...]} requests")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));

  cg::app::config_sources csrc;
  auto add_config_opts = [&](CLI::App* cmd) {
    cmd->add_option("-c,--config", csrc.file, "TOML configuration file")->check(CLI::ExistingFile);
    cmd->add_option("--set", csrc.sets, "Set a configuration key: section.key=value (repeatable)");
    cmd->add_option("-X", csrc.kafka_props, "librdkafka property for both clients: prop=value (repeatable)");
    cmd->add_option_function<std::string>(
        "-b,--brokers", [&](const std::string& b) { csrc.sets.push_back("kafka.brokers=" + b); },
        "Bootstrap brokers (default: the embedded mock cluster)");
    cmd->add_option_function<std::string>(
        "-g,--group", [&](const std::string& g) { csrc.sets.push_back("kafka.group_id=" + g); }, "Consumer group id");
  };
  auto* run = app.add_subcommand("run", "Run the stream processor (embedded mock cluster when no brokers are set)");
  add_config_opts(run);
  std::size_t demo_count = 50000;
  double demo_invalid = 0.2;
  auto* demo = app.add_subcommand("demo", "Embedded cluster + generated stream + processor, with a live summary");
  add_config_opts(demo);
  demo->add_option("--count", demo_count, "Payloads to generate")->capture_default_str();
  demo->add_option("--invalid-ratio", demo_invalid, "Share of invalid contacts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  std::size_t pcount = 10000;
  double prate = 0, pinvalid = 0.2, parray = 0, pbulk = 0;
  std::uint64_t pseed = 42;
  auto* produce = app.add_subcommand("produce", "Produce generated contacts to the input topic of any cluster");
  add_config_opts(produce);
  produce->add_option("--count", pcount, "Payloads to produce")->capture_default_str();
  produce->add_option("--rate", prate, "Payloads per second (0: as fast as possible)")->capture_default_str();
  produce->add_option("--invalid-ratio", pinvalid, "Share of invalid contacts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  produce->add_option("--seed", pseed, "Random seed")->capture_default_str();
  produce->add_option("--array-ratio", parray, "Share of array payloads")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  produce->add_option("--bulk-ratio", pbulk, "Share of bulk payloads")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  auto* topics = app.add_subcommand("topics", "Topic administration");
  auto* topics_create = topics->add_subcommand("create", "Create the input, accepted and rejected topics (Admin API)");
  topics->require_subcommand(1);
  add_config_opts(topics_create);
  topics_create->add_option_function<int>(
      "--partitions", [&](int n) { csrc.sets.push_back("topics.partitions=" + std::to_string(n)); },
      "Partitions per topic (default 6)");
  topics_create->add_option_function<int>(
      "--replication", [&](int n) { csrc.sets.push_back("topics.replication=" + std::to_string(n)); },
      "Replication factor (default 1)");
  auto* config_cmd = app.add_subcommand("config", "Configuration");
  auto* config_check =
      config_cmd->add_subcommand("check", "Validate the configuration and print the effective one (secrets redacted)");
  config_cmd->require_subcommand(1);
  add_config_opts(config_check);

  std::string lag_group;
  long long lag_max = -1;
  bool lag_json = false;
  auto* lag = app.add_subcommand("lag", "Consumer lag per partition: committed, log end, lag, time lag");
  add_config_opts(lag);
  lag->add_option("--max-lag", lag_max, "Exit 3 when any partition's lag is above this");
  lag->add_flag("--json", lag_json, "JSON output");
  cg::app::redrive_options ropts;
  std::string redrive_retryable, redrive_offsets;
  auto* redrive = app.add_subcommand(
      "redrive", "Send rejected contacts through the pipeline again (a dry run that re-judges them without --to)");
  add_config_opts(redrive);
  redrive->add_option("--name", ropts.name, "The redrive's name: running it again continues where it stopped");
  redrive->add_option("--to", ropts.to, "Topic to write the contacts to (usually the input topic); none: dry run");
  redrive->add_flag("--dry-run", ropts.dry_run, "Judge and count only, also with --to");
  redrive->add_option("--reason", ropts.reasons, "Only rejections with this reason code, or CODE:DETAIL (repeatable)");
  redrive->add_option("--retryable", redrive_retryable, "true: only retryable rejections; false: only the others")
      ->check(CLI::IsMember({"true", "false"}));
  redrive->add_option("--since", ropts.since, "Rejected since: a duration ago (30s, 15m, 2h, 1d) or epoch ms");
  redrive->add_option("--until", ropts.until, "Rejected until: a duration ago or epoch ms");
  redrive->add_option("--source-topic", ropts.source_topic, "Only rejections of inputs from this topic");
  redrive->add_option("--source-partition", ropts.source_partition, "Only rejections of inputs from this partition");
  redrive->add_option("--source-offsets", redrive_offsets, "Only rejections of inputs in this offset range: FROM-TO");
  redrive->add_option("--rate", ropts.rate, "Records per second sent (0: no limit)")->capture_default_str();
  redrive
      ->add_option("--max-redrives", ropts.max_redrives, "Contacts redriven this many times are reported, not resent")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  redrive->add_flag("--only-now-accepted", ropts.only_now_accepted, "Send only contacts this binary now accepts");
  redrive->add_flag("--json", ropts.json, "Print the result as one JSON object");

  std::string tail_reason, tail_since;
  bool tail_json = false;
  std::uint64_t tail_max = 0;
  auto* tail = app.add_subcommand("tail", "Follow a results topic");
  auto* tail_rejected = tail->add_subcommand("rejected", "One line per rejection (phone numbers masked)");
  tail->require_subcommand(1);
  add_config_opts(tail_rejected);
  tail_rejected->add_option("--reason", tail_reason, "Only rejections with this code, or CODE:DETAIL");
  tail_rejected->add_option(
      "--since", tail_since,
      "Start from: a duration ago (30s, 15m, 2h, 1d), epoch ms, or 'beginning' (default: new ones)");
  tail_rejected->add_flag("--json", tail_json, "Print the rejection records (contact_id masked)");
  tail_rejected->add_option("--max", tail_max, "Stop after this many (0: follow until Ctrl-C)");

  int sb_hours = 24;
  std::string sb_metrics;
  auto* support = app.add_subcommand(
      "support-bundle", "Versions, configuration (redacted), recent INTERNAL_SERVER_ERROR correlation_ids, metrics");
  add_config_opts(support);
  support->add_option("--hours", sb_hours, "How far back to look for internal errors")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 30));
  support->add_option("--metrics-url", sb_metrics,
                      "A running instance's /metrics (default: from http.address/http.port)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (version) {
      print_version();
      return 0;
    }
    // validate and generate are filters: a closed pipe ends them by SIGPIPE, silently, as
    // other Unix tools, whatever disposition the parent left (README, "exit code").
    if (*validate || *generate) std::signal(SIGPIPE, SIG_DFL);
    if (*validate) return cg::app::run_validate(vopts);
    if (*run) return cg::app::run_processor(csrc);
    if (*demo) return cg::app::run_demo(csrc, demo_count, demo_invalid);
    if (*produce) return cg::app::run_produce(csrc, pcount, prate, pinvalid, pseed, parray, pbulk);
    if (*topics_create) return cg::app::run_topics_create(csrc);
    if (*config_check) return cg::app::run_config_check(csrc);
    if (*support) {
      if (sb_metrics.empty()) {
        const auto st = cg::app::load_settings(csrc);
        sb_metrics = "http://" + st.http_address + ":" + std::to_string(st.http_port) + "/metrics";
      }
      return cg::app::run_support_bundle(csrc, sb_hours, sb_metrics, version_text());
    }
    if (*redrive) {
      if (!redrive_retryable.empty()) ropts.retryable = redrive_retryable == "true" ? 1 : 0;
      if (!redrive_offsets.empty()) {
        long long a = -1, b = -1;
        if (std::sscanf(redrive_offsets.c_str(), "%lld-%lld", &a, &b) != 2 || a < 0 || b < a) {
          std::fprintf(stderr, "contactgate redrive: --source-offsets '%s': expected FROM-TO\n",
                       redrive_offsets.c_str());
          return 2;
        }
        ropts.source_from = a;
        ropts.source_to = b;
      }
      return cg::app::run_redrive(csrc, ropts);
    }
    if (*lag) return cg::app::run_lag(csrc, lag_group, lag_max, lag_json);
    if (*tail_rejected) return cg::app::run_tail(csrc, tail_reason, tail_since, tail_json, tail_max);
    if (*generate) {
      if (gopts.array_ratio + gopts.bulk_ratio > 1.0) {
        std::fprintf(stderr, "contactgate generate: --array-ratio + --bulk-ratio must be at most 1\n");
        return 2;
      }
      cg::generate::corpus_generator gen(gopts);
      std::string out;
      for (std::size_t i = 0; i <= gcount; ++i) {
        if (i < gcount) {
          out += gen.next_payload();
          out.push_back('\n');
        }
        if (out.size() > (1 << 20) || i == gcount) {
          if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
            std::fprintf(stderr, "contactgate generate: cannot write output: %s\n", std::strerror(errno));
            return 2;
          }
          out.clear();
        }
      }
      return 0;
    }
    std::cout << app.help();
    return 2;
  } catch (const cg::config::config_error& e) {
    std::fprintf(stderr, "contactgate: configuration error: %s\n", e.what());
    return 2;
  } catch (const cg::validate::phone_data_error& e) {
    std::fprintf(stderr, "contactgate: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "contactgate: %s\n", e.what());
    return 1;
  }
}
