// The webhook request path, handlers to store: GitHub payload parsing (push, repository_dispatch,
// ping, platform pushes), build payloads, JSON and form bodies, with and without a valid signature.
// The first input byte picks the variant; the rest is the body.
#include <cstdint>
#include <string>

#include "common/crypto.hpp"
#include "fuzz/harness.hpp"
#include "handlers/intake.hpp"
#include "handlers/push_fields.hpp"
#include "handlers/signature.hpp"

using namespace shipgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& h = fuzz::Harness::get();
  const std::uint8_t mode = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  // A push is read by the streaming field reader; it must accept exactly what the document parser
  // accepts and read the same fields.
  {
    handlers::PushFields fields;
    handlers::Response error;
    const bool fast_ok = handlers::read_push_fields(body, handlers::kMaxJsonDepth, fields) == handlers::JsonCheck::ok;
    const auto doc = handlers::parse_json(body, error);
    if (fast_ok != doc.has_value()) __builtin_trap();
    if (doc && (fields.ref != handlers::str(*doc, "ref") || fields.after != handlers::str(*doc, "after") ||
                fields.repository != handlers::nested_str(*doc, "repository", "full_name") ||
                fields.sender_login != handlers::nested_str(*doc, "sender", "login") ||
                fields.pusher_name != handlers::nested_str(*doc, "pusher", "name") ||
                fields.deleted != (doc->contains("deleted") && (*doc)["deleted"].is_boolean() &&
                                   (*doc)["deleted"].get<bool>())))
      __builtin_trap();
  }
  static const char* kEvents[] = {"push", "repository_dispatch", "ping", "workflow_run"};
  handlers::Request req;
  req.method = "POST";
  req.request_id = "fuzz";
  const bool build = mode & 0x10;
  req.path = build ? "/webhooks/build" : "/webhooks/github";
  req.headers.emplace_back("Content-Type", (mode & 0x20) ? "application/x-www-form-urlencoded" : "application/json");
  req.headers.emplace_back("X-GitHub-Event", kEvents[mode & 3]);
  req.headers.emplace_back("X-GitHub-Delivery", random_hex(8));  // a new delivery: the store path runs
  if (build) req.headers.emplace_back("Idempotency-Key", random_hex(8));
  if (mode & 0x40) req.headers.emplace_back("X-Hub-Signature-256", "sha256=" + std::string(64, '0'));
  else if (!(mode & 0x80)) req.headers.emplace_back("X-Hub-Signature-256", handlers::sign_body(fuzz::kSecret, body));
  req.body = body;
  const auto res = h.handle(req);
  // Every answer is one of the documented ones, with a JSON body.
  switch (res.status) {
    case 200: case 202: case 400: case 401: case 415: case 503: break;
    case 404: if (build) break; __builtin_trap();  // /webhooks/build names an unknown project
    default: __builtin_trap();
  }
  if (res.status >= 400 && res.body.find("\"error\"") == std::string::npos) __builtin_trap();
  // Without a valid signature nothing is accepted (header checks may answer 400/415 first).
  if ((mode & 0xC0) && res.status < 300) __builtin_trap();
  return 0;
}
