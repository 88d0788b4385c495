#include "pipeline/transactions.h"

#include <chrono>
#include <thread>

#include "pipeline/log.h"

namespace cg::pipeline {

namespace {

bool is_fencing(rd_kafka_resp_err_t code) noexcept {
  return code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

// Takes ownership of `e` (non-null).
transactions::status failed(rd_kafka_error_t* e, const char* what) {
  transactions::status s;
  s.ok = false;
  s.fatal = rd_kafka_error_is_fatal(e);
  s.fenced = s.fatal && is_fencing(rd_kafka_error_code(e));
  s.error = std::string(what) + rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
  return s;
}

}  // namespace

transactions::status transactions::init(const std::atomic<bool>& stop, int timeout_ms) {
  while (!stop.load()) {
    rd_kafka_error_t* e = rd_kafka_init_transactions(_producer, timeout_ms);
    if (!e) return {};
    const bool retriable = rd_kafka_error_is_retriable(e) || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (!retriable) {
      status s = failed(e, "cannot initialise transactions (exactly_once needs a broker with transaction support): ");
      s.fatal = true;
      return s;
    }
    log(level::warn, std::string("waiting to initialise transactions: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
  }
  status s;
  s.ok = false;
  s.error = "stopped while initialising transactions";
  return s;
}

transactions::status transactions::begin() {
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(_producer)) {
    status s = failed(e, "cannot begin a transaction: ");
    s.fatal = true;  // begin fails only on a state error: nothing to retry
    return s;
  }
  _open = true;
  return {};
}

transactions::status transactions::commit(const rd_kafka_topic_partition_list_t* offsets) {
  if (!_open) return {};
  rd_kafka_error_t* err = nullptr;
  // Offsets first (retried while retriable), then the commit (likewise); a commit without
  // its offsets would duplicate on restart, so a failed send leaves it to the caller to abort.
  for (int attempt = 0; offsets && offsets->cnt > 0 && attempt < 5; ++attempt) {
    if (err) rd_kafka_error_destroy(err);
    rd_kafka_consumer_group_metadata_t* cgmd = rd_kafka_consumer_group_metadata(_consumer);
    err = rd_kafka_send_offsets_to_transaction(_producer, offsets, cgmd, 30000);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    if (!err || !rd_kafka_error_is_retriable(err)) break;
  }
  for (int attempt = 0; !err && attempt < 5; ++attempt) {
    err = rd_kafka_commit_transaction(_producer, 60000);
    if (!err || !rd_kafka_error_is_retriable(err)) break;
    if (attempt < 4) {
      rd_kafka_error_destroy(err);
      err = nullptr;
    }
  }
  if (!err) {
    _open = false;
    return {};
  }
  return failed(err, "");
}

transactions::status transactions::abort() {
  for (int attempt = 0;; ++attempt) {
    rd_kafka_error_t* e = rd_kafka_abort_transaction(_producer, 60000);
    if (e == nullptr) break;
    if (rd_kafka_error_is_retriable(e) && attempt < 10) {
      log(level::warn, std::string("aborting the transaction, retrying: ") + rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    return failed(e, "cannot abort the transaction: ");
  }
  _open = false;
  rd_kafka_poll(_producer, 0);  // purged messages' delivery reports
  return {};
}

}  // namespace cg::pipeline
