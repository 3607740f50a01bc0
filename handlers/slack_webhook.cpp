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

Response unauthenticated(std::string_view code, std::string_view why) {
  auto r = error_response(401, code, why);
  r.failed_authentication = true;
  return r;
}

// Slack's signature over the timestamp and the body, and a timestamp within 5 minutes of `now_s`: the
// 401 to answer, or nothing when Slack sent the request.
std::optional<Response> slack_refusal(const Request& req, const std::string& signing_secret, std::int64_t now_s) {
  const auto ts_text = std::string(req.header("X-Slack-Request-Timestamp"));
  const auto ts = parse_integer(ts_text, 0, INT64_MAX);
  const std::string signature(req.header("X-Slack-Signature"));
  if (!ts || signature.empty())
    return unauthenticated("bad_signature", "X-Slack-Request-Timestamp and X-Slack-Signature are required");
  if (*ts < now_s - kMaxSkewSeconds || *ts > now_s + kMaxSkewSeconds)
    return unauthenticated("stale", "the request's timestamp is more than 5 minutes from now");
  if (!slack_signature_valid(signature, signing_secret, ts_text, req.body))
    return unauthenticated("bad_signature", "X-Slack-Signature does not match the body");
  return std::nullopt;
}

// What the channel sees after a decision the API accepted (`body` is its answer). Still waiting for more
// approvals: the buttons stay for the next reviewer and the count goes beside them.
// `where` names the deployment ("project/environment version").
json decision_message(const std::string& where, const std::string& reviewer, bool approve, const json& body) {
  const bool waiting = json_read::text(body, "state") == "pending_approval";
  std::string text;
  if (!approve) text = ":no_entry: " + where + " rejected by " + reviewer;
  else if (waiting)
    text = ":ballot_box_with_check: " + where + ": approved by " + reviewer + " (" +
           std::to_string(json_read::integer(body, "approvals")) + " of " +
           std::to_string(json_read::integer(body, "required")) + ")";
  else text = ":white_check_mark: " + where + " approved by " + reviewer + ": deploying";
  return waiting ? json{{"response_type", "in_channel"}, {"replace_original", false}, {"text", text}}
                 : json{{"replace_original", true}, {"text", text}};
}

// The clicking user's decision, with the same rules as the API; what people see goes to response_url.
boost::asio::awaitable<void> decide(const App& app, const config::Config& config, const SlackClick& click) {
  const auto ex = co_await boost::asio::this_coro::executor;
  const auto mapped = config.slack->users.find(click.user);
  const config::Reviewer* reviewer = mapped == config.slack->users.end() ? nullptr : config.reviewer(mapped->second);
  if (!reviewer) {
    notify::send_slack_reply(ex, app.http, click.response_url,
                             ephemeral("Your Slack user " + click.user + " is not a shipgate reviewer, so nothing " +
                                       "was done. Ask whoever runs shipgate to map it under slack.users."));
    co_return;
  }
  auto d = co_await app.store->deployment(click.deployment, false);
  if (!d || !*d || !reviewer->may(config::Permission::view, (*d)->project)) {
    notify::send_slack_reply(ex, app.http, click.response_url,
                             ephemeral("Deployment " + std::to_string(click.deployment) + " is not one you can see."));
    co_return;
  }
  const std::string where = (*d)->project + "/" + (*d)->environment + " " + (*d)->version;
  std::string comment = click.approve ? "approved in Slack" : "rejected in Slack by " + reviewer->name;
  auto outcome = co_await review(app, *reviewer, std::move(**d), click.approve, std::move(comment));
  const auto body = json_read::parse(outcome.body);
  if (outcome.status != 200) {
    notify::send_slack_reply(ex, app.http, click.response_url,
                             ephemeral("Not " + std::string(click.approve ? "approved" : "rejected") + ": " +
                                       json_read::text(body, "message", "refused")));
    co_return;
  }
  notify::send_slack_reply(ex, app.http, click.response_url, decision_message(where, reviewer->name, click.approve, body));
}

boost::asio::awaitable<Response> handle_slack(const App& app, Request& req) {
  const auto config = app.config();
  if (!config->slack) co_return error_response(404, "not_found", "Slack buttons are not configured (slack: in the config)");
  if (auto refusal = slack_refusal(req, config->slack->signing_secret, epoch_ms(app.clock->now()) / 1000))
    co_return std::move(*refusal);
  std::string payload_text;
  if (!form_field(req.body, "payload", payload_text))
    co_return error_response(400, "malformed", "the body must be a form with a payload field");
  const auto click = read_slack_click(payload_text, config->slack->response_url_prefix);
  if (click.kind == SlackClick::Kind::other) co_return acknowledged();  // nothing of ours to act on
  if (click.kind == SlackClick::Kind::malformed) co_return error_response(400, "malformed", click.error);
  co_await decide(app, *config, click);
  co_return acknowledged();
}

}  // namespace

void add_slack_routes(Router& router, const App& app) {
  router.add("POST", "/webhooks/slack", RouteKind::webhook, [&app](Request& r) { return handle_slack(app, r); }, "slack");
}

}  // namespace shipgate::handlers
