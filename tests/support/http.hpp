// Test-side HTTP: a blocking client, a raw socket for hostile clients, and a stand-in server that
// answers from a handler function and records every request.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string error;  // with status 0: which step failed and why
  Headers headers;
  std::string body;
  std::string header(const std::string& name) const;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One request on a fresh connection, with a 30 s overall timeout.
Reply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                   const Headers& headers = {}, const std::string& body = {});

struct TlsClientOptions {
  std::string ca_file;    // trust anchor for the server certificate
  std::string cert_file;  // optional client certificate
  std::string key_file;
  bool max_tls12 = false;  // offer nothing newer than TLS 1.2
};

// One request over HTTPS to 127.0.0.1 (server name "localhost" is not sent; the IP SAN is checked).
// status 0 with `tls_error` set when the handshake or verification failed.
struct TlsReply : Reply {
  std::string tls_error;
  std::string protocol;  // negotiated, e.g. "TLSv1.3"
};
TlsReply https_request(std::uint16_t port, const TlsClientOptions& tls, const std::string& method,
                       const std::string& target, const Headers& headers = {}, const std::string& body = {});

// Raw TCP connection to 127.0.0.1 for clients that misbehave on purpose.
class RawConnection {
 public:
  // `source`: the local address to connect from (any 127.x.y.z is this machine's loopback), to act as
  // several clients.
  explicit RawConnection(std::uint16_t port, const std::string& source = "");
  ~RawConnection();
  bool send(const std::string& bytes);  // false once the peer closed
  // Reads until the peer closes or `timeout` passes.
  std::string read_all(std::chrono::milliseconds timeout);
  // Reads until what was read contains `needle`, the peer closes, or `timeout` passes.
  std::string read_until(std::string_view needle, std::chrono::milliseconds timeout);
  // Whether the peer closed the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

struct RecordedRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
  std::string header(const std::string& name) const;
};

// The value of `name` in a query string ("a=1&b=2"), as sent (not percent-decoded); "" when absent.
std::string query_value(const std::string& query, const std::string& name);

struct StandinReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  Headers headers;
  // A streamed answer (chunked, as a Kubernetes watch): asked every few milliseconds for what to send
  // next; "" is nothing yet, nullopt ends the answer. `body` is sent first.
  std::function<std::optional<std::string>()> stream;
};

// An HTTP server on 127.0.0.1 with its own threads. Optionally TLS with the given PEM files.
class StandinServer {
 public:
  using Handler = std::function<StandinReply(const RecordedRequest&)>;
  explicit StandinServer(Handler handler, std::uint16_t port = 0, std::string cert_file = {}, std::string key_file = {});
  ~StandinServer();
  std::uint16_t port() const;
  std::string url() const;
  std::vector<RecordedRequest> requests() const;
  std::size_t count(const std::string& method, const std::string& target_prefix) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace shipgate::testing
