// An outbound HTTP client for unit tests: each request is answered by a function of the test (by URL,
// method and body), in process, with no socket. Requests are kept for assertions.
#pragma once
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_client.hpp"

namespace shipgate::testing {

class ScriptedHttp final : public http::HttpClient {
 public:
  using Answer = std::function<http::HttpResult(const http::OutboundRequest&)>;
  explicit ScriptedHttp(Answer answer) : answer_(std::move(answer)) {}

  boost::asio::awaitable<http::HttpResult> send(http::OutboundRequest request) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    auto result = answer_(request);
    if (result && request.on_body) {  // a streamed answer is handed over as it would arrive
      request.on_body(result->body);
      result->body.clear();
    }
    co_return result;
  }

  std::vector<http::OutboundRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  static http::HttpResult reply(int status, std::string body, http::Headers headers = {}) {
    http::OutboundResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

 private:
  Answer answer_;
  mutable std::mutex mutex_;
  std::vector<http::OutboundRequest> requests_;
};

}  // namespace shipgate::testing
