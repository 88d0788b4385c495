#pragma once
/// systemd's service notification protocol (Type=notify), without libsystemd: each
/// notification is one datagram of "KEY=VALUE" lines sent to the AF_UNIX socket named by
/// $NOTIFY_SOCKET (a path, or an abstract-namespace name when it starts with '@').
/// Nothing is sent when $NOTIFY_SOCKET is unset (not started by systemd).
#include <atomic>
#include <string>
#include <string_view>
#include <thread>

namespace cg::app {

/// Sends `state` (e.g. "READY=1\nSTATUS=processing") to $NOTIFY_SOCKET. Returns false when
/// the variable is unset or the datagram could not be sent. Thread-safe; never throws.
bool sd_notify(std::string_view state) noexcept;

/// Tells systemd how the processor is doing, from its own thread: STATUS= while connecting,
/// READY=1 once `running` (topics found, subscribed), STOPPING=1 as soon as `stopping` (the
/// SIGTERM/SIGINT flag) is set. Lifetime: both flags must outlive it; the destructor joins
/// the thread. Does nothing without $NOTIFY_SOCKET.
class sd_notifier {
 public:
  sd_notifier(const std::atomic<bool>& running, const std::atomic<bool>& stopping, std::string status);
  ~sd_notifier();
  sd_notifier(const sd_notifier&) = delete;
  sd_notifier& operator=(const sd_notifier&) = delete;

 private:
  const std::atomic<bool>& _running;
  const std::atomic<bool>& _stopping;
  std::string _status;
  std::atomic<bool> _done{false};
  std::thread _thread;
};

}  // namespace cg::app
