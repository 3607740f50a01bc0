// Approving or rejecting a deployment, one way for every door (the API, the page, Slack's buttons):
// the `approve` permission, distinct reviewers, no self-approval, only while pending; refusals audited.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "handlers/app.hpp"

namespace shipgate::handlers {

// 200 {id, state, approvals, required} or {id, state: rejected}; 400 a rejection without a comment;
// 403 (audited) no permission or self-approval; 409 not pending; 503 the store failed.
boost::asio::awaitable<Response> review(const App& app, const config::Reviewer& reviewer,
                                        orchestration::Deployment deployment, bool approve, std::string comment);

}  // namespace shipgate::handlers
