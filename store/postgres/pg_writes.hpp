// The PostgreSQL store's writes, each one transaction on a connection the caller borrowed from the
// pool. They apply the same rules as the SQLite store (deployment_rules.hpp); what differs is that
// several replicas write at once, so every write that reads before it decides (which deployments a new
// one supersedes, whether a delivery was seen) holds a lock that makes replicas take turns:
// a transaction-scoped advisory lock per environment, and the deliveries table's key.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>

#include "common/clock.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_lanes.hpp"
#include "store/store.hpp"

// The channel replicas LISTEN on: a deployment became queued in the lane "<project>\n<environment>".
#define SHIPGATE_WORK_CHANNEL "shipgate_work"

namespace shipgate::orchestration {

// A PostgreSQL failure as the store reports it (io_error); the server's words go to the log.
boost::system::error_code pg_store_error(const PgError& e);
inline boost::system::error_code failed(const PgError& e) { return pg_store_error(e); }

class PgWrites {
 public:
  PgWrites(std::shared_ptr<const Clock> clock, bool record_events);
  // Whether state changes also write outbox events (the store's switch; see Store::record_events).
  void record_events(bool on) { record_events_ = on; }
  bool records_events() const { return record_events_; }

  // A webhook's deployments, its bad-version marks and audit entries, and its stored answer, in one
  // transaction. The same delivery key again (on any replica, even while the first is committing)
  // gets the first answer and changes nothing.
  boost::asio::awaitable<Result<IngestResult>> ingest(PgConnection& c, const IngestRequest& request);
  // Several webhooks in one transaction and a fixed number of statements (pg_ingest_batch.cpp), with
  // the outcome ingest() gives them one after the other, in order. nullopt when it rolled back instead
  // (a deployment it would supersede changed meanwhile, a statement failed): ingest them one by one.
  boost::asio::awaitable<std::optional<std::vector<IngestResult>>> ingest_batch(PgConnection& c,
                                                                                std::vector<const IngestRequest*> requests);

  // A state change with its history, audit and outbox rows, the marks it sets or clears, and the
  // deployments it creates (promotion), in one transaction. With `lease`, the change applies only while
  // that lease still holds the deployment's lane: a replica that lost it is refused (applied false).
  boost::asio::awaitable<Result<TransitionOutcome>> transition(PgConnection& c, const TransitionRequest& request,
                                                               const LaneLease* lease = nullptr);

  // One reviewer's approval (once per reviewer); the last one required queues the deployment, in the
  // same transaction. Two reviewers approving at once on two replicas are counted one after the other.
  boost::asio::awaitable<Result<ApprovalOutcome>> approve(PgConnection& c, const ApprovalRequest& request);

  // Every deployment waiting for approval past its expiry ends `expired`; their ids.
  boost::asio::awaitable<Result<std::vector<std::int64_t>>> expire_due(PgConnection& c, std::int64_t now_ms);

  // A running deployment's progress; with `lease`, only while that lease holds the lane (false: lost).
  boost::asio::awaitable<Result<bool>> record_result(PgConnection& c, std::int64_t id, const nlohmann::json& result,
                                                     const LaneLease* lease = nullptr);
  // Why a deployment waits; written only when it changes.
  boost::asio::awaitable<Result<void>> set_waiting_reason(PgConnection& c, std::int64_t id, const std::string& reason);
  boost::asio::awaitable<Result<void>> record_audit(PgConnection& c, const AuditEntry& entry);

  // The outbox (pg_writes_outbox.cpp): events replaced by their deliveries in one transaction, the
  // outcome of a delivery attempt, and the pruning of finished rows.
  boost::asio::awaitable<Result<void>> outbox_expand(PgConnection& c, const std::vector<std::int64_t>& event_ids,
                                                     const std::vector<OutboxItem>& deliveries);
  boost::asio::awaitable<Result<void>> outbox_record(PgConnection& c, const OutboxAttempt& attempt);
  boost::asio::awaitable<Result<std::int64_t>> outbox_prune(PgConnection& c, std::int64_t before_ms);

 private:
  boost::asio::awaitable<Result<std::vector<BadVersion>>> bad_marks(PgConnection& c, const std::string& project,
                                                                    const std::string& environment,
                                                                    const std::string& version, const std::string& sha);
  boost::asio::awaitable<Result<void>> mark_bad(PgConnection& c, const BadVersion& b, std::int64_t now);
  boost::asio::awaitable<Result<ApprovalOutcome>> approve_body(PgConnection& c, const ApprovalRequest& request,
                                                               std::int64_t now);
  boost::asio::awaitable<Result<TransitionOutcome>> transition_body(PgConnection& c, const TransitionRequest& request,
                                                                    const LaneLease* lease, std::int64_t now);
  using Done = Result<void>;
  // What plan_ingest needs to know of the environment `nd` joins.
  boost::asio::awaitable<Result<EnvironmentView>> environment_view(PgConnection& c, const NewDeployment& nd);
  boost::asio::awaitable<Result<IngestedDeployment>> insert_deployment(PgConnection& c, const NewDeployment& nd,
                                                                       const std::string& delivery, std::int64_t now);
  boost::asio::awaitable<Done> add_history(PgConnection& c, std::int64_t id, const std::string& project,
                                           const std::string& environment, std::optional<State> from, State to,
                                           const std::string& actor, const std::string& reason, std::int64_t at,
                                           Trigger trigger = Trigger::push);
  boost::asio::awaitable<Done> add_audit(PgConnection& c, const AuditEntry& e);
  boost::asio::awaitable<Done> add_event(PgConnection& c, std::int64_t deployment, std::string event, std::int64_t at);

  std::shared_ptr<const Clock> clock_;
  std::atomic<bool> record_events_;
};

}  // namespace shipgate::orchestration
