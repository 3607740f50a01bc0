// The SQLite store's writes: each runs on the writer thread inside its own savepoint of a group
// transaction (sqlite_writer.hpp) and returns an error when any statement of it fails, so the savepoint
// is undone whole: a state change is never kept without its history, audit and outbox rows.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "domain/deployment_rules.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

class SqliteWrites {
 public:
  // `record_events`: whether state changes also write outbox events (the store's switch).
  SqliteWrites(std::shared_ptr<const Clock> clock, const std::atomic<bool>& record_events);

  Result<void> add_audit(Db& db, const AuditEntry& e);
  Result<IngestResult> do_ingest(Db& db, const IngestRequest& req);
  Result<TransitionOutcome> do_transition(Db& db, const TransitionRequest& req);
  Result<ApprovalOutcome> do_approve(Db& db, const ApprovalRequest& req);
  Result<std::vector<std::int64_t>> do_expire(Db& db, std::int64_t now);
  Result<bool> claim_schedule_run(Db& db, const ScheduleRun& run, std::optional<std::int64_t> seen_due_ms);
  Result<void> finish_schedule_run(Db& db, const ScheduleRun& run, const AuditEntry& audit);
  Result<void> record_drift(Db& db, const DriftRecord& record);

 private:
  std::int64_t now_ms() const;
  Result<void> add_history(Db& db, std::int64_t id, const std::string& project, const std::string& environment,
                           std::optional<State> from, State to, const std::string& actor, const std::string& reason,
                           std::int64_t at, Trigger trigger = Trigger::push);
  // An outbox event (when events are recorded); `payload` carries what its notification says beyond the
  // deployment (a failed scheduled check's message).
  Result<void> add_event(Db& db, std::int64_t deployment, std::string_view event, std::int64_t at,
                         const nlohmann::json& payload = nlohmann::json::object());
  // The bad-version marks that name this version in the environment (names_version decides).
  // The version of the environment's newest succeeded deployment (what runs there), empty when none.
  Result<std::string> running_version(Db& db, const std::string& project, const std::string& environment);
  Result<std::vector<BadVersion>> bad_marks(Db& db, const std::string& project, const std::string& environment,
                                             const std::string& version, const std::string& sha);
  Result<std::vector<Unfinished>> unfinished(Db& db, const std::string& project, const std::string& environment);
  // What plan_ingest needs to know of the environment `nd` joins.
  Result<EnvironmentView> environment_view(Db& db, const NewDeployment& nd);
  Result<IngestedDeployment> insert_deployment(Db& db, const NewDeployment& nd, const std::string& delivery,
                                               std::int64_t now);
  Result<void> mark_bad(Db& db, const BadVersion& b, std::int64_t now);

  std::shared_ptr<const Clock> clock_;
  const std::atomic<bool>& record_events_;
};

}  // namespace shipgate::orchestration
