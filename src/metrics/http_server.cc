#include "metrics/http_server.h"
#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <stdexcept>

#include "metrics/monitor.h"

namespace cg::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace generated {
extern const char* const dashboard_html;
}

http_handler make_routes(const monitor& m) {
  return [&m](const std::string& target) {
    const std::string path = target.substr(0, target.find('?'));
    http_response r;
    if (path == "/metrics") {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = m.prometheus_text();
    } else if (path == "/healthz") {
      r.body = "ok\n";
    } else if (path == "/readyz") {
      std::string why;
      const bool ok = m.ready(why);
      r.status = ok ? 200 : 503;
      r.body = (ok ? "ready: " : "not ready: ") + why + "\n";
    } else if (path == "/api/summary") {
      r.content_type = "application/json";
      r.body = m.summary_json();
    } else if (path == "/v1/support/recent-internal-errors") {
      r.content_type = "application/json";
      r.body = m.recent_internal_errors_json();
    } else if (path == "/" || path == "/index.html") {
      r.content_type = "text/html; charset=utf-8";
      r.body = generated::dashboard_html;
    } else {
      r.status = 404;
      r.body = "not found: try /, /metrics, /healthz, /readyz, /api/summary, /v1/support/recent-internal-errors\n";
    }
    return r;
  };
}

struct http_server::impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  http_handler handler;
  std::thread thread;
  std::atomic<bool> stopping{false};

  void serve_one(tcp::socket& sock) {
    struct timeval tv {
      5, 0
    };
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(sock, buf, req, ec);
    if (ec) return;
    http::response<http::string_body> res;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::content_type, "text/plain");
      res.body() = "only GET\n";
    } else {
      const http_response r = handler(std::string(req.target()));
      res.result(static_cast<unsigned>(r.status));
      res.set(http::field::content_type, r.content_type);
      res.set(http::field::cache_control, "no-store");
      res.body() = r.body;
    }
    res.version(req.version());
    res.keep_alive(false);
    res.prepare_payload();
    http::write(sock, res, ec);
    sock.shutdown(tcp::socket::shutdown_send, ec);
  }

  void loop() {
    while (!stopping.load()) {
      tcp::socket sock(io);
      beast::error_code ec;
      acceptor.accept(sock, ec);
      if (ec) {
        if (stopping.load()) return;
        continue;
      }
      serve_one(sock);
    }
  }
};

http_server::http_server(std::string address, unsigned short port, http_handler handler)
    : _impl(std::make_unique<impl>()) {
  _impl->handler = std::move(handler);
  beast::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("http.address '" + address + "' is not an IP address");
  tcp::endpoint ep(addr, port);
  _impl->acceptor.open(ep.protocol(), ec);
  if (!ec) _impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) _impl->acceptor.bind(ep, ec);
  if (!ec) _impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  _bound_port = _impl->acceptor.local_endpoint().port();
}

http_server::~http_server() { stop(); }

void http_server::start() {
  _impl->thread = std::thread([this] { _impl->loop(); });
}

void http_server::stop() {
  if (!_impl || _impl->stopping.exchange(true)) return;
  beast::error_code ec;
  // Wake the blocking accept() with a connection to ourselves, then close.
  try {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(_impl->acceptor.local_endpoint(), ec);
  } catch (...) {
  }
  if (_impl->thread.joinable()) _impl->thread.join();
  _impl->acceptor.close(ec);
}

}  // namespace cg::metrics
