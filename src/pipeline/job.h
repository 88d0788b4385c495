#pragma once
/// One input message on its way through the processor, and the storage of its outputs.
///
/// Ownership: the processor's main thread creates a job for each consumed message, hands
/// it to a worker lane, and destroys it at its last delivery report (or when it is dropped
/// before its outputs were produced). The offset tracker, not the job, remembers what is
/// safe to commit, so a delivered job is freed at once. The job owns the input message:
/// an accepted output's value and key are views into it and are produced without a copy
/// (librdkafka references them until the delivery report), so the job outlives its outputs.
/// Threads: a worker writes `outputs` and `headers`, then publishes them with a
/// release-store of `ready`; from then on only the main thread touches the job (delivery
/// reports run on the main thread, inside rd_kafka_poll).
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include "emit/records.h"
#include "pipeline/output_builder.h"

namespace cg::pipeline {

struct job {
  rd_kafka_message_t* msg{nullptr};  ///< the input (owned)
  std::int32_t partition{-1};
  std::int64_t offset{-1};
  std::int64_t timestamp_ms{-1};  ///< the input's timestamp (-1: none), read once at consume time
  std::uint32_t epoch{0};         ///< its partition's epoch when consumed (processor: tracked while it matches)
  std::size_t bytes{0};           ///< the input's payload + key size (the in-flight byte bound)
  emit::out_list outputs;         ///< inline for one output: the job is one allocation
  header_lists headers;           ///< one per output; owned until produced (then librdkafka's)
  std::atomic<bool> ready{false};
  int pending{0};  ///< outputs produced but not yet acknowledged
  bool emitted{false};
  bool failed{false};

  job() = default;
  job(const job&) = delete;
  job& operator=(const job&) = delete;
  ~job() {
    for (rd_kafka_headers_t* h : headers) {
      if (h) rd_kafka_headers_destroy(h);
    }
    if (msg) rd_kafka_message_destroy(msg);
  }
};

}  // namespace cg::pipeline
