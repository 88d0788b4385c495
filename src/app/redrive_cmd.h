#pragma once
/// `contactgate redrive`: sends rejected contacts through the pipeline again.
///
/// Reads the rejected topic from the start (or --since) up to its end at the time the run
/// starts, selects rejections (reason, retryable, time, source coordinates), and either
/// re-judges them with this binary's rules and data and prints a table (dry run, the
/// default without --to), or writes each selected contact record to --to with headers that
/// say where it came from:
///   contactgate.redrive.id      the redrive's name
///   contactgate.redrive.count   how many times this contact has been redriven, this time included
///   contactgate.redrive.from    rejected-topic/partition@offset of the rejection
/// The processor copies contactgate.redrive.* headers of an input onto its outputs, so a
/// contact rejected again carries its count; one already redriven --max-redrives times is
/// reported, not resent.
///
/// Exactly once between the rejected topic and the target: a transactional producer
/// (transactional.id contactgate-redrive-NAME) commits what it sent together with the
/// rejected-topic offsets it has read (consumer group contactgate-redrive-NAME), so a run
/// interrupted at any point (even kill -9) continues where its last transaction ended, and
/// a finished one sends nothing twice.
#include <cstdint>
#include <string>
#include <vector>

#include "app/kafka_cmds.h"

namespace cg::app {

struct redrive_options {
  std::string name;                  ///< required to send; names the group and transactional id
  std::string to;                    ///< target topic; empty: dry run
  bool dry_run{false};               ///< also with --to: judge and count, send nothing
  std::vector<std::string> reasons;  ///< CODE or CODE:DETAIL; a rejection matches if any reason does
  int retryable{-1};                 ///< -1 any, 0 only not retryable, 1 only retryable
  std::string since, until;          ///< as `tail --since`; on the rejection's timestamp
  std::string source_topic;
  int source_partition{-1};
  std::int64_t source_from{-1}, source_to{-1};  ///< inclusive source offset range; -1: open
  double rate{1000};                            ///< records/s sent; 0: no limit
  int max_redrives{3};
  bool only_now_accepted{false};  ///< send only what this binary now accepts
  bool json{false};               ///< the result as one JSON object
};

/// Exit 0 on success (dry run or finished), 1 on a Kafka error, 2 on bad options.
[[nodiscard]] int run_redrive(const config_sources& src, const redrive_options& opts);

}  // namespace cg::app
