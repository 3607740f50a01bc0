#include "store/sqlite/sqlite_schema.hpp"

#include <spdlog/spdlog.h>

namespace shipgate::orchestration {

namespace {

// Schema migrations, applied in order; PRAGMA user_version records how many ran.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE deliveries (
  key TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL,
  source TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE deployments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  state TEXT NOT NULL,
  version TEXT NOT NULL,
  sha TEXT NOT NULL,
  ref TEXT NOT NULL,
  images TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  delivery TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  message TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '{}',
  lease_owner TEXT,
  lease_until INTEGER
);
CREATE INDEX deployments_by_env ON deployments(project, environment, id);
CREATE INDEX deployments_by_env_state ON deployments(project, environment, state, id);
CREATE INDEX deployments_by_state ON deployments(state, id);
CREATE TABLE history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id INTEGER NOT NULL REFERENCES deployments(id),
  at INTEGER NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX history_by_deployment ON history(deployment_id, id);
)sql",
    R"sql(
ALTER TABLE deployments ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deployments ADD COLUMN expires_at INTEGER;
ALTER TABLE deployments ADD COLUMN waiting_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX deployments_by_expiry ON deployments(state, expires_at);
CREATE TABLE approvals (
  deployment_id INTEGER NOT NULL REFERENCES deployments(id),
  reviewer TEXT NOT NULL,
  at INTEGER NOT NULL,
  comment TEXT NOT NULL,
  PRIMARY KEY (deployment_id, reviewer)
);
CREATE TABLE bad_versions (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  version TEXT NOT NULL,
  sha TEXT NOT NULL,
  marked_at INTEGER NOT NULL,
  deployment_id INTEGER,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  PRIMARY KEY (project, environment, version)
);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  project TEXT NOT NULL DEFAULT '',
  environment TEXT NOT NULL DEFAULT '',
  deployment_id INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_time ON audit(at, id);
)sql",
    R"sql(
CREATE TABLE final_counts (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  state TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (project, environment, state)
);
INSERT INTO final_counts (project, environment, state, n)
  SELECT project, environment, state, count(*) FROM deployments
  WHERE state NOT IN ('pending_approval', 'queued', 'running') GROUP BY project, environment, state;
)sql",
    R"sql(
ALTER TABLE deployments ADD COLUMN config_sha TEXT NOT NULL DEFAULT '';
)sql",
    R"sql(
ALTER TABLE deployments ADD COLUMN github_id INTEGER;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  destination TEXT NOT NULL DEFAULT '',
  deployment_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  outcome TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox(done_at, next_at);
CREATE INDEX outbox_by_deployment ON outbox(deployment_id, id);
)sql",
    // Lists filtered by project only (newest first, LIMIT n) walk this index and stop after n rows,
    // instead of sorting every deployment of the project.
    R"sql(
CREATE INDEX deployments_by_project ON deployments(project, id);
)sql",
    // Only waiting and running deployments (a handful) are looked up by state across projects, and
    // only pending approvals by expiry: partial indexes hold just those rows, so a deployment reaching
    // a final state leaves them instead of being written into them (fewer pages per commit).
    R"sql(
DROP INDEX deployments_by_state;
CREATE INDEX deployments_active ON deployments(state, id) WHERE state IN ('pending_approval', 'queued', 'running');
DROP INDEX deployments_by_expiry;
CREATE INDEX deployments_expiring ON deployments(expires_at) WHERE state = 'pending_approval' AND expires_at IS NOT NULL;
)sql",
    // GitHub delivery keys name their repository ("github:owner/name:<delivery id>"), so one project's
    // secret holder cannot reach another's stored answers. Keys stored before carry the repository as
    // the last word of their source ("github push acme/app"): rewritten, so a redelivery of an older
    // delivery still finds it.
    R"sql(
UPDATE deliveries SET key = 'github:' || lower(replace(source, rtrim(source, replace(source, ' ', '')), '')) || ':' ||
  substr(key, 8) WHERE key LIKE 'github:%' AND key NOT LIKE 'github:%/%:%';
)sql",
    // One row /readyz rewrites to learn whether the store can still commit. The lease columns of the
    // first schema were never used.
    R"sql(
CREATE TABLE health (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
ALTER TABLE deployments DROP COLUMN lease_owner;
ALTER TABLE deployments DROP COLUMN lease_until;
)sql",
    // The platform commit behind a config redeploy, for targets ({config_commit}).
    R"sql(
ALTER TABLE deployments ADD COLUMN config_commit TEXT NOT NULL DEFAULT '';
)sql",
    // The last run of each environment's schedule (its key: cron, zone, action).
    R"sql(
CREATE TABLE schedule_runs (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  schedule TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  finished_at INTEGER NOT NULL DEFAULT 0,
  deployment_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project, environment, schedule)
);
)sql",
    // How each environment's live Kubernetes Deployments compare with what was applied (drift).
    R"sql(
CREATE TABLE drift (
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  differences TEXT NOT NULL DEFAULT '[]',
  since_at INTEGER NOT NULL DEFAULT 0,
  checked_at INTEGER NOT NULL DEFAULT 0,
  deployment_id INTEGER NOT NULL DEFAULT 0,
  heals TEXT NOT NULL DEFAULT '[]',
  heal_limited INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project, environment)
);
)sql",
    // When each version's commit was made (a push's head_commit.timestamp): where lead time starts.
    R"sql(
ALTER TABLE deployments ADD COLUMN committed_at INTEGER NOT NULL DEFAULT 0;
)sql",
    // Reviewers signed in on the web page, by the SHA-256 of their cookie.
    R"sql(
CREATE TABLE web_sessions (
  id_sha256 TEXT PRIMARY KEY,
  reviewer TEXT NOT NULL,
  token_sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql",
    // A GitHub Actions deployment deploying outside waits unfinished too: the index of open
    // deployments names the same states as the queries that read it (sql_terms' unfinished_term).
    R"sql(
DROP INDEX deployments_active;
CREATE INDEX deployments_active ON deployments(state, id)
  WHERE state IN ('pending_approval', 'queued', 'running', 'deploying_externally');
)sql",
};

}  // namespace

// SQLite's quick integrity check (structure, not index contents): a damaged file is refused at start
// rather than failing some later write.
std::string quick_check(Db& db) {
  auto st = db.prepare("PRAGMA quick_check");
  if (st.step() != SQLITE_ROW) return "integrity check could not run: " + db.last_error();
  const std::string first = st.text(0);
  if (first != "ok") return "integrity check failed: " + first;
  return {};
}

std::string migrate(Db& db) {
  std::size_t applied = 0;
  {
    // Reset before migrating: an unfinished statement keeps tables locked against DROP INDEX.
    auto st = db.prepare("PRAGMA user_version");
    if (st.step() != SQLITE_ROW) return db.last_error();
    applied = static_cast<std::size_t>(st.int64(0));
  }
  const std::size_t total = std::size(kMigrations);
  if (applied > total) return "database schema version " + std::to_string(applied) + " is newer than this shipgate";
  for (std::size_t i = applied; i < total; ++i) {
    const std::string sql = std::string("BEGIN;") + kMigrations[i] + "PRAGMA user_version = " +
                            std::to_string(i + 1) + "; COMMIT;";
    if (db.exec(sql.c_str()) != SQLITE_OK) {
      std::string err = db.last_error();
      db.exec("ROLLBACK");
      return "migration " + std::to_string(i + 1) + " failed: " + err;
    }
    spdlog::info("store: applied schema migration {}", i + 1);
  }
  return {};
}

}  // namespace shipgate::orchestration
