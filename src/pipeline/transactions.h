#pragma once
/// exactly_once: the transactional producer's calls, with librdkafka's retry rules and error
/// classification in one place. The processor keeps the bookkeeping (which jobs and offsets
/// a transaction holds); this class only talks to the broker.
///
/// Threads: the processor's main thread only. Lifetime: borrows the producer and the
/// consumer (whose group metadata goes with the offsets); they outlive it.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <string>

namespace cg::pipeline {

class transactions {
 public:
  transactions(rd_kafka_t* producer, rd_kafka_t* consumer) noexcept : _producer(producer), _consumer(consumer) {}

  struct status {
    bool ok{true};
    bool fatal{false};   ///< the producer cannot go on (fenced, or a broker-side fatal error)
    bool fenced{false};  ///< fatal because another producer epoch took over (restart with new clients)
    std::string error;   ///< what failed, when !ok
  };

  /// init_transactions, retried while retriable (broker not reachable yet) until `stop`.
  [[nodiscard]] status init(const std::atomic<bool>& stop, int timeout_ms = 30000);

  [[nodiscard]] status begin();
  [[nodiscard]] bool open() const noexcept { return _open; }

  /// Sends `offsets` (the next input offset per partition; none when empty) with the
  /// consumer's group metadata, then commits; retriable failures are retried. A failure that
  /// is not fatal leaves the transaction open: the caller aborts it.
  [[nodiscard]] status commit(const rd_kafka_topic_partition_list_t* offsets);

  /// Aborts the open transaction (retrying retriable failures, e.g. the coordinator still busy
  /// with this transaction's AddPartitionsToTxn), then serves the purged outputs' delivery
  /// reports.
  [[nodiscard]] status abort();

 private:
  rd_kafka_t* _producer;
  rd_kafka_t* _consumer;
  bool _open{false};
};

}  // namespace cg::pipeline
