#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace cg::config {
namespace {

TEST(Config, DefaultsAreSane) {
  const settings s = resolve({});
  EXPECT_EQ(s.input_topic, "contacts.upsert");
  EXPECT_EQ(s.accepted_topic, "contacts.accepted");
  EXPECT_EQ(s.rejected_topic, "contacts.rejected");
  EXPECT_TRUE(s.brokers.empty());
  EXPECT_GE(s.workers, 1u);
}

TEST(Config, StaticMembershipIsOnByDefaultWithAStableInstanceId) {
  const settings s = resolve({read_assignments({"kafka.group_id=orders"}, "command line")});
  EXPECT_TRUE(s.static_membership);
  EXPECT_EQ(s.group_instance_id, default_instance_name("orders"));
  EXPECT_EQ(s.group_instance_id.rfind("contactgate-orders-", 0), 0u);
  EXPECT_GT(s.group_instance_id.size(), std::string("contactgate-orders-").size());  // the host name
  EXPECT_EQ(resolve({}).group_instance_id, resolve({}).group_instance_id);           // stable across starts
}

TEST(Config, GroupInstanceIdCanBeSetOrTurnedOff) {
  EXPECT_EQ(resolve({read_assignments({"kafka.group_instance_id=node-2"}, "command line")}).group_instance_id,
            "node-2");
  const settings off = resolve({read_assignments({"kafka.static_membership=false"}, "command line")});
  EXPECT_FALSE(off.static_membership);
  EXPECT_TRUE(off.group_instance_id.empty());
  // The librdkafka property, when given, is the one used (and shown).
  const settings raw = resolve({read_assignments({"kafka.consumer.group.instance.id=raw-1"}, "command line")});
  EXPECT_EQ(raw.group_instance_id, "raw-1");
  EXPECT_THROW((void)resolve({read_assignments({"kafka.static_membership=yes"}, "command line")}), config_error);
  EXPECT_NE(to_toml(raw).find("group_instance_id = 'raw-1'"), std::string::npos);
}

TEST(Config, LaterLayersOverrideEarlierOnes) {
  const char* path = "/tmp/cg_config_test.toml";
  {
    std::ofstream f(path);
    f << "[kafka]\nbrokers = \"file:9092\"\ngroup_id = \"from-file\"\n[kafka.consumer]\n\"fetch.min.bytes\" = 10\n"
         "[pipeline]\nworkers = 3\n";
  }
  const layer file = read_toml_file(path);
  const layer flags = read_assignments({"kafka.brokers=flag:9092"}, "command line");
  const settings s = resolve({file, flags});
  EXPECT_EQ(s.brokers, "flag:9092");
  EXPECT_EQ(s.group_id, "from-file");
  EXPECT_EQ(s.workers, 3u);
  EXPECT_EQ(s.kafka_consumer.at("fetch.min.bytes"), "10");
  std::remove(path);
}

TEST(Config, EnvironmentVariablesAreRead) {
  setenv("CONTACTGATE_TOPICS_INPUT", "from-env", 1);
  const settings s = resolve({read_environment()});
  unsetenv("CONTACTGATE_TOPICS_INPUT");
  EXPECT_EQ(s.input_topic, "from-env");
}

TEST(Config, UnknownKeysAndBadValuesAreErrorsNamingKeyAndSource) {
  try {
    (void)resolve({read_assignments({"pipeline.wrokers=2"}, "command line")});
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("pipeline.wrokers"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("command line"), std::string::npos);
  }
  EXPECT_THROW((void)resolve({read_assignments({"pipeline.workers=many"}, "x")}), config_error);
  EXPECT_THROW((void)resolve({read_assignments({"limits.max_depth=1"}, "x")}), config_error);
  EXPECT_THROW((void)resolve({read_assignments({"topics.accepted=contacts.upsert"}, "x")}), config_error);
  EXPECT_THROW((void)read_assignments({"novalue"}, "x"), config_error);
}

TEST(Config, MaxInFlightBytesHasADefaultARangeAndIsPrinted) {
  EXPECT_EQ(resolve({}).max_in_flight_bytes, std::size_t{64} << 20);
  const settings s = resolve({read_assignments({"pipeline.max_in_flight_bytes=16777216"}, "x")});
  EXPECT_EQ(s.max_in_flight_bytes, std::size_t{16} << 20);
  EXPECT_NE(to_toml(s).find("max_in_flight_bytes = 16777216"), std::string::npos) << to_toml(s);
  EXPECT_EQ(resolve({read_assignments({"pipeline.max_in_flight_bytes=1048576"}, "x")}).max_in_flight_bytes,
            std::size_t{1} << 20);
  EXPECT_EQ(resolve({read_assignments({"pipeline.max_in_flight_bytes=68719476736"}, "x")}).max_in_flight_bytes,
            std::size_t{1} << 36);
  for (const char* bad : {"0", "1048575", "68719476737", "-1", "64MiB", ""}) {
    try {
      (void)resolve({read_assignments({std::string("pipeline.max_in_flight_bytes=") + bad}, "command line")});
      FAIL() << bad;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("pipeline.max_in_flight_bytes"), std::string::npos) << e.what();
    }
  }
  setenv("CONTACTGATE_PIPELINE_MAX_IN_FLIGHT_BYTES", "2097152", 1);
  const settings env = resolve({read_environment()});
  unsetenv("CONTACTGATE_PIPELINE_MAX_IN_FLIGHT_BYTES");
  EXPECT_EQ(env.max_in_flight_bytes, std::size_t{2} << 20);
}

TEST(Config, PipelineModes) {
  EXPECT_EQ(resolve({}).mode, "validate");
  for (const char* m : {"validate", "passthrough", "passthrough_headers"}) {
    const settings s = resolve({read_assignments({std::string("pipeline.mode=") + m}, "x")});
    EXPECT_EQ(s.mode, m);
    EXPECT_NE(to_toml(s).find(std::string("mode = '") + m + "'"), std::string::npos) << to_toml(s);
  }
  for (const char* bad : {"passthrough-headers", "headers", ""}) {
    EXPECT_THROW((void)resolve({read_assignments({std::string("pipeline.mode=") + bad}, "x")}), config_error) << bad;
  }
}

TEST(Config, TomlSyntaxErrorNamesLine) {
  const char* path = "/tmp/cg_config_bad.toml";
  {
    std::ofstream f(path);
    f << "[kafka]\nbrokers = \n";
  }
  try {
    (void)read_toml_file(path);
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find(":2:"), std::string::npos) << e.what();
  }
  std::remove(path);
}

TEST(Config, SecretsAreRedacted) {
  const settings s = resolve({read_assignments(
      {"kafka.common.sasl.password=hunter2", "kafka.common.ssl.key.password=k", "kafka.producer.sasl.username=bob"},
      "x")});
  const std::string out = to_toml(s);
  EXPECT_EQ(out.find("hunter2"), std::string::npos);
  EXPECT_NE(out.find("<redacted>"), std::string::npos);
  EXPECT_NE(out.find("bob"), std::string::npos);
}

}  // namespace
}  // namespace cg::config
