#pragma once
/// The stream processor: consume the input topic in a consumer group, validate on a pool
/// of worker threads, produce each result to the accepted or rejected topic in input
/// order per partition, and commit an input offset only once every output of it and of
/// all earlier messages of its partition has a successful delivery report.
///
/// Threads: run() owns the calling thread, which consumes, produces (in order) and
/// commits; `workers` lanes validate (lane_pool.h: each input partition is handled by one
/// lane at a time, in order). In flight is bounded by pipeline.max_in_flight messages and
/// pipeline.max_in_flight_bytes of input; at either bound the loop stops taking messages.
/// The parts and who owns what: src/pipeline/README.md.
/// Lifetime: the processor borrows the rule_set, the validator_info and the stats; they
/// must outlive it. Errors: run() returns a process exit code; start-up problems and
/// fatal Kafka errors (authentication, missing topics) give 1 with a message.
#include <atomic>
#include <memory>
#include <string>

#include "config/config.h"
#include "emit/records.h"
#include "pipeline/stats.h"
#include "validate/payload_validator.h"

namespace cg::pipeline {

class processor {
 public:
  processor(const config::settings& s, std::string bootstrap, const validate::rule_set& rules,
            const emit::validator_info& info, stats& st);
  ~processor();
  processor(const processor&) = delete;
  processor& operator=(const processor&) = delete;

  /// Exit codes besides 0 (clean stop) and 1 (a fatal error a restart may fix: missing
  /// topics, a fenced or failing transactional producer): systemd's RestartPreventExitStatus=
  /// and deploy/README.md rely on them.
  static constexpr int exit_config = 2;  ///< configuration: the same code as config errors in main
  static constexpr int exit_auth = 4;    ///< authentication, authorization or TLS failure

  /// Runs until `stop` becomes true, then drains in-flight work, commits and closes
  /// within settings.shutdown_timeout. Returns 0 on a clean stop, an exit code above or 1 on
  /// a fatal error, and
  /// `fenced` when the broker fenced this instance: the consumer as a static member
  /// (FENCED_INSTANCE_ID: librdkafka 2.0.2 gets it after the coordinator was out of reach
  /// for longer than session.timeout.ms) or the transactional producer (its transaction
  /// outlived transaction.timeout.ms while the broker was out of reach), or another
  /// instance uses the same group.instance.id / transactional.id.
  [[nodiscard]] int run(const std::atomic<bool>& stop);
  static constexpr int fenced = -1;  // never an exit code: run_processor starts again

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace cg::pipeline
