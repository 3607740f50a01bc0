// GitHub Actions jobs that shipgate gates as a GitHub App: a deployment_protection_rule request
// becomes a deployment (trigger github_actions) that waits at the gate, and the deployment_status
// events of its GitHub deployment end it once GitHub Actions has deployed. Both arrive through
// POST /webhooks/github, verified and parsed there.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>

#include "handlers/app.hpp"

namespace shipgate::handlers {

// A verified delivery of one of the two events, for the project of `repository`.
struct ActionsDelivery {
  std::string key;         // the delivery's store key (a repeated delivery is answered once)
  std::string repository;  // owner/name
  std::string signed_by;   // the project whose own secret verified it, or empty
  const boost::json::object* body = nullptr;
};

boost::asio::awaitable<Response> handle_protection_rule(const App& app, const Request& req, ActionsDelivery delivery);
boost::asio::awaitable<Response> handle_deployment_status(const App& app, const Request& req, ActionsDelivery delivery);

}  // namespace shipgate::handlers
