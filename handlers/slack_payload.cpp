#include "handlers/slack_payload.hpp"

#include <algorithm>
#include <cctype>

#include "handlers/json_body.hpp"
#include "handlers/params.hpp"

namespace shipgate::handlers {

namespace {

bool safe_id(std::string_view s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

bool url_characters(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

SlackClick malformed(std::string why) {
  SlackClick c;
  c.error = std::move(why);
  return c;
}

}  // namespace

SlackClick read_slack_click(std::string_view payload_json, std::string_view response_url_prefix) {
  Response error;
  auto payload = parse_json(payload_json, error);
  if (!payload) return malformed("the payload is not a JSON object");
  if (str(*payload, "type") != "block_actions") {
    SlackClick other;
    other.kind = SlackClick::Kind::other;
    return other;
  }
  SlackClick c;
  c.user = nested_str(*payload, "user", "id");
  c.response_url = str(*payload, "response_url");
  const auto* actions = payload->if_contains("actions");
  if (!safe_id(c.user) || !actions || !actions->is_array() || actions->as_array().empty() ||
      !actions->as_array()[0].is_object())
    return malformed("payload needs user.id and actions[0]");
  const auto& action = actions->as_array()[0].as_object();
  const std::string verb = str(action, "action_id");
  const auto id = parse_integer(str(action, "value"), 1, INT64_MAX);
  if ((verb != "approve" && verb != "reject") || !id) return malformed("unknown action");
  if (c.response_url.size() > 1000 || c.response_url.rfind(response_url_prefix, 0) != 0 || !url_characters(c.response_url))
    return malformed("response_url is not Slack's");
  c.kind = SlackClick::Kind::click;
  c.approve = verb == "approve";
  c.deployment = *id;
  return c;
}

}  // namespace shipgate::handlers
