#pragma once
/// The HTTP endpoint (Boost.Beast): GET /metrics, /healthz, /readyz, /api/summary and the
/// dashboard page at /. Binds 127.0.0.1 by default (settings http.address / http.port).
///
/// Threading: one server thread accepts and answers requests one at a time (each read has
/// a 5 s timeout, so a slow client cannot hold it). Lifetime: borrows the monitor, which
/// must outlive it. Errors: start() throws std::runtime_error if the address cannot be bound.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace cg::metrics {

class monitor;

struct http_response {
  int status{200};
  std::string content_type{"text/plain; charset=utf-8"};
  std::string body;
};

/// Routes a GET path to a response (exposed for tests).
using http_handler = std::function<http_response(const std::string& path)>;

[[nodiscard]] http_handler make_routes(const monitor& m);

class http_server {
 public:
  http_server(std::string address, unsigned short port, http_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  void start();
  void stop();
  /// The bound port (useful with port 0).
  [[nodiscard]] unsigned short port() const noexcept { return _bound_port; }

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
  unsigned short _bound_port{0};
};

}  // namespace cg::metrics
