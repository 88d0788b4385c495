#pragma once
/// The Kafka commands: run, demo, produce, topics create, config check.
#include <cstdint>
#include <string>

#include <vector>
#include "config/config.h"

namespace cg::app {

/// Where settings come from: --config FILE, CONTACTGATE_* variables, --set/-X/flags.
struct config_sources {
  std::string file;
  std::vector<std::string> sets;         ///< "section.key=value"
  std::vector<std::string> kafka_props;  ///< -X "prop=value" -> kafka.common.prop
};

/// The effective settings from these sources (throws config::config_error).
[[nodiscard]] config::settings load_settings(const config_sources& src);

[[nodiscard]] int run_processor(const config_sources& src);
[[nodiscard]] int run_demo(const config_sources& src, std::size_t count, double invalid_ratio);
[[nodiscard]] int run_produce(const config_sources& src, std::size_t count, double rate, double invalid_ratio,
                              std::uint64_t seed, double array_ratio, double bulk_ratio);
[[nodiscard]] int run_topics_create(const config_sources& src);
[[nodiscard]] int run_config_check(const config_sources& src);

}  // namespace cg::app
