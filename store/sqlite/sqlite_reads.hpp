// The SQLite store's reads, on their own connection (WAL lets them run beside the writer). Short,
// indexed and synchronous; one at a time per connection.
#pragma once
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

class SqliteReads {
 public:
  explicit SqliteReads(Db& db) : db_(db) {}

  Result<std::optional<Deployment>> deployment(std::int64_t id, bool with_history);
  Result<std::vector<Deployment>> deployments(const DeploymentFilter& f);
  Result<std::optional<Deployment>> next_to_run(const std::string& project, const std::string& environment);
  Result<std::vector<std::pair<std::string, std::string>>> lanes_with_work();
  Result<std::vector<OutboxItem>> outbox_due(std::int64_t now_ms, int limit);
  Result<std::set<std::string>> unfinished_config_shas();
  Result<std::optional<Deployment>> find_version(const std::string& project, const std::string& version);
  Result<std::vector<StateCount>> state_counts();
  Result<std::vector<BadVersion>> bad_versions(const std::string& project, const std::string& environment);
  Result<std::vector<AuditEntry>> audit(const AuditFilter& f);
  Result<void> ping();
  Result<std::vector<ScheduleRun>> schedule_runs();
  Result<std::vector<DriftState>> drift_states();
  Result<std::optional<WebSession>> find_session(const std::string& id_sha256, std::int64_t now_ms);
  // Whether any finished outbox row is older than `before_ms` (what a prune would delete).
  Result<bool> outbox_prunable(std::int64_t before_ms);

 private:
  Db& db_;
  std::mutex mutex_;
};

}  // namespace shipgate::orchestration
