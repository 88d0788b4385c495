#include "pipeline/kafka.h"

#include <gtest/gtest.h>

#include <string>

namespace cg::pipeline {
namespace {

// Replaces std::stoll in librdkafka callbacks, which threw on a malformed header value.
TEST(ParseIntOr, ReadsWholeNumbersAndFallsBackWithoutThrowing) {
  EXPECT_EQ(parse_int_or("0", -1), 0);
  EXPECT_EQ(parse_int_or("1234", -1), 1234);
  EXPECT_EQ(parse_int_or("-5", 7), -5);
  EXPECT_EQ(parse_int_or("", -1), -1);
  EXPECT_EQ(parse_int_or("12x", -1), -1);
  EXPECT_EQ(parse_int_or(" 12", -1), -1);
  EXPECT_EQ(parse_int_or("99999999999999999999999", -1), -1);  // std::stoll: std::out_of_range
  EXPECT_EQ(parse_int_or("abc", -2), -2);                      // std::stoll: std::invalid_argument
}

std::string get(rd_kafka_conf_t* conf, const char* key) {
  char buf[256];
  size_t n = sizeof buf;
  EXPECT_EQ(rd_kafka_conf_get(conf, key, buf, &n), RD_KAFKA_CONF_OK) << key;
  return buf;
}

// Creates the client, so that librdkafka's own checks of the combination run too.
void expect_client_accepts(rd_kafka_conf_t* conf, rd_kafka_type_t type) {
  char err[512];
  rk_ptr rk(rd_kafka_new(type, conf, err, sizeof err));
  EXPECT_TRUE(rk) << err;
  if (!rk) rd_kafka_conf_destroy(conf);
}

TEST(MakeConf, BoundsThePrefetchAndTheProducerQueueInBytesAndMessages) {
  config::settings s;
  rd_kafka_conf_t* c = make_conf(s, "127.0.0.1:1", client_kind::consumer);
  EXPECT_EQ(get(c, "queued.max.messages.kbytes"), "32768");
  EXPECT_EQ(get(c, "queued.min.messages"), "300000");
  EXPECT_EQ(get(c, "fetch.max.bytes"), std::to_string(default_fetch_max_bytes));
  EXPECT_EQ(get(c, "max.partition.fetch.bytes"), "1048576");
  expect_client_accepts(c, RD_KAFKA_CONSUMER);
  rd_kafka_conf_t* p = make_conf(s, "127.0.0.1:1", client_kind::producer);
  EXPECT_EQ(get(p, "queue.buffering.max.kbytes"), "32768");
  EXPECT_EQ(get(p, "queue.buffering.max.messages"), "100000");
  expect_client_accepts(p, RD_KAFKA_PRODUCER);
}

TEST(MakeConf, UserValuesWinOverContactgatesDefaults) {
  config::settings s;
  s.kafka_consumer["queued.max.messages.kbytes"] = "65536";
  s.kafka_consumer["queued.min.messages"] = "1000000";
  s.kafka_consumer["fetch.max.bytes"] = "52428800";
  s.kafka_producer["queue.buffering.max.kbytes"] = "1048576";
  s.kafka_common["queue.buffering.max.messages"] = "5000";  // [kafka.common] wins too
  rd_kafka_conf_t* c = make_conf(s, "127.0.0.1:1", client_kind::consumer);
  EXPECT_EQ(get(c, "queued.max.messages.kbytes"), "65536");
  EXPECT_EQ(get(c, "queued.min.messages"), "1000000");
  EXPECT_EQ(get(c, "fetch.max.bytes"), "52428800");
  expect_client_accepts(c, RD_KAFKA_CONSUMER);
  rd_kafka_conf_t* p = make_conf(s, "127.0.0.1:1", client_kind::producer);
  EXPECT_EQ(get(p, "queue.buffering.max.kbytes"), "1048576");
  EXPECT_EQ(get(p, "queue.buffering.max.messages"), "5000");
  expect_client_accepts(p, RD_KAFKA_PRODUCER);
}

// A caller's own defaults (the generator's producer) are set with contactgate's; a user's
// value wins over them as over any default.
TEST(MakeConf, CallerDefaultsAreSetAndTheUsersValuesWinOverThem) {
  config::settings s;
  rd_kafka_conf_t* p = make_conf(s, "127.0.0.1:1", client_kind::producer, {{"sticky.partitioning.linger.ms", "0"}});
  EXPECT_EQ(get(p, "sticky.partitioning.linger.ms"), "0");
  EXPECT_EQ(get(p, "linger.ms"), "5");  // contactgate's defaults stay
  expect_client_accepts(p, RD_KAFKA_PRODUCER);
  s.kafka_producer["sticky.partitioning.linger.ms"] = "25";
  rd_kafka_conf_t* user = make_conf(s, "127.0.0.1:1", client_kind::producer, {{"sticky.partitioning.linger.ms", "0"}});
  EXPECT_EQ(get(user, "sticky.partitioning.linger.ms"), "25");
  expect_client_accepts(user, RD_KAFKA_PRODUCER);
  s.kafka_producer.clear();
  s.kafka_common["sticky.partitioning.linger.ms"] = "30";  // [kafka.common] wins too
  rd_kafka_conf_t* common =
      make_conf(s, "127.0.0.1:1", client_kind::producer, {{"sticky.partitioning.linger.ms", "0"}});
  EXPECT_EQ(get(common, "sticky.partitioning.linger.ms"), "30");
  expect_client_accepts(common, RD_KAFKA_PRODUCER);
}

// A larger message.max.bytes raises the defaults that must hold one message: librdkafka
// refuses a consumer whose fetch.max.bytes is set below it, and a producer could never queue
// a message larger than its queue (produce() would return QUEUE_FULL for ever).
TEST(MakeConf, ALargerMessageMaxBytesRaisesTheBoundsThatMustHoldOneMessage) {
  config::settings s;
  s.kafka_common["message.max.bytes"] = "20000000";
  rd_kafka_conf_t* c = make_conf(s, "127.0.0.1:1", client_kind::consumer);
  EXPECT_EQ(get(c, "fetch.max.bytes"), "20000000");
  expect_client_accepts(c, RD_KAFKA_CONSUMER);
  rd_kafka_conf_t* p = make_conf(s, "127.0.0.1:1", client_kind::producer);
  EXPECT_GE(std::stoll(get(p, "queue.buffering.max.kbytes")) * 1024, 20000000);
  expect_client_accepts(p, RD_KAFKA_PRODUCER);
  // Set explicitly below message.max.bytes, the user's value stays and librdkafka says why.
  s.kafka_consumer["fetch.max.bytes"] = "8388608";
  rd_kafka_conf_t* bad = make_conf(s, "127.0.0.1:1", client_kind::consumer);
  EXPECT_EQ(get(bad, "fetch.max.bytes"), "8388608");
  char err[512];
  rk_ptr rk(rd_kafka_new(RD_KAFKA_CONSUMER, bad, err, sizeof err));
  EXPECT_FALSE(rk);
  if (!rk) rd_kafka_conf_destroy(bad);
}

}  // namespace
}  // namespace cg::pipeline
