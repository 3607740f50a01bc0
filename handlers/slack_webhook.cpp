// POST /webhooks/slack: a click on the Approve or Reject button of a pending_approval message. Slack signs
// each request (X-Slack-Signature: v0=HMAC-SHA256(signing_secret, "v0:" + X-Slack-Request-Timestamp + ":" +
// body)); a timestamp more than 5 minutes from now is refused, so a captured request cannot be replayed.
// The clicking Slack user must be mapped to a reviewer (slack.users), who then approves or rejects with
// the same rules as the API. The outcome goes back to the message through the request's response_url
// (only under slack.response_url_prefix): the buttons are replaced by who decided, or the clicker alone
// is told why not.
#include <spdlog/spdlog.h>

#include "common/crypto.hpp"
#include "common/json_read.hpp"
#include "common/supervised.hpp"
#include "common/text.hpp"
#include "handlers/app.hpp"
#include "handlers/intake.hpp"
#include "handlers/json_body.hpp"
#include "handlers/params.hpp"
#include "handlers/review.hpp"
#include "handlers/signature.hpp"
#include "handlers/slack_payload.hpp"
#include "notify/slack_reply.hpp"

namespace shipgate::handlers {

namespace {

using nlohmann::json;
constexpr std::int64_t kMaxSkewSeconds = 5 * 60;

// The answer to Slack itself is always quick and empty; what people see goes to response_url.
Response acknowledged() {
  Response r;
  r.status = 200;
  r.body.clear();
  r.content_type = "text/plain";
  return r;
}

json ephemeral(std::string text) {
  return {{"response_type", "ephemeral"}, {"replace_original", false}, {"text", std::move(text)}};
}

boost::asio::awaitable<Response> handle_slack(const App& app, Request& req) {
  const auto ex = co_await boost::asio::this_coro::executor;
  const auto config = app.config();
  if (!config->slack) co_return error_response(404, "not_found", "Slack buttons are not configured (slack: in the config)");
  const auto& slack = *config->slack;
  const auto ts_text = std::string(req.header("X-Slack-Request-Timestamp"));
  const auto ts = parse_integer(ts_text, 0, INT64_MAX);
  const std::string signature(req.header("X-Slack-Signature"));
  if (!ts || signature.empty()) {
    auto r = error_response(401, "bad_signature", "X-Slack-Request-Timestamp and X-Slack-Signature are required");
    r.failed_authentication = true;
    co_return r;
  }
  const auto now = epoch_ms(app.clock->now()) / 1000;
  if (*ts < now - kMaxSkewSeconds || *ts > now + kMaxSkewSeconds) {
    auto r = error_response(401, "stale", "the request's timestamp is more than 5 minutes from now");
    r.failed_authentication = true;
    co_return r;
  }
  if (!slack_signature_valid(signature, slack.signing_secret, ts_text, req.body)) {
    auto r = error_response(401, "bad_signature", "X-Slack-Signature does not match the body");
    r.failed_authentication = true;
    co_return r;
  }

  std::string payload_text;
  if (!form_field(req.body, "payload", payload_text))
    co_return error_response(400, "malformed", "the body must be a form with a payload field");
  const auto click = read_slack_click(payload_text, slack.response_url_prefix);
  if (click.kind == SlackClick::Kind::other) co_return acknowledged();  // nothing of ours to act on
  if (click.kind == SlackClick::Kind::malformed) co_return error_response(400, "malformed", click.error);
  const std::string& user = click.user;
  const std::string& response_url = click.response_url;
  const auto id = std::optional<std::int64_t>(click.deployment);

  const auto mapped = slack.users.find(user);
  const config::Reviewer* reviewer = mapped == slack.users.end() ? nullptr : config->reviewer(mapped->second);
  if (!reviewer) {
    notify::send_slack_reply(ex, app.http, response_url, ephemeral("Your Slack user " + user + " is not a shipgate reviewer, so nothing was " +
                                       "done. Ask whoever runs shipgate to map it under slack.users."));
    co_return acknowledged();
  }
  auto d = co_await app.store->deployment(*id, false);
  if (!d || !*d || !reviewer->may(config::Permission::view, (*d)->project)) {
    notify::send_slack_reply(ex, app.http, response_url, ephemeral("Deployment " + std::to_string(*id) + " is not one you can see."));
    co_return acknowledged();
  }
  const std::string where = (*d)->project + "/" + (*d)->environment + " " + (*d)->version;
  const bool approve = click.approve;
  std::string comment = approve ? "approved in Slack" : "rejected in Slack by " + reviewer->name;
  auto outcome = co_await review(app, *reviewer, std::move(**d), approve, std::move(comment));
  const auto body = json_read::parse(outcome.body);
  if (outcome.status != 200) {
    notify::send_slack_reply(ex, app.http, response_url, ephemeral("Not " + std::string(approve ? "approved" : "rejected") + ": " +
                                       json_read::text(body, "message", "refused")));
    co_return acknowledged();
  }
  // Still waiting for more approvals: keep the buttons for the next reviewer and say so beside them.
  const bool waiting = json_read::text(body, "state") == "pending_approval";
  std::string text;
  if (!approve) text = ":no_entry: " + where + " rejected by " + reviewer->name;
  else if (waiting)
    text = ":ballot_box_with_check: " + where + ": approved by " + reviewer->name + " (" +
           std::to_string(json_read::integer(body, "approvals")) + " of " + std::to_string(json_read::integer(body, "required")) + ")";
  else text = ":white_check_mark: " + where + " approved by " + reviewer->name + ": deploying";
  json message = waiting ? json{{"response_type", "in_channel"}, {"replace_original", false}, {"text", text}}
                         : json{{"replace_original", true}, {"text", text}};
  notify::send_slack_reply(ex, app.http, response_url, message);
  co_return acknowledged();
}

}  // namespace

void add_slack_routes(Router& router, const App& app) {
  router.add("POST", "/webhooks/slack", RouteKind::webhook, [&app](Request& r) { return handle_slack(app, r); }, "slack");
}

}  // namespace shipgate::handlers
