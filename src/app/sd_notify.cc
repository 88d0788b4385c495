#include "app/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace cg::app {

bool sd_notify(std::string_view state) noexcept {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len < 2 || len >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counts
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t n =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return n == static_cast<ssize_t>(state.size());
}

sd_notifier::sd_notifier(const std::atomic<bool>& running, const std::atomic<bool>& stopping, std::string status)
    : _running(running), _stopping(stopping), _status(std::move(status)) {
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
  sd_notify("STATUS=connecting to Kafka");
  _thread = std::thread([this] {
    bool ready = false;
    for (;;) {
      if (_stopping.load()) {  // checked before _done: a fast drain must still say STOPPING=1
        // systemd then waits for the exit (TimeoutStopSec) instead of considering the drain a hang.
        sd_notify("STOPPING=1\nSTATUS=stopping: finishing in-flight work, committing");
        return;
      }
      if (_done.load()) return;
      if (!ready && _running.load()) {
        sd_notify("READY=1\nSTATUS=" + _status);
        ready = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

sd_notifier::~sd_notifier() {
  _done.store(true);
  if (_thread.joinable()) _thread.join();
}

}  // namespace cg::app
