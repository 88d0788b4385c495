#include "pipeline/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/format.h"
#include "emit/records.h"
#include "pipeline/kafka.h"

namespace cg::pipeline {

namespace {
std::atomic<int> g_min{static_cast<int>(level::info)};
std::mutex g_mu;
constexpr const char* names[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_log_level(level min) { g_min = static_cast<int>(min); }

void log(level lv, std::string_view msg) {
  if (static_cast<int>(lv) < g_min.load(std::memory_order_relaxed)) return;
  std::string line = "{\"ts\":";
  append_json_string(line, emit::iso8601_utc(now_ms()));
  line += ",\"level\":\"";
  line += names[static_cast<int>(lv)];
  line += "\",\"msg\":";
  append_json_string(line, msg);
  line += "}\n";
  std::lock_guard lk(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace cg::pipeline
