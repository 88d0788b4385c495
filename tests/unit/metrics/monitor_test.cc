#include "metrics/monitor.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>
#include <thread>

#include "pipeline/kafka.h"

namespace cg::metrics {
namespace {

// /api/summary gives each partition's lag_seconds in seconds (it gave milliseconds under
// that name, and the dashboard divided by 1000). Measured against librdkafka's in-process
// mock cluster: 5 messages that nobody committed, the oldest of them in flight for 42 s.
TEST(Monitor, SummaryLagSecondsIsInSeconds) {
  pipeline::mock_cluster cluster;
  cluster.create_topic("lag.in", 1);
  {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap().c_str(), err, sizeof err),
              RD_KAFKA_CONF_OK);
    pipeline::rk_ptr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
    ASSERT_TRUE(producer) << err;
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("lag.in"), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(const_cast<char*>("x"), 1), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(rd_kafka_flush(producer.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  config::settings s;
  s.brokers = cluster.bootstrap();
  s.input_topic = "lag.in";
  s.group_id = "lag-test";
  s.static_membership = false;
  pipeline::stats st;
  st.running.store(true);  // the probe connects once the processor has
  st.publish_partitions({pipeline::partition_snapshot{0, 5, pipeline::now_ms() - 42'000, false}});
  const emit::validator_info info = emit::make_validator_info("t", "p", "c", "z");
  monitor m(s, cluster.bootstrap(), st, info, std::chrono::milliseconds(200));
  m.start();
  std::string j;
  for (int i = 0; i < 150 && j.find("\"lag_seconds\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    j = m.summary_json();
  }
  m.stop();
  const auto at = j.find("\"lag_seconds\":");
  ASSERT_NE(at, std::string::npos) << j;
  EXPECT_NE(j.find("\"lag\":5,"), std::string::npos) << j;
  const double v = std::stod(j.substr(at + 14));
  EXPECT_GE(v, 42.0) << j;
  EXPECT_LT(v, 60.0) << j;  // milliseconds would be 42000 or more
}

}  // namespace
}  // namespace cg::metrics
