// The request and response that pass between the server and the handlers: plain data, no sockets, no
// Beast. The server converts to and from the wire, so every handler is testable by calling it with a
// Request. Neither side includes the other: both use this room.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace shipgate::http {

struct Request {
  std::string method;
  std::string path;   // decoded path without the query
  std::string query;  // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  bool over_tls = false;                      // arrived over HTTPS (cookies are then marked Secure)
  std::map<std::string, std::string> params;  // path parameters filled by the router

  std::string_view header(std::string_view name) const;  // case-insensitive; empty when absent
  bool has_header(std::string_view name) const;
  // Decoded query parameter; empty when absent.
  std::string query_param(std::string_view name) const;
};

// Where a streamed answer writes its chunks (Server-Sent Events). The server owns the connection.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // false when the client is gone or did not take the chunk within the write timeout.
  virtual boost::asio::awaitable<bool> write(std::string chunk) = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
  // What the server counts, said by the side that knows:
  bool duplicate = false;              // a repeated delivery, answered as before
  bool failed_authentication = false;  // a token that was missing or wrong (counts toward the lockout)
  std::string outcome;                 // webhook routes: accepted, duplicate, ignored, bad_signature, ...
  // Set for an answer written as it is produced: the server sends the header (chunked, no keep-alive),
  // then runs this until it returns; `body` is ignored.
  std::function<boost::asio::awaitable<void>(ChunkSink&)> stream;
};

Response json_response(int status, const nlohmann::json& body);
// Every error body has the same shape: {"error": "<code>", "message": "<why>"}.
Response error_response(int status, std::string_view code, std::string_view message);

}  // namespace shipgate::http
