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
    boost::json::value doc;
    const auto check = handlers::parse_object(body, doc);
    if (handlers::read_push_fields(body, fields) != check) __builtin_trap();
    if (check == handlers::JsonCheck::ok) {
      const auto& o = doc.as_object();
      if (fields.ref != handlers::str(o, "ref") || fields.after != handlers::str(o, "after") ||
          fields.repository != handlers::nested_str(o, "repository", "full_name") ||
          fields.sender_login != handlers::nested_str(o, "sender", "login") ||
          fields.pusher_name != handlers::nested_str(o, "pusher", "name") || fields.project != handlers::str(o, "project") ||
          fields.deleted != handlers::is_true(o, "deleted"))
        __builtin_trap();
    }
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
