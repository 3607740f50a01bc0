// What a Slack interaction payload (the `payload` form field of a button click) says, read without
// trusting its shape: docs/protocols.md, Slack.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace shipgate::handlers {

struct SlackClick {
  enum class Kind { click, other, malformed } kind = Kind::malformed;
  std::string user;           // the clicking Slack user's id
  bool approve = false;       // Approve (else Reject)
  std::int64_t deployment = 0;
  std::string response_url;   // under the configured prefix
  std::string error;          // why it is malformed
};

// `other`: a payload of another type (nothing of shipgate's to act on).
SlackClick read_slack_click(std::string_view payload_json, std::string_view response_url_prefix);

}  // namespace shipgate::handlers
