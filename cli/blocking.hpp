// One outbound HTTP exchange from a command-line command, run to its end on a fresh io_context.
#pragma once
#include "http/http_client.hpp"

namespace shipgate::cli {

// Sends `req` with `client` and waits for the outcome (bounded by the request's own timeouts).
http::HttpResult send_and_wait(http::HttpClient& client, http::OutboundRequest req);

}  // namespace shipgate::cli
