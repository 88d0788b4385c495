#include "pipeline/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/format.h"
#include "emit/records.h"

namespace cg::pipeline {

namespace {

// Under systemd with stderr connected to the journal ($JOURNAL_STREAM is "device:inode" of
// that stream), journald reads a syslog priority "<N>" at the start of a line as the entry's
// PRIORITY (error 3, warning 4, info 6, debug 7), so `journalctl -p warning` works.
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (js == nullptr || fstat(STDERR_FILENO, &st) != 0) return false;
  return std::string(js) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

class syslog_priority_flag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& m, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view p = m.level >= spdlog::level::err    ? "<3>"
                               : m.level == spdlog::level::warn ? "<4>"
                               : m.level == spdlog::level::info ? "<6>"
                                                                : "<7>";
    dest.append(p.data(), p.data() + p.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<syslog_priority_flag>();
  }
};

std::shared_ptr<spdlog::logger> make_logger() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto lg = std::make_shared<spdlog::logger>("contactgate", sink);
  // One JSON object per line; the message part is escaped JSON built by log().
  auto fmt = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  fmt->add_flag<syslog_priority_flag>('*');
  fmt->set_pattern(std::string(stderr_is_journal() ? "%*" : "") + R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})");
  lg->set_formatter(std::move(fmt));
  lg->set_level(spdlog::level::info);
  lg->flush_on(spdlog::level::info);
  return lg;
}

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> lg = make_logger();
  return *lg;
}

// Phone numbers are personal data: mask every '+' followed by 7 or more digits.
std::string mask_phones(std::string_view msg) {
  std::string out;
  out.reserve(msg.size());
  for (std::size_t i = 0; i < msg.size();) {
    if (msg[i] == '+') {
      std::size_t j = i + 1;
      while (j < msg.size() && msg[j] >= '0' && msg[j] <= '9') ++j;
      if (j - i - 1 >= 7) {
        out += mask_phone(msg.substr(i, j - i));
        i = j;
        continue;
      }
    }
    out.push_back(msg[i++]);
  }
  return out;
}

// Repeated messages (same text once digits are ignored) are logged at most once per
// 10 s; the next one says how many were suppressed.
struct rate_limiter {
  struct entry {
    std::chrono::steady_clock::time_point last;
    std::uint64_t suppressed{0};
  };
  std::mutex mu;
  std::unordered_map<std::string, entry> seen;

  // Returns false to drop; sets `repeated` to the suppressed count to report.
  bool admit(std::string_view msg, std::uint64_t& repeated) {
    std::string key;
    for (char c : msg) {
      if (c < '0' || c > '9') key.push_back(c);
    }
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lk(mu);
    if (seen.size() > 10000) seen.clear();  // bounded memory
    auto [it, fresh] = seen.try_emplace(key, entry{now, 0});
    if (fresh) return true;
    if (now - it->second.last < std::chrono::seconds(10)) {
      ++it->second.suppressed;
      return false;
    }
    repeated = it->second.suppressed;
    it->second = entry{now, 0};
    return true;
  }
};

rate_limiter& limiter() {
  static rate_limiter r;
  return r;
}

}  // namespace

void set_log_level(level min) {
  static constexpr spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                      spdlog::level::err};
  logger().set_level(map[static_cast<int>(min)]);
}

void log(level lv, std::string_view msg) {
  static constexpr spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                      spdlog::level::err};
  const auto sl = map[static_cast<int>(lv)];
  if (!logger().should_log(sl)) return;
  std::uint64_t repeated = 0;
  if (lv >= level::warn && !limiter().admit(msg, repeated)) return;
  std::string body = "\"msg\":";
  append_json_string(body, mask_phones(msg));
  if (repeated > 0) {
    body += ",\"repeated\":";
    append_int(body, static_cast<long long>(repeated));
  }
  logger().log(sl, body);
}

}  // namespace cg::pipeline
