// A Slack interaction payload (handlers/slack_payload.hpp). Input: the payload's JSON text.
#include <cstdint>
#include <string_view>

#include "handlers/slack_payload.hpp"

using shipgate::handlers::SlackClick;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto click = shipgate::handlers::read_slack_click(payload, "https://hooks.slack.com/");
  if (click.kind == SlackClick::Kind::click &&
      (click.deployment <= 0 || click.user.empty() || click.response_url.rfind("https://hooks.slack.com/", 0) != 0))
    __builtin_trap();
  if (click.kind == SlackClick::Kind::malformed && click.error.empty()) __builtin_trap();
  return 0;
}
