#pragma once
/// The consumer's rebalance events: logging, counting, and applying the assignment change
/// under either protocol (cooperative: incremental assign/unassign; eager: assign all or
/// none), with the owner's hooks in between: `assigned` before partitions start flowing,
/// `revoking` before they are taken away (the owner finishes, commits or abandons their work
/// there).
///
/// Threads: called on the thread that polls the consumer (librdkafka serves the callback
/// there). Never throws out of the callback: the owner's callback wrapper catches.
#include <librdkafka/rdkafka.h>

#include <string>

#include "pipeline/stats.h"

namespace cg::pipeline {

class rebalance_hooks {
 public:
  virtual void assigned(const rd_kafka_topic_partition_list_t& list) = 0;
  virtual void revoking(const rd_kafka_topic_partition_list_t& list, bool lost) = 0;

 protected:
  ~rebalance_hooks() = default;
};

/// Handles one rebalance callback of `rk` for `topic`.
void handle_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                      const std::string& topic, rebalance_hooks& hooks, stats& st);

/// Outside a rebalance: takes the assigned partitions in `list` away from `rk` and gives them
/// back under the same protocol rules (cooperative: incremental unassign and assign; eager:
/// assign() of the whole assignment again), so librdkafka queries their committed offsets
/// anew. The hooks are not called: nothing of these partitions may be in flight. nullptr on
/// success, else an error the caller destroys.
[[nodiscard]] rd_kafka_error_t* assign_again(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t& list);

/// "0,1,2": the partition numbers of `list`, for log lines.
[[nodiscard]] std::string partition_names(const rd_kafka_topic_partition_list_t& list);

}  // namespace cg::pipeline
