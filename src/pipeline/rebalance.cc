#include "pipeline/rebalance.h"

#include <cstring>

#include "pipeline/log.h"

namespace cg::pipeline {

namespace {
bool cooperative(rd_kafka_t* rk) { return std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0; }
}  // namespace

std::string partition_names(const rd_kafka_topic_partition_list_t& list) {
  std::string names;
  for (int i = 0; i < list.cnt; ++i) names += (names.empty() ? "" : ",") + std::to_string(list.elems[i].partition);
  return names;
}

rd_kafka_error_t* assign_again(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t& list) {
  if (cooperative(rk)) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, &list);
    return e != nullptr ? e : rd_kafka_incremental_assign(rk, &list);
  }
  rd_kafka_topic_partition_list_t* all = nullptr;  // eager: assign() replaces the whole assignment
  rd_kafka_resp_err_t err = rd_kafka_assignment(rk, &all);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = rd_kafka_assign(rk, all);
  if (all) rd_kafka_topic_partition_list_destroy(all);
  return err ? rd_kafka_error_new(err, "%s", rd_kafka_err2str(err)) : nullptr;
}

void handle_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                      const std::string& topic, rebalance_hooks& hooks, stats& st) {
  st.rebalances.fetch_add(1, std::memory_order_relaxed);
  const bool incremental = cooperative(rk);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    hooks.assigned(*list);
    log(level::info, "assigned partitions [" + partition_names(*list) + "] of " + topic);
    st.joined.store(true);
    if (incremental) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, list)) {
        log(level::error, std::string("incremental assign failed: ") + rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, list);
    }
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    const bool lost = rd_kafka_assignment_lost(rk);
    log(level::info,
        "revoking partitions [" + partition_names(*list) + "] of " + topic + (lost ? " (assignment lost)" : ""));
    hooks.revoking(*list, lost);
    if (incremental) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, list)) {
        log(level::error, std::string("incremental unassign failed: ") + rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  } else {
    log(level::error, std::string("rebalance error: ") + rd_kafka_err2str(err));
    hooks.revoking(*list, true);
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace cg::pipeline
