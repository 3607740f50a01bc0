// The PostgreSQL store's gate writes: a reviewer's approval (counted once per reviewer; the last
// required one queues the deployment, as plan_approval says) and the expiry of approvals not given in time.
#include "store/postgres/pg_writes.hpp"

#include "domain/gate_policy.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using Params = std::vector<std::optional<std::string>>;

namespace {


}  // namespace

asio::awaitable<Result<ApprovalOutcome>> PgWrites::approve(PgConnection& c, const ApprovalRequest& req) {
  const std::int64_t now = epoch_ms(clock_->now());
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return failed(begun.error());
  auto outcome = co_await approve_body(c, req, now);
  if (outcome) {
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return failed(committed.error());
    co_return outcome;
  }
  co_await c.roll_back();
  co_return outcome;
}

asio::awaitable<Result<ApprovalOutcome>> PgWrites::approve_body(PgConnection& c, const ApprovalRequest& req,
                                                                std::int64_t now) {
  // The row lock makes concurrent approvals count one after the other, so the last one queues it once.
  const std::string read = "SELECT state, project, environment FROM deployments WHERE id = $1 FOR UPDATE";
  Params id{text(req.id)};
  auto row = co_await c.query(read, id);
  if (!row) co_return failed(row.error());
  if (row->size() == 0) co_return make_error_code(StoreErrc::not_found);
  ApprovalOutcome out;
  out.state = parse_state(row->text(0, 0)).value_or(State::failed);
  const std::string project = row->text(0, 1), environment = row->text(0, 2);
  if (out.state != State::pending_approval) {
    out.kind = ApprovalOutcome::Kind::not_pending;
    co_return out;
  }
  const std::string insert = "INSERT INTO approvals (deployment_id, reviewer, at, comment) VALUES ($1, $2, $3, $4) "
                             "ON CONFLICT (deployment_id, reviewer) DO NOTHING";
  Params p{text(req.id), req.reviewer, text(now), req.comment};
  auto inserted = co_await c.query(insert, p);
  if (!inserted) co_return failed(inserted.error());
  out.kind = inserted->affected() == 1 ? ApprovalOutcome::Kind::counted : ApprovalOutcome::Kind::repeated;
  const std::string counted = "SELECT count(*) FROM approvals WHERE deployment_id = $1";
  auto n = co_await c.query(counted, id);
  if (!n) co_return failed(n.error());
  out.approvals = static_cast<int>(n->int64(0, 0));
  const ApprovalPlan plan = plan_approval({req.id, project, environment, req.reviewer, req.comment,
                                           out.kind == ApprovalOutcome::Kind::counted, out.approvals, req.required},
                                          now);
  if (plan.audit)
    if (auto r = co_await add_audit(c, *plan.audit); !r) co_return r.error();
  if (plan.queue_reason) {
    const TransitionRequest approved{req.id, Event::approved, req.reviewer, *plan.queue_reason, std::nullopt, {}};
    auto t = co_await transition_body(c, approved, nullptr, now);
    if (!t) co_return t.error();
    out.state = t->state;
  }
  co_return out;
}

asio::awaitable<Result<std::vector<std::int64_t>>> PgWrites::expire_due(PgConnection& c, std::int64_t now) {
  if (auto begun = co_await c.execute("BEGIN"); !begun) co_return failed(begun.error());
  // SKIP LOCKED: a deployment another replica is approving or expiring right now is left to it.
  const std::string due_sql = "SELECT id FROM deployments WHERE state = 'pending_approval' AND expires_at IS NOT NULL "
                              "AND expires_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED";
  Params at{text(now)};
  auto due = co_await c.query(due_sql, at);
  Result<std::vector<std::int64_t>> out = std::vector<std::int64_t>();
  if (!due) out = failed(due.error());
  for (int i = 0; out && due && i < due->size(); ++i) {
    const TransitionRequest expire{due->int64(i, 0), Event::expire, "shipgate", "not approved in time", std::nullopt, {}};
    auto t = co_await transition_body(c, expire, nullptr, now);
    if (!t) out = t.error();
    else if (t->applied) out->push_back(expire.id);
  }
  if (out) {
    if (auto committed = co_await c.execute("COMMIT"); !committed) co_return failed(committed.error());
    co_return out;
  }
  co_await c.roll_back();
  co_return out;
}

}  // namespace shipgate::orchestration
